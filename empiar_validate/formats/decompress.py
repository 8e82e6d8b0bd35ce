"""Compressed TIFF movies (``.tiff.bz2``, ``.tif.gz``): the IFD chain through a decompressed stream.

A TIFF's frame count is the length of its IFD chain, and a camera writing page by page puts an
IFD after every frame, so the last IFD of an EPU K3 movie lies as deep in the decompressed
stream as the movie is long. Random access into gzip or bzip2 means decompressing everything
before the offset; this module does that as cheaply as it can and no further:

- the stream is decompressed only as far as the walker asks: it stops at the last IFD (a zero
  next-IFD offset), never at the end of the file by default;
- never past a per-file **byte budget** (:data:`DEFAULT_BUDGET`, raised with ``--decompress-
  budget``): a chain longer than that gives an *unknown* frame count, never a wrong one;
- a file of more than :data:`POOL_MIN_BYTES` on disk is handed to a pool of worker
  **processes** (decompression is CPU-bound; one per core), so several movies are
  decompressed at once while the calling threads wait; smaller files never pay for a process;
- inside a worker, a file of at least :data:`PARALLEL_MIN_BYTES` on disk (a real K3 movie:
  hundreds of bzip2 blocks) is read with a kept parallel decompressor when it is installed
  (``rapidgzip`` for gzip, ``indexed_bzip2`` for bzip2: the ``compressed`` extra) using the
  cores the other walks in flight leave idle (one movie alone gets them all); smaller files,
  and every file when each has a core, use the standard library, which is as fast on one
  thread (measured: 0.27-0.45 s of CPU for a 42 MB bzip2 stream either way, and
  ``indexed_bzip2`` with two threads on a 1.8 MB file cost 0.5-0.8 s, slower in wall time
  too on this shared 2-core machine).

No pixel data is kept: only the bytes up to the first IFD's tag values are returned (for vendor
metadata), and at most :data:`KEEP_BYTES` plus a sliding window are held while walking.
"""

from __future__ import annotations

import atexit
import os
import struct
import threading
import zlib
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, BinaryIO

DEFAULT_BUDGET = 64 << 20  # decompressed bytes per file at most, unless the user raises it
_budget = DEFAULT_BUDGET
_workers: int | None = None  # None: one per core
_pool: Executor | None = None
_pool_lock = threading.RLock()
_in_flight = 0  # walks submitted to the pool and not finished


def set_budget(nbytes: int) -> None:
    """Set the per-file decompression budget (the CLI's ``--decompress-budget``)."""
    global _budget
    if nbytes < 1:
        raise ValueError("the decompression budget must be positive")
    _budget = nbytes


def budget() -> int:
    """The per-file decompression budget in bytes."""
    return _budget


def set_workers(n: int | None) -> None:
    """Worker processes for deep streams (``None``: one per core); 1 decompresses in-process."""
    global _workers
    _workers = n


def worker_count() -> int:
    """Worker processes the pool runs: what keeps them all busy is this many reads in flight."""
    return _workers or os.cpu_count() or 1


def walked_in_workers(name: str) -> bool:
    """True for a compressed TIFF movie (``.tiff.bz2``, ``.eer.gz``...), whose frame count is
    CPU work in a worker process; callers keep :func:`worker_count` of them in flight."""
    lower = name.lower()
    for suffix in (".gz", ".bz2"):
        if lower.endswith(suffix):
            return lower[: -len(suffix)].endswith((".tif", ".tiff", ".eer"))
    return False


def parse_size(text: str) -> int:
    """``64M``, ``2G``, ``512k``, ``1000000`` -> bytes (binary units); ValueError otherwise."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    scale = units.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in units else value
    try:
        result = int(float(number) * scale)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (e.g. 64M, 2G)") from None
    if result < 1:
        raise ValueError(f"not a positive size: {text!r}")
    return result


def open_stream(path: str, compression: str, threads: int = 1) -> BinaryIO:
    """A forward-readable decompressed stream; the parallel library when installed and
    ``threads`` > 1, else the standard library (faster on one thread)."""
    if threads > 1:
        try:
            if compression == "gzip":
                import rapidgzip

                return rapidgzip.open(path, parallelization=threads)  # type: ignore[no-any-return]
            import indexed_bzip2

            return indexed_bzip2.open(path, parallelization=threads)  # type: ignore[no-any-return]
        except ImportError:
            pass
    if compression == "gzip":
        import gzip

        return gzip.open(path, "rb")
    import bz2

    return bz2.open(path, "rb")


@dataclass(slots=True)
class StreamWalk:
    """What walking a compressed TIFF found: the chain, the decompressed bytes of the first IFD
    and its tag values (for vendor metadata), the budget it ran under, the bytes it
    decompressed, and an error message when the stream itself is corrupt."""

    chain: Any
    prefix: bytes
    limit: int
    decompressed: int
    error: str | None = None


KEEP_BYTES = 64 << 20  # the stream's first bytes kept in memory (the first IFD's tags)
_BEHIND = 8 << 20  # bytes kept behind the read position past KEEP_BYTES
_CHUNK = 1 << 20  # decompressed bytes asked of the stream at once


class StreamBytes:
    """The walker's byte access (``tiff._Bytes``'s interface) over a forward-only stream.

    Decompresses only as far as asked, never past ``limit``, and keeps the first
    :data:`KEEP_BYTES` plus a window of :data:`_BEHIND` bytes behind the furthest read, so a
    raised budget of gigabytes costs time, not memory. IFD chains run forward in movies;
    one that jumps back past the window raises ``ValueError`` (reported as unreadable).
    """

    streamed = True

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self.fh = fh
        self.limit = limit
        self.size: int | None = None  # known once the stream has ended
        self.keep = min(limit, KEEP_BYTES)
        self.buf = bytearray()  # bytes [0, len(buf)) while len(buf) <= keep
        self.win = bytearray()  # then bytes [win_start, pos)
        self.win_start = 0
        self.pos = 0  # decompressed bytes produced so far

    def beyond_reach(self, end: int) -> bool:
        """True when bytes up to ``end`` may exist but lie past the budget."""
        return end > self.limit and self.size is None

    def past_end(self, end: int) -> bool:
        """True when the stream is known to end before ``end``."""
        return self.size is not None and end > self.size

    def _fill(self, start: int, end: int) -> None:
        """Decompress up to ``end``; past the kept head, drop what lies more than
        :data:`_BEHIND` bytes before ``start`` (the walker never needs it again)."""
        end = min(end, self.limit)
        while self.pos < end and self.size is None:
            want = min(max(end - self.pos, _CHUNK), self.limit - self.pos)
            chunk = self.fh.read(want)
            if len(chunk) < want:
                self.size = self.pos + len(chunk)
            room = max(0, self.keep - self.pos)
            if room:
                self.buf += chunk[:room]
                self.win_start = len(self.buf)
            if len(chunk) > room:
                self.win += chunk[room:]
                drop = start - _BEHIND - self.win_start
                if drop > _BEHIND:  # trimmed in large steps: a deletion moves the rest
                    del self.win[:drop]
                    self.win_start += drop
            self.pos += len(chunk)

    def read_at(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes from ``offset`` (fewer where the stream or the budget ends)."""
        self._fill(offset, offset + n)
        end = min(offset + n, self.pos)
        if end <= len(self.buf):
            return bytes(self.buf[offset:end])
        if offset < self.win_start:
            if offset < len(self.buf) and self.win_start == len(self.buf):
                return bytes(self.buf[offset:]) + bytes(self.win[: end - self.win_start])
            raise ValueError(f"the IFD chain jumps back to byte {offset}, behind the "
                             f"decompressed window")
        return bytes(self.win[offset - self.win_start:end - self.win_start])

    def get(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes from ``offset``."""
        return self.read_at(offset, n)

    def window(self, offset: int, n: int) -> tuple[bytes, int]:
        """``(buffer, 0)`` holding at least ``n`` bytes from ``offset`` where they exist."""
        return self.read_at(offset, max(n, 1024)), 0


def walk_file(path: str, compression: str, limit: int, threads: int = 1) -> StreamWalk:
    """Walk the IFD chain of one compressed TIFF through at most ``limit`` decompressed bytes.

    Runs in a worker process or in the caller; never raises for a bad file.
    """
    from empiar_validate.formats.tiff_ifd import walk as _walk

    try:
        with open_stream(path, compression, threads) as fh:
            data = StreamBytes(fh, limit)
            chain = _walk(data)  # type: ignore[arg-type]
            prefix = b""
            if chain.first and chain.first_extent <= data.keep:
                if not data.beyond_reach(chain.first_extent):
                    data.read_at(max(chain.first_extent - 1, 0), 1)  # the first IFD's values
                prefix = bytes(data.buf[:chain.first_extent])
            return StreamWalk(chain, prefix, limit, data.pos)
    except (OSError, EOFError, ValueError, struct.error, zlib.error, RuntimeError) as exc:
        return StreamWalk(None, b"", limit, 0, f"{type(exc).__name__}: {exc}")


POOL_MIN_BYTES = 1 << 20  # compressed files smaller than this are walked in the caller
PARALLEL_MIN_BYTES = 32 << 20  # compressed files from this size get a parallel decoder


def walk(path: str, compression: str, size: int) -> StreamWalk:
    """Walk a compressed TIFF of ``size`` bytes on disk under the budget: small files in this
    thread, larger ones in the worker pool (see the module docstring)."""
    global _in_flight
    cores = os.cpu_count() or 1
    workers = _workers or cores
    if size < POOL_MIN_BYTES:
        return walk_file(path, compression, _budget)
    if workers <= 1:
        return walk_file(path, compression, _budget,
                         cores if size >= PARALLEL_MIN_BYTES else 1)
    with _pool_lock:
        _in_flight += 1
        # cores left idle by the other walks in flight go to this file's decompressor
        # a parallel decoder splits a stream by blocks (900 kB of bzip2): it pays only for a
        # large file, and only with the cores the other walks in flight leave idle
        threads = (max(1, cores // min(_in_flight, workers))
                   if size >= PARALLEL_MIN_BYTES else 1)
    try:
        return _executor(workers).submit(walk_file, path, compression, _budget,
                                         threads).result()
    finally:
        with _pool_lock:
            _in_flight -= 1


def _executor(workers: int) -> Executor:
    """The shared process pool (created on first use; ``spawn``-ed, so safe with threads)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver" if hasattr(os, "fork")
                                                  else "spawn")
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            atexit.register(shutdown)
        return _pool


def shutdown() -> None:
    """Stop the worker processes (at exit, or in tests)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
