"""Checksums hashed on a dask.distributed cluster whose workers see the dataset at the same path.

``package --scheduler ADDRESS`` (or ``EMPIAR_VALIDATE_SCHEDULER``) sends the files to hash to
the cluster in batches, largest files first, and collects the digests as they complete; the
cache, SHA256SUMS and MD5SUMS are then built exactly as after a local run (see
:func:`empiar_validate.package.checksums.checksum_files`, which drives this module).

What splitting can and cannot do. SHA-256 and MD5 are Merkle–Damgård hashes: the digest of a
file is a chain over its bytes in order, and digests of byte ranges cannot be combined into the
file's digest, nor can hashlib's running state be saved or moved to another machine. So a
file's SHA256SUMS line always costs one sequential read of the whole file on one worker; byte
ranges hashed in parallel would give per-range digests that SHA256SUMS cannot use, and a
per-range cache could not resume a whole-file digest either. What is split is the work on one
file across two threads of its worker (SHA-256 in one, MD5 in the other, as locally), and the
dataset across workers: many files in parallel, small files batched so that a task is worth
its scheduling, each large file a task of its own. A killed worker or client therefore loses
at most the files in flight, which are hashed again from their first byte.

Only this module imports distributed, and only when a scheduler is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

from empiar_validate.package.checksum_cache import Stamp
from empiar_validate.package.digest import SPLIT_MIN_BYTES, Outcome, hash_batch

SCHEDULER_ENV = "EMPIAR_VALIDATE_SCHEDULER"
BATCH_BYTES = 256 << 20  # a task of ~0.5 s of hashing: scheduling overhead (~1 ms) is noise
BATCH_FILES = 64  # ...but no more than this many files, so a kill loses little
CONNECT_TIMEOUT_S = 30


class ClusterError(RuntimeError):
    """The cluster could not be reached or failed; nothing was written, the cache kept."""


def require_distributed() -> None:
    """Raise ``ImportError`` with the install command when dask.distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(
            "hashing on a Dask cluster needs dask.distributed, which is not installed: "
            "pip install 'empiar-validate[distributed]'") from None


def batches(pending: Sequence[tuple[str, str, Stamp]]) -> list[list[tuple[str, str, bool]]]:
    """Group ``(path, rel, stamp)`` (largest first) into tasks of ``(abs_path, rel, split)``.

    A file of :data:`BATCH_BYTES` or more is a task alone (and split across two threads of its
    worker when large enough); smaller files are gathered until a task holds BATCH_BYTES or
    BATCH_FILES. Paths are made absolute: a worker's working directory is not ours.
    """
    out: list[list[tuple[str, str, bool]]] = []
    current: list[tuple[str, str, bool]] = []
    size = 0
    for path, rel, stamp in pending:
        item = (os.path.abspath(path), rel, stamp.size >= SPLIT_MIN_BYTES)
        if stamp.size >= BATCH_BYTES:
            out.append([item])
            continue
        current.append(item)
        size += stamp.size
        if size >= BATCH_BYTES or len(current) >= BATCH_FILES:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out


def stamp_on_worker(path: str) -> tuple[int, int, int] | str:
    """Run on every worker: the file's stamp as that worker sees it, or why it cannot."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def connect(address: str):  # type: ignore[no-untyped-def]
    """A client of the scheduler at ``address`` (``tcp://host:port``, ``host:port``, or the
    path of a scheduler file as ``dask scheduler --scheduler-file`` and dask-mpi write)."""
    from distributed import Client

    try:
        if os.path.isfile(address):
            return Client(scheduler_file=address, timeout=CONNECT_TIMEOUT_S,
                          set_as_default=False)
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot connect to the Dask scheduler at {address}: {exc}") from exc


def check_same_files(client, path: str, stamp: Stamp) -> None:  # type: ignore[no-untyped-def]
    """Every connected worker must see ``path`` with the stamp this machine sees, or the sums
    and the cache would describe other files (a local disk, another mount)."""
    seen = client.run(stamp_on_worker, path, on_error="return")
    mine = (stamp.size, stamp.mtime_ns, stamp.inode)
    for worker, theirs in sorted(seen.items()):
        if theirs != mine:
            what = theirs if isinstance(theirs, str) else (
                f"size {theirs[0]}, mtime_ns {theirs[1]}, inode {theirs[2]}"
                if isinstance(theirs, tuple) else repr(theirs))
            raise ClusterError(
                f"worker {worker} does not see {path} as this machine does ({what}; here: "
                f"size {mine[0]}, mtime_ns {mine[1]}, inode {mine[2]}); the workers must "
                "mount the dataset at the same path")


def hash_on_cluster(address: str, pending: Sequence[tuple[str, str, Stamp]],
                    describe_done: Callable[[], str]) -> Iterator[Outcome]:
    """Yield the outcome of every pending file as the cluster at ``address`` completes it.

    ``describe_done`` tells, for an error message, how much is already safe in the cache.
    """
    require_distributed()
    from distributed import as_completed

    client = connect(address)
    try:
        if pending:
            path, _, stamp = pending[0]
            check_same_files(client, os.path.abspath(path), stamp)
        futures = [client.submit(hash_batch, batch, pure=False) for batch in batches(pending)]
        try:
            for future, result in as_completed(futures, with_results=True, loop=client.loop):
                future.release()
                yield from result
        except ClusterError:
            raise
        except Exception as exc:  # KilledWorker, lost scheduler, cancelled futures...
            raise ClusterError(
                f"the Dask cluster at {address} failed: {type(exc).__name__}: {exc}; "
                f"{describe_done()}") from exc
    finally:
        client.close()
