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

import os
import stat
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.package.checksum_cache import CACHE_NAME, ChecksumCache, Stamp
from empiar_validate.package.digest import (  # noqa: F401  (digest_file: public, tested)
    CHUNK_BYTES,
    SPLIT_MIN_BYTES,
    Outcome,
    digest_file,
    hash_one,
)
from empiar_validate.paths import display_path
from empiar_validate.progress import progress

SAVE_EVERY_S = 60.0  # fold the journal into the cache now and then

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

        def hash_here(path: str, rel: str, stamp: Stamp) -> tuple[Outcome, int]:
            """Hash locally, moving the bar as the bytes are read; returns the outcome and
            how many bytes the bar was already told about."""
            reported = 0

            def on_bytes(n: int) -> None:
                nonlocal reported
                reported += n
                tick(n)

            outcome = hash_one(path, rel, split(stamp.size), now_ns, on_bytes)
            return outcome, reported

        if scheduler is not None and pending:  # everything cached: no cluster needed
            from empiar_validate.package.cluster import hash_on_cluster

            sizes = {rel: stamp.size for _, rel, stamp in pending}
            for outcome in hash_on_cluster(scheduler, pending, lambda: (
                    f"the {run.hashed} file(s) hashed so far are kept in the cache; "
                    "run again to hash the rest")):
                collect(outcome)
                tick(sizes[outcome[1]])
        elif jobs == 1:
            for path, rel, stamp in pending:
                outcome, reported = hash_here(path, rel, stamp)
                collect(outcome)
                tick(max(0, stamp.size - reported))
        else:
            # a bounded window of futures: a million small files must not mean a million
            # Future objects in memory
            todo = iter(pending)
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="hash") as pool:
                running: dict[Future[tuple[Outcome, int]], int] = {}

                def submit_next() -> None:
                    p = next(todo, None)
                    if p is not None:
                        running[pool.submit(hash_here, *p)] = p[2].size

                try:
                    for _ in range(jobs * 4):
                        submit_next()
                    while running:
                        done, _ = wait(running, timeout=SAVE_EVERY_S,
                                       return_when=FIRST_COMPLETED)
                        for fut in done:
                            size = running.pop(fut)
                            outcome, reported = fut.result()
                            collect(outcome)
                            tick(max(0, size - reported))
                            submit_next()
                finally:  # interrupted: what the threads finished still goes into the journal
                    pool.shutdown(wait=True, cancel_futures=True)
                    for fut in running:
                        if not fut.cancelled() and fut.exception() is None:
                            collect(fut.result()[0])
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
