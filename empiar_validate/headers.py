"""Read the headers of many files with bounded concurrency, results in walk order.

A header read is one ``open``, one 4 KiB read and a few tens of microseconds of Python parsing.
From a warm page cache that is CPU work under the GIL, and threads only add contention: measured,
a pool of 2–8 threads read 5,000 cached MRC headers 2.5–4× slower than one thread. On a network
file system (NFS, Lustre, GPFS) each ``open`` and ``read`` waits 0.5–5 ms for a round trip, with
the GIL released, and only many reads in flight hide that: by Little's law, keeping the one
GIL busy takes about (wait + CPU) / CPU reads in flight, i.e. ~100 threads for 4 ms of waiting
per file and 40 µs of Python.

So by default (``jobs=None``) headers are read in order in the calling thread, in batches of
growing size, while they are CPU-bound. Once a batch shows the reads waiting on storage, the
rest go to a pool sized from that batch's wall/CPU ratio, which then grows (doubling) for as
long as each step makes it at least :data:`GROW_GAIN` faster, measured over short windows, and
steps back to the best size when it does not (down to one thread when the pool turned out
slower than reading in the calling thread). Compressed TIFF movies are the exception: each
costs seconds of CPU in a decompression worker process, so a dataset holding them is read with
one thread per worker process from the start. Results keep the input order whatever the
scheduling, so output is deterministic.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from empiar_validate.formats import read_header
from empiar_validate.formats.decompress import walked_in_workers, worker_count
from empiar_validate.progress import Tick, progress
from empiar_validate.records import FileRecord
from empiar_validate.walk import WalkEntry, walk

PROBE_FIRST = 8  # first batch read in the calling thread; batches double up to PROBE_BATCH
PROBE_BATCH = 64  # files read in the calling thread between two looks at the clocks
WAIT_RATIO = 3.0  # wall time over CPU time above which the reads are waiting on storage
MIN_WAIT = 100e-6  # s per file: below this even waiting reads are not worth a pool
MAX_JOBS = 256  # threads at most: a waiting thread costs a stack of virtual memory, no CPU
WINDOW_S = 0.05  # the pool's throughput is judged over windows this long...
WINDOW_FILES = 32  # ...holding at least this many reads
GROW_GAIN = 1.1  # a larger pool is kept only when it reads this much faster


def default_jobs() -> int:
    """Threads for ``--jobs``-less reads before adaptation: a few per core, capped."""
    return min(16, (os.cpu_count() or 1) * 4)


@dataclass(slots=True)
class PoolStats:
    """How :func:`read_all` read: how many files in the calling thread, the pool sizes tried
    in order and the size it settled on (benchmarks print them; tests check the adaptation)."""

    sequential: int = 0
    sizes: list[int] = field(default_factory=list)
    settled: int = 1

    @property
    def threads(self) -> int:
        """The largest pool that ran (1 when everything was read in the calling thread)."""
        return max(self.sizes, default=1)


def record_for(entry: WalkEntry) -> FileRecord:
    """The record for one walk entry: the walk's own problem, or the header read."""
    if entry.problems:
        return FileRecord(path=entry.display, problems=list(entry.problems))
    return read_header(entry.path, entry.display, regular=entry.regular)


def waiting_on_storage(wall: float, cpu: float, count: int) -> bool:
    """True when ``count`` reads that took ``wall`` seconds, of which ``cpu`` on this thread's
    CPU, spent most of it waiting (for the disk or the network) and slowly enough that
    overlapping the waits in threads pays for the GIL contention they bring."""
    return wall > WAIT_RATIO * cpu and wall > MIN_WAIT * count


def threads_to_hide(wall: float, cpu: float) -> int:
    """Little's law: reads in flight that keep the GIL busy when each spends ``wall`` seconds,
    of which ``cpu`` on the CPU (at least 2, at most :data:`MAX_JOBS`)."""
    if cpu <= 0:
        return MAX_JOBS
    return max(2, min(MAX_JOBS, math.ceil(wall / cpu)))


def read_all(
    entries: Iterable[WalkEntry], *, jobs: int | None = None, quiet: bool = False,
    description: str = "reading headers", stats: PoolStats | None = None,
) -> list[FileRecord]:
    """Read every entry's header, in order.

    ``jobs=1`` reads sequentially, ``jobs=N`` in a pool of N threads, and ``None`` (the default)
    adapts: sequentially while the reads are CPU-bound, then in a pool that grows while growing
    pays (see the module docstring). ``stats``, when given, is filled in.
    """
    items = list(entries)
    stats = stats if stats is not None else PoolStats()
    with progress(description, len(items), quiet=quiet, unit="files") as tick:
        if jobs == 1 or len(items) < 4:
            out = []
            for e in items:
                out.append(record_for(e))
                tick()
            stats.sequential = len(out)
            return out
        if jobs is None and any(walked_in_workers(e.rel) for e in items):
            # compressed movies: seconds of CPU each in worker processes, which the probe and
            # the hill climbing (built for microsecond reads) would feed one file at a time
            jobs = max(2, worker_count())
        if jobs is not None:
            return _read_pooled(items, tick, jobs, grow=False, base_rate=0.0, stats=stats)
        out, probe = _read_until_waiting(items, tick)
        stats.sequential = len(out)
        if probe is None:
            return out
        wall, cpu, count = probe
        rest = _read_pooled(items[len(out):], tick, threads_to_hide(wall, cpu), grow=True,
                            base_rate=count / wall, stats=stats)
        return out + rest


def _read_until_waiting(
    items: list[WalkEntry], tick: Tick
) -> tuple[list[FileRecord], tuple[float, float, int] | None]:
    """Read in this thread, in batches of growing size, until a batch is
    :func:`waiting_on_storage`. Returns the records read so far (all of them when the reads
    never waited) and that batch's ``(wall, cpu, count)``, or ``None``."""
    out: list[FileRecord] = []
    start, size = 0, PROBE_FIRST
    while start < len(items):
        batch = items[start : start + size]
        wall, cpu = time.perf_counter(), time.thread_time()
        for e in batch:
            out.append(record_for(e))
            tick()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        if waiting_on_storage(wall, cpu, len(batch)) and start + len(batch) < len(items):
            return out, (wall, cpu, len(batch))
        start += len(batch)
        size = min(PROBE_BATCH, size * 2)
    return out, None


def _read_pooled(
    items: list[WalkEntry], tick: Tick, threads: int, *, grow: bool, base_rate: float,
    stats: PoolStats,
) -> list[FileRecord]:
    """Read ``items`` in ``threads`` worker threads (results in input order).

    Workers take the next index from a shared counter, so no per-item future or queue entry is
    made; each counts its own reads in its own slot, which the calling thread sums every
    :data:`WINDOW_S` to tick the progress bar and, with ``grow``, to hill-climb the pool size
    from ``base_rate`` (reads per second before the pool). A worker whose slot is at or above
    the current target stops before taking another index, which is how the pool shrinks.
    """
    n = len(items)
    results: list[FileRecord | None] = [None] * n
    counter = itertools.count()
    done = [0] * MAX_JOBS if grow else [0] * threads
    target = [threads]
    exhausted = threading.Event()
    errors: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            while slot < target[0]:
                i = next(counter)
                if i >= n:
                    break
                results[i] = record_for(items[i])
                done[slot] += 1
        except BaseException as exc:  # surfaced in the calling thread
            errors.append(exc)
            target[0] = 0
        exhausted.set()  # past the end, failed, or shrunk away: the caller looks again

    pool: list[threading.Thread] = []

    def start_up_to(size: int) -> None:
        for slot in range(len(pool), size):
            t = threading.Thread(target=worker, args=(slot,), name=f"headers-{slot}",
                                 daemon=True)
            pool.append(t)
            t.start()

    start_up_to(threads)
    stats.sizes.append(threads)
    ticked = 0
    best_rate, best_size = base_rate, 1
    mark_t, mark_done = time.perf_counter(), 0
    finished = False
    try:
        while True:
            exhausted.wait(WINDOW_S)
            exhausted.clear()
            total = sum(done)
            tick(total - ticked)
            ticked = total
            if errors or total >= n:
                break
            if not grow or total - mark_done < WINDOW_FILES:
                continue
            now = time.perf_counter()
            rate = (total - mark_done) / (now - mark_t)
            if rate > best_rate * GROW_GAIN and target[0] < MAX_JOBS:
                best_rate, best_size = rate, target[0]
                target[0] = min(MAX_JOBS, target[0] * 2)
                start_up_to(target[0])
                stats.sizes.append(target[0])
            else:  # no gain (or at the cap): settle on the best size seen and stop climbing
                if rate > best_rate * GROW_GAIN:
                    best_size = target[0]
                target[0] = best_size  # slot 0 always survives, so every index gets read
                grow = False
            mark_t, mark_done = now, total
        finished = True
    finally:
        if not finished:  # interrupted (Ctrl-C): let the workers stop after their current read
            target[0] = 0
        for t in pool:
            t.join()
    if errors:
        raise errors[0]
    stats.settled = target[0]
    return results  # type: ignore[return-value]


def walk_all(paths: Iterable[str]) -> list[WalkEntry]:
    """Walk every path given on the command line, in the order given (``rel`` relative to
    each path)."""
    return [e for p in paths for e in walk(p)]


def walk_as_typed(paths: Iterable[str]) -> list[WalkEntry]:
    """:func:`walk_all`, each entry's ``rel`` the path as the user can open it: under the path
    given, relative to the current directory when that was relative, absolute when it was
    absolute (``inspect a b`` names ``a/map.mrc`` and ``b/map.mrc``, never two ``map.mrc``)."""
    out = []
    for p in paths:
        given = os.fspath(p)
        for e in walk(given):
            e.rel = os.path.normpath(given if e.path == given else os.path.join(given, e.rel))
            e.rel = e.rel.replace(os.sep, "/")
            out.append(e)
    return out
