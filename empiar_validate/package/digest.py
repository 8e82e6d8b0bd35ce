"""Hashing one file: SHA-256 and MD5 in one read pass, constant memory, here or on a Dask worker.

Apart from the driver (:mod:`empiar_validate.package.checksums`) so that the cluster module can
ship :func:`hash_batch` to workers without importing the driver that imports it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import stat
import threading
import time
from collections.abc import Callable

from empiar_validate.package.checksum_cache import Stamp
from empiar_validate.paths import READ_FLAGS

CHUNK_BYTES = 1 << 20
RACY_NS = 2_000_000_000  # a file modified this close to its hashing may change again unseen
SPLIT_MIN_BYTES = 64 * CHUNK_BYTES  # below this a helper thread costs more than it saves
REPORT_BYTES = 16 * CHUNK_BYTES  # progress within a large file, this often



def _open_regular(path: str):  # type: ignore[no-untyped-def]
    """Open read-only and unbuffered; refuse anything that is not a regular file (no FIFO hang)."""
    fd = os.open(path, READ_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        with contextlib.suppress(AttributeError, OSError):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        return os.fdopen(fd, "rb", buffering=0), st
    except BaseException:
        os.close(fd)
        raise


def digest_file(path: str, *, split: bool = False, chunk: int = CHUNK_BYTES,
                on_bytes: Callable[[int], None] | None = None) -> tuple[str, str]:
    """``(sha256, md5)`` hex digests of ``path`` in one read pass and constant memory.

    With ``split`` the MD5 runs in a helper thread on the same buffers while this thread reads and
    updates SHA-256, so one large file uses two cores. ``on_bytes(n)``, when given, is told
    every :data:`REPORT_BYTES` read (a progress bar then moves during a 100 GB file).
    """
    fh, _ = _open_regular(path)
    with fh:
        if split:
            return _digest_split(fh, chunk, on_bytes)
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        buf = bytearray(chunk)
        view = memoryview(buf)
        unreported = 0
        while n := fh.readinto(buf):
            part = view[:n]
            sha.update(part)
            md5.update(part)
            unreported += n
            if on_bytes is not None and unreported >= REPORT_BYTES:
                on_bytes(unreported)
                unreported = 0
        return sha.hexdigest(), md5.hexdigest()


def _digest_split(fh, chunk: int,  # type: ignore[no-untyped-def]
                  on_bytes: Callable[[int], None] | None) -> tuple[str, str]:
    """Reader+SHA-256 here, MD5 in a helper; three rotating buffers bound the memory."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    views = [memoryview(bytearray(chunk)) for _ in range(3)]
    free: queue.Queue[int] = queue.Queue()
    todo: queue.Queue[tuple[int, int] | None] = queue.Queue()
    for i in range(len(views)):
        free.put(i)

    def md5_worker() -> None:
        while (item := todo.get()) is not None:
            i, n = item
            md5.update(views[i][:n])
            free.put(i)

    helper = threading.Thread(target=md5_worker, name="md5", daemon=True)
    helper.start()
    unreported = 0
    try:
        while True:
            i = free.get()
            n = fh.readinto(views[i])
            if not n:
                break
            sha.update(views[i][:n])
            todo.put((i, n))
            unreported += n
            if on_bytes is not None and unreported >= REPORT_BYTES:
                on_bytes(unreported)
                unreported = 0
    finally:
        todo.put(None)
        helper.join()
    return sha.hexdigest(), md5.hexdigest()


# --- one file, here or on a cluster worker --------------------------------------------------

# What hashing one file gave, as plain picklable tuples (they cross to and from Dask workers):
#   ("ok", rel, size, mtime_ns, inode, sha256, md5, cacheable)
#   ("changed", rel)          the stamp differed before and after the read
#   ("unreadable", rel, why)  open/read/stat failed
Outcome = tuple


def hash_one(path: str, rel: str, split: bool, now_ns: Callable[[], int] = time.time_ns,
             on_bytes: Callable[[int], None] | None = None) -> Outcome:
    """Hash ``path`` between two ``stat`` calls; ``cacheable`` is false for a file modified
    within :data:`RACY_NS` of the read (it may change again within the mtime's resolution).
    ``on_bytes`` is passed to :func:`digest_file`."""
    started = now_ns()
    try:
        before = os.stat(path)
        sha, md5 = digest_file(path, split=split, on_bytes=on_bytes)
        after = os.stat(path)
    except OSError as exc:
        return ("unreadable", rel, exc.strerror or str(exc))
    current = Stamp.of(before)
    if current != Stamp.of(after):
        return ("changed", rel)
    return ("ok", rel, current.size, current.mtime_ns, current.inode, sha, md5,
            current.mtime_ns < started - RACY_NS)


def hash_batch(items: list[tuple[str, str, bool]]) -> list[Outcome]:
    """A Dask task: :func:`hash_one` for each ``(absolute path, rel, split)``, in order."""
    return [hash_one(path, rel, split) for path, rel, split in items]
