"""SHA-256 and MD5 of every file in a dataset: one read pass, constant memory, parallel, cached.

Datasets run to terabytes, so the costs that matter are reads and CPU. Each file is read once in
1 MiB chunks into one reused buffer, and both digests are updated from the same bytes. hashlib
releases the GIL for large updates, so a thread pool keeps every core busy without the pickling
and start-up cost of processes; a file much larger than its share of the work is split across
two threads (SHA-256 in one, MD5 in the other) so a single 100 GB tomogram still uses both
cores. A cache keyed by relative path, size, mtime_ns and inode means a re-run hashes only new or
changed files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.package.checksum_cache import CACHE_NAME, ChecksumCache, Stamp
from empiar_validate.paths import display_path
from empiar_validate.progress import progress

CHUNK_BYTES = 1 << 20
RACY_NS = 2_000_000_000  # a file modified this close to its hashing may change again unseen
SAVE_EVERY_S = 60.0  # fold the journal into the cache now and then
SPLIT_MIN_BYTES = 64 * CHUNK_BYTES  # below this a helper thread costs more than it saves

P_UNREADABLE = rule(
    "P130", Severity.ERROR, "file cannot be read to compute its checksum",
    "Fix the permissions or replace the file; it is not listed in SHA256SUMS/MD5SUMS.",
)
P_CHANGED = rule(
    "P131", Severity.WARNING, "file changed while its checksum was computed",
    "Wait until the data is final (no acquisition or processing still writing) and run again.",
)
P_CACHE_IGNORED = rule(
    "P132", Severity.INFO, "checksum cache unreadable; every file was hashed",
    "Nothing to do: the cache was rebuilt. Delete it if this repeats.",
)
P_FROM_POINTER = rule(
    "P133", Severity.INFO, "content not present: SHA-256 taken from the Git LFS pointer, no MD5",
    "Run `git lfs pull` before packaging to list every file in MD5SUMS too.",
)


@dataclass(frozen=True, slots=True)
class FileSums:
    """Both digests of one file, ``rel`` being its path relative to the dataset root.

    ``rel`` is an OS-level string (undecodable bytes kept as surrogates), so
    ``os.fsencode(rel)`` gives the exact bytes the checksum files must contain.
    """

    rel: str
    sha256: str
    md5: str | None  # None: content not present, its SHA-256 known from a Git LFS pointer
    size: int


@dataclass(slots=True)
class ChecksumRun:
    """The outcome: sums sorted by path bytes, how many were hashed or reused, and problems."""

    sums: list[FileSums] = field(default_factory=list)
    hashed: int = 0
    reused: int = 0
    hashed_bytes: int = 0
    findings: list[Finding] = field(default_factory=list)


def default_jobs() -> int:
    """Hashing is CPU bound: one thread per core."""
    return os.cpu_count() or 1


def _open_regular(path: str):  # type: ignore[no-untyped-def]
    """Open read-only and unbuffered; refuse anything that is not a regular file (no FIFO hang)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
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


def digest_file(path: str, *, split: bool = False, chunk: int = CHUNK_BYTES) -> tuple[str, str]:
    """``(sha256, md5)`` hex digests of ``path`` in one read pass and constant memory.

    With ``split`` the MD5 runs in a helper thread on the same buffers while this thread reads and
    updates SHA-256, so one large file uses two cores.
    """
    fh, _ = _open_regular(path)
    with fh:
        if split:
            return _digest_split(fh, chunk)
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        buf = bytearray(chunk)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            part = view[:n]
            sha.update(part)
            md5.update(part)
        return sha.hexdigest(), md5.hexdigest()


def _digest_split(fh, chunk: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
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
    try:
        while True:
            i = free.get()
            n = fh.readinto(views[i])
            if not n:
                break
            sha.update(views[i][:n])
            todo.put((i, n))
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


def hash_one(path: str, rel: str, split: bool,
             now_ns: Callable[[], int] = time.time_ns) -> Outcome:
    """Hash ``path`` between two ``stat`` calls; ``cacheable`` is false for a file modified
    within :data:`RACY_NS` of the read (it may change again within the mtime's resolution)."""
    started = now_ns()
    try:
        before = os.stat(path)
        sha, md5 = digest_file(path, split=split)
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


# --- driver -----------------------------------------------------------------------------------

def checksum_files(
    files: Iterable[tuple[str, str]],
    *,
    cache: ChecksumCache | None = None,
    jobs: int | None = None,
    quiet: bool = False,
    now_ns: Callable[[], int] = time.time_ns,
    absent: dict[str, tuple[str, int]] | None = None,
    scheduler: str | None = None,
) -> ChecksumRun:
    """Digest every ``(path, rel)``; reuse cached digests whose stamp still matches.

    Unreadable files and files that change while being read become findings and are left out of
    the sums, so the checksum files never hold a digest that cannot verify. ``absent`` maps the
    ``rel`` of a file whose content is not present (a Git LFS pointer) to the content's SHA-256
    and size: that digest is listed without reading anything (no MD5 is known for it).
    With ``scheduler`` (a dask.distributed address) the files are hashed on that cluster
    (:mod:`empiar_validate.package.cluster`, which may raise ``ClusterError``); the result,
    the cache and the checksum files are the same as from a local run.
    """
    run = ChecksumRun()
    cache = cache or ChecksumCache(None)
    if cache.problem:
        run.findings.append(Finding.of(P_CACHE_IGNORED, cache.problem, file=CACHE_NAME))
    by_rel: dict[str, FileSums] = {}
    pending: list[tuple[str, str, Stamp]] = []
    absent = absent or {}
    for path, rel in files:
        if rel in absent:
            by_rel[rel] = FileSums(rel, absent[rel][0], None, absent[rel][1])
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            run.findings.append(_unreadable(rel, exc))
            continue
        if not stat.S_ISREG(st.st_mode):
            continue  # special files and directories are the readers' findings, not sums
        stamp = Stamp.of(st)
        hit = cache.get(rel, stamp)
        if hit is not None:
            by_rel[rel] = FileSums(rel, hit[0], hit[1], stamp.size)
            run.reused += 1
        else:
            pending.append((path, rel, stamp))
    pending.sort(key=lambda p: (-p[2].size, os.fsencode(p[1])))  # largest first: short tail
    jobs = max(1, jobs or default_jobs())
    total = sum(p[2].size for p in pending)
    last_save = time.monotonic()

    def collect(outcome: Outcome) -> None:
        nonlocal last_save
        kind, rel = outcome[0], outcome[1]
        if kind == "ok":
            _, _, size, mtime_ns, inode, sha, md5, cacheable = outcome
            if cacheable:
                cache.put(rel, Stamp(size, mtime_ns, inode), sha, md5)
            by_rel[rel] = FileSums(rel, sha, md5, size)
            run.hashed += 1
            run.hashed_bytes += size
        elif kind == "changed":
            run.findings.append(Finding.of(
                P_CHANGED, "changed while being read; not listed in SHA256SUMS/MD5SUMS",
                file=display_path(rel)))
        else:
            run.findings.append(Finding.of(P_UNREADABLE, outcome[2], file=display_path(rel)))
        if time.monotonic() - last_save > SAVE_EVERY_S:
            cache.save()
            last_save = time.monotonic()

    def split(size: int) -> bool:
        return jobs > 1 and size * jobs > total and size >= SPLIT_MIN_BYTES

    with progress("computing checksums", total, quiet=quiet, unit="bytes") as tick:
        if scheduler is not None:
            from empiar_validate.package.cluster import hash_on_cluster

            sizes = {rel: stamp.size for _, rel, stamp in pending}
            for outcome in hash_on_cluster(scheduler, pending, lambda: (
                    f"the {run.hashed} file(s) hashed so far are kept in the cache; "
                    "run again to hash the rest")):
                collect(outcome)
                tick(sizes[outcome[1]])
        elif jobs == 1:
            for path, rel, stamp in pending:
                collect(hash_one(path, rel, split(stamp.size), now_ns))
                tick(stamp.size)
        else:
            # a bounded window of futures: a million small files must not mean a million
            # Future objects in memory
            todo = iter(pending)
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="hash") as pool:
                running: dict[Future[Outcome], int] = {}

                def submit_next() -> None:
                    p = next(todo, None)
                    if p is not None:
                        running[pool.submit(hash_one, p[0], p[1], split(p[2].size),
                                            now_ns)] = p[2].size

                try:
                    for _ in range(jobs * 4):
                        submit_next()
                    while running:
                        done, _ = wait(running, timeout=SAVE_EVERY_S,
                                       return_when=FIRST_COMPLETED)
                        for fut in done:
                            size = running.pop(fut)
                            collect(fut.result())
                            tick(size)
                            submit_next()
                finally:  # interrupted: what the threads finished still goes into the journal
                    pool.shutdown(wait=True, cancel_futures=True)
                    for fut in running:
                        if not fut.cancelled() and fut.exception() is None:
                            collect(fut.result())
    run.sums = [by_rel[k] for k in sorted(by_rel, key=os.fsencode)]
    listed = sorted((k for k in absent if k in by_rel), key=os.fsencode)
    if listed:
        run.findings.append(Finding.of(
            P_FROM_POINTER, f"{len(listed)} file(s) listed in SHA256SUMS with the SHA-256 of "
            "their Git LFS pointer and left out of MD5SUMS: "
            + ", ".join(display_path(k) for k in listed[:5])
            + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")))
    cache.save(keep=by_rel)
    return run


def _unreadable(rel: str, exc: OSError) -> Finding:
    return Finding.of(P_UNREADABLE, exc.strerror or str(exc), file=display_path(rel))


# --- checksum files ---------------------------------------------------------------------------

def checksum_line(digest: str, rel: str) -> bytes:
    """One line as GNU ``sha256sum``/``md5sum`` write it (two spaces, text mode).

    A name holding a backslash, newline or carriage return is escaped (``\\\\``, ``\\n``,
    ``\\r``) and the line starts with a backslash, which ``sha256sum -c`` reads back.

    >>> checksum_line("ab", "a b"), checksum_line("ab", "x\\ny")
    (b'ab  a b\\n', b'\\\\ab  x\\\\ny\\n')
    """
    name = os.fsencode(rel)
    if any(c in name for c in (b"\\", b"\n", b"\r")):
        name = name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
        return b"\\" + digest.encode() + b"  " + name + b"\n"
    return digest.encode() + b"  " + name + b"\n"


def format_checksums(sums: Iterable[FileSums], algorithm: str) -> bytes:
    """The whole ``SHA256SUMS`` (``algorithm="sha256"``) or ``MD5SUMS`` (``"md5"``) content."""
    ordered = sorted(sums, key=lambda s: os.fsencode(s.rel))
    return b"".join(checksum_line(digest, s.rel) for s in ordered
                    if (digest := getattr(s, algorithm)) is not None)
