"""Read the headers of many files with bounded concurrency, results in walk order.

Header reads are dominated by open()/read() latency (network file systems, cold caches), so a
small thread pool overlaps them; the GIL is released during I/O. Results keep the input order so
output is deterministic whatever the scheduling.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from empiar_validate.formats import read_header
from empiar_validate.progress import progress
from empiar_validate.records import FileRecord
from empiar_validate.walk import WalkEntry, walk


def default_jobs() -> int:
    """Threads for header reads: I/O bound, so a few per core, capped."""
    return min(16, (os.cpu_count() or 1) * 4)


def record_for(entry: WalkEntry) -> FileRecord:
    """The record for one walk entry: the walk's own problem, or the header read."""
    if entry.problems:
        return FileRecord(path=entry.display, problems=list(entry.problems))
    return read_header(entry.path, entry.display)


def read_all(
    entries: Iterable[WalkEntry], *, jobs: int | None = None, quiet: bool = False,
    description: str = "reading headers",
) -> list[FileRecord]:
    """Read every entry's header; ``jobs=1`` reads sequentially (for debugging and baselines)."""
    items = list(entries)
    jobs = jobs or default_jobs()
    with progress(description, len(items), quiet=quiet) as tick:
        if jobs <= 1 or len(items) < 4:
            out = []
            for e in items:
                out.append(record_for(e))
                tick()
            return out
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            out = []
            for rec in pool.map(record_for, items, chunksize=8):
                out.append(rec)
                tick()
            return out


def walk_all(paths: Iterable[str]) -> list[WalkEntry]:
    """Walk every path given on the command line, in the order given."""
    return [e for p in paths for e in walk(p)]
