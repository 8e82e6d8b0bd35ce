"""Marginal per-file cost of ``scan`` versus reading 1 KiB from each file, in one run.

    python benchmarks/bench_scan.py [N] [--repeat 3] [--jobs J] [--profile]

Builds N sparse 1.3 GB MRC movies (K3-sized, 5760 x 4092 x 55 bytes: a real header, the size set
by ``truncate``, so the disk holds only the headers) in one directory, and N/10 more in another,
under a temporary directory in /tmp that is deleted afterwards. Then it times, alternating and
with a warm page cache:

- ``scan_dataset`` on the N-file and the N/10-file directory (walk, header reads, grouping,
  metadata, dataset size; emission and validation of the XML are timed separately, they do not
  depend on N);
- a loop doing ``open + read(1024) + close`` on the same files.

The marginal cost per file is the slope between the two sizes, so start-up (imports, thread
pool, schema loading) cancels out. The ratio scan/read is the number to watch (goal <= 3).
``--profile`` prints where scan spends its time on the N-file directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NX, NY, NZ = 5760, 4092, 55  # mode 0 (bytes): 1.296 GB per movie


def _header() -> bytes:
    """A real MRC2014 header from mrcfile, with the movie's dimensions patched in."""
    import mrcfile
    import numpy as np

    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        probe = os.path.join(tmp, "probe.mrc")
        with mrcfile.new(probe) as mrc:
            mrc.set_data(np.zeros((2, 4, 4), dtype=np.int8))
            mrc.set_image_stack()
            mrc.voxel_size = 0.83
        header = bytearray(Path(probe).read_bytes()[:1024])
    dims = np.array([NX, NY, NZ], dtype="<i4").tobytes()
    header[0:12] = dims
    header[28:40] = dims
    header[40:52] = np.array([NX * 0.83, NY * 0.83, NZ * 0.83], dtype="<f4").tobytes()
    return bytes(header)


def build(directory: Path, count: int, header: bytes) -> list[str]:
    """``count`` sparse movies in ``directory``; returns their paths in walk order."""
    directory.mkdir(parents=True)
    size = len(header) + NX * NY * NZ
    paths = []
    for i in range(count):
        path = directory / f"FoilHole_{i:07d}_Data_fractions.mrc"
        with open(path, "wb") as fh:
            fh.write(header)
            fh.truncate(size)
        paths.append(str(path))
    return sorted(paths)


def read_1k(paths: list[str]) -> None:
    """The floor: what any tool reading 1 KiB per file pays."""
    for p in paths:
        with open(p, "rb") as fh:
            fh.read(1024)


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Build, time, print, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="?", type=int, default=20_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None,
                        help="scan's header-read threads (default: scan's own default)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    from empiar_validate.scan import read_dataset, scan_dataset
    from empiar_validate.scan.emit import entry_xml

    n_big, n_small = args.files, max(1, args.files // 10)
    tmp = Path(tempfile.mkdtemp(prefix="ev-bench-scan-", dir="/tmp"))
    try:
        header = _header()
        t0 = time.perf_counter()
        big = build(tmp / "big" / "movies", n_big, header)
        small = build(tmp / "small" / "movies", n_small, header)
        print(f"built {n_big} + {n_small} sparse {len(header) + NX * NY * NZ:,}-byte movies in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)

        def scan(root: Path) -> None:
            result = scan_dataset(str(root), jobs=args.jobs, quiet=True)
            if result.image_sets[0].num_images_or_tilt_series not in (n_big, n_small):
                raise SystemExit("benchmark scan miscounted the movies")

        for fn, arg in ((scan, tmp / "big"), (scan, tmp / "small"), (read_1k, big),
                        (read_1k, small)):
            fn(arg)  # warm: page cache, imports, thread pool
        def headers(root: Path) -> None:  # the walk + header-read stage alone
            read_dataset(str(root), jobs=args.jobs, quiet=True)

        scans: dict[int, list[float]] = {n_big: [], n_small: []}
        reads: dict[int, list[float]] = {n_big: [], n_small: []}
        stage: dict[int, list[float]] = {n_big: [], n_small: []}
        for _ in range(args.repeat):
            for n, root, paths in ((n_big, tmp / "big", big), (n_small, tmp / "small", small)):
                scans[n].append(timed(scan, root))
                reads[n].append(timed(read_1k, paths))
                stage[n].append(timed(headers, root))
        span = n_big - n_small

        def slope(times: dict[int, list[float]]) -> float:
            return (statistics.median(times[n_big]) - statistics.median(times[n_small])) / span

        scan_slope, read_slope, header_slope = slope(scans), slope(reads), slope(stage)
        result = scan_dataset(str(tmp / "big"), jobs=args.jobs, quiet=True)
        emit_s = timed(entry_xml, result)

        print("| files | scan (s) | 1 KiB reads (s) |")
        print("| ---: | ---: | ---: |")
        for n in (n_small, n_big):
            print(f"| {n:,} | {statistics.median(scans[n]):.3f} | "
                  f"{statistics.median(reads[n]):.3f} |")
        print()
        print(f"marginal cost per file: scan {scan_slope * 1e6:.1f} µs, "
              f"1 KiB read {read_slope * 1e6:.1f} µs, ratio {scan_slope / read_slope:.2f}x "
              f"(goal <= 3x); jobs={args.jobs or 'default'}, cpus={os.cpu_count()}")
        print(f"of which walk + header reads (empiar_validate.headers, formats): "
              f"{header_slope * 1e6:.1f} µs; grouping, metadata, size (empiar_validate.scan): "
              f"{(scan_slope - header_slope) * 1e6:.1f} µs")
        print(f"entry_xml for {n_big:,} files: {emit_s * 1e3:.1f} ms (once per scan)")
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            scan_dataset(str(tmp / "big"), jobs=1, quiet=True)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
