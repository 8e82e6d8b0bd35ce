"""Header reads on a simulated network file system: wall time against the serial sum of waits.

    python benchmarks/bench_latency.py [N] [--latency-ms 2] [--repeat 3] [--fixed]

NFS, Lustre and GPFS make every ``open`` and every ``read`` wait 0.5-5 ms for a round trip to
the server. This builds N sparse K3-sized MRC movies (as ``bench_scan.py`` does) in a temporary
directory under /tmp and wraps ``os.open``, ``os.read``, ``os.pread``, ``os.scandir`` and the
built-in ``open`` so that each call first sleeps ``--latency-ms`` (``time.sleep`` releases the
GIL exactly as a blocking system call does). Then it times, page cache warm:

- the header stage (walk + ``read_all`` with its default, adaptive concurrency), printing the
  pool sizes it tried and the one it settled on;
- ``scan_dataset`` end to end (walk, headers, grouping, metadata, dataset size);
- both again without injected latency: the CPU floor under the machine's current load, the
  baseline measured in the same run (what latency hiding can at best reach);
- with ``--fixed``, the header stage with a fixed pool of ``default_jobs()`` threads (what the
  adaptive pool replaced), as a baseline measured in the same run;

against the serial sum of the injected waits (delayed calls x latency): the time one thread
would spend waiting alone. The goal: 20,000 files at 2 ms scanned in under 2 s.
"""

from __future__ import annotations

import argparse
import builtins
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scan import _header, build  # noqa: E402

WRAPPED = ("open", "read", "pread", "scandir")


@contextmanager
def latency(seconds: float) -> Iterator[Callable[[], int]]:
    """Make every open/read/scandir wait ``seconds`` first; yields a counter of delayed calls."""
    calls = itertools.count()
    real = {name: getattr(os, name) for name in WRAPPED}
    real_open = builtins.open

    def delayed(fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            next(calls)
            time.sleep(seconds)
            return fn(*args, **kwargs)
        return wrapper

    for name in WRAPPED:
        setattr(os, name, delayed(real[name]))
    builtins.open = delayed(real_open)
    start = next(calls)
    try:
        yield lambda: next(calls) - start - 1
    finally:
        for name in WRAPPED:
            setattr(os, name, real[name])
        builtins.open = real_open


def main(argv: list[str] | None = None) -> int:
    """Build, time, print, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="?", type=int, default=20_000, metavar="N")
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fixed", action="store_true",
                        help="also time a fixed pool of default_jobs() threads")
    args = parser.parse_args(argv)
    from empiar_validate import headers
    from empiar_validate.scan import scan_dataset

    lat = args.latency_ms / 1000
    tmp = Path(tempfile.mkdtemp(prefix="ev-bench-latency-", dir="/tmp"))
    try:
        build(tmp / "movies", args.files, _header())
        root = str(tmp)
        scan_dataset(root, quiet=True)  # warm: page cache, imports

        def stage(jobs: int | None, lat: float = lat) -> tuple[float, int, headers.PoolStats]:
            stats = headers.PoolStats()
            with latency(lat) as delayed:
                t0 = time.perf_counter()
                records = headers.read_all(headers.walk_all([root]), jobs=jobs, quiet=True,
                                           stats=stats)
                wall = time.perf_counter() - t0
                calls = delayed()
            if len(records) != args.files:
                raise SystemExit("benchmark read the wrong number of files")
            return wall, calls, stats

        def scan(lat: float = lat) -> tuple[float, int]:
            with latency(lat) as delayed:
                t0 = time.perf_counter()
                result = scan_dataset(root, quiet=True)
                wall = time.perf_counter() - t0
                calls = delayed()
            if result.image_sets[0].num_images_or_tilt_series != args.files:
                raise SystemExit("benchmark scan miscounted the movies")
            return wall, calls

        rows: dict[str, list[tuple[float, int]]] = {
            "adaptive": [], "scan": [], "floor-stage": [], "floor-scan": [], "fixed": []}
        pools: list[headers.PoolStats] = []
        for _ in range(args.repeat):
            wall, calls, stats = stage(None)
            rows["adaptive"].append((wall, calls))
            pools.append(stats)
            rows["scan"].append(scan())
            rows["floor-stage"].append(stage(None, 0.0)[:2])
            rows["floor-scan"].append(scan(0.0))
            if args.fixed:
                wall, calls, _ = stage(headers.default_jobs())
                rows["fixed"].append((wall, calls))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{args.files:,} sparse MRC movies, {args.latency_ms:g} ms per open/read/scandir, "
          f"{os.cpu_count()} cores, median of {args.repeat}")
    print("| run | wall (s) | delayed calls | serial sum of waits (s) | hidden (sum / wall) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    names = {"adaptive": "walk + headers, adaptive pool (default)",
             "scan": "scan_dataset end to end (default)",
             "floor-stage": "walk + headers, no latency (the CPU floor now)",
             "floor-scan": "scan_dataset, no latency (the CPU floor now)",
             "fixed": f"walk + headers, fixed pool of {headers.default_jobs()} threads"}
    for key, runs in rows.items():
        if not runs:
            continue
        wall = statistics.median(w for w, _ in runs)
        calls = runs[0][1] if not key.startswith("floor") else 0
        serial = calls * lat
        hidden = f"{serial / wall:.0f}x" if calls else "-"
        print(f"| {names[key]} | {wall:.2f} | {calls:,} | {serial:.1f} | {hidden} |")
    for i, st in enumerate(pools):
        print(f"round {i + 1}: {st.sequential} files read before the pool; pool sizes tried "
              f"{st.sizes}, settled on {st.settled} threads")
    goal = statistics.median(w for w, _ in rows["scan"])
    floor = statistics.median(w for w, _ in rows["floor-scan"])
    print(f"goal: {args.files:,} files scanned in under 2 s: "
          f"{'met' if goal < 2 else 'NOT met'} ({goal:.2f} s; the same scan without latency "
          f"{floor:.2f} s, so the latency costs {goal - floor:.2f} s of wall time); "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
