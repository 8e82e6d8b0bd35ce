"""Frame counting of compressed TIFF movies (``.tiff.bz2``/``.tif.gz``) versus plain decompression.

    python benchmarks/bench_compressed.py [--files 80] [--frames 45] [--lam 0.05] [--gzip]
                                          [--repeat 3]

Builds, under a temporary directory in /tmp (deleted afterwards), ``--files`` EPU-K3-like movies
spread over GridSquare_*/Data directories: ``--frames`` frames of 1152 x 818 uint8 (a tenth of a
K3 super-resolution frame on each side, 0.94 MB), Poisson counts of mean ``--lam`` per pixel
(sparse electron events), written page by page by tifffile (an IFD after every frame, as camera
software writes them) and compressed with bzip2 (or gzip). The last IFD lies ~42 MB deep in the
decompressed stream. One movie is compressed and copied, so building is quick.

Then it times, alternating, with a warm page cache:

- **baseline**: reading each stream to the depth of its last IFD with the standard library, one
  file after the other in this process (what counting costs without this tool's parallelism;
  the reader before it decompressed only 16 MiB and so left the frame count unknown);
- **tool**: ``empiar-validate inspect DIR --format json`` (a new process: imports, walk, header
  reads with the worker pool and the parallel decompressors), and checks that every movie has
  ``--frames`` frames.

It prints the median times, the cost per file, and the ratio baseline/tool. The goal (issue 10):
80 movies counted in at most 15 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1152, 818


def build(root: Path, files: int, frames: int, lam: float, use_gzip: bool) -> list[Path]:
    """The movies, spread over grid squares of 10 (``GridSquare_N/Data/FoilHole_..``)."""
    import numpy as np
    import tifffile

    raw = root / "movie.tiff"
    rng = np.random.default_rng(0)
    with tifffile.TiffWriter(raw) as tw:
        for _ in range(frames):
            frame = rng.poisson(lam, (HEIGHT, WIDTH)).astype(np.uint8)
            tw.write(frame, contiguous=False, photometric="minisblack")
    data = raw.read_bytes()
    raw.unlink()
    packed = gzip.compress(data, 6) if use_gzip else bz2.compress(data, 9)
    suffix = ".tiff.gz" if use_gzip else ".tiff.bz2"
    out = []
    for i in range(files):
        d = root / "session" / "Images-Disc1" / f"GridSquare_{i // 10 + 1}" / "Data"
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"FoilHole_{i + 1}_Data_1_2_20240101_fractions{suffix}"
        path.write_bytes(packed)
        out.append(path)
    print(f"built {files} movies: {frames} frames of {WIDTH} x {HEIGHT} uint8, "
          f"{len(data) / 1e6:.1f} MB decompressed, {len(packed) / 1e6:.2f} MB compressed each",
          flush=True)
    return out


def baseline(paths: list[Path], depth: int, use_gzip: bool) -> float:
    """Standard-library decompression of each stream to ``depth`` bytes, sequentially."""
    opener = gzip.open if use_gzip else bz2.open
    start = time.perf_counter()
    for p in paths:
        with opener(p, "rb") as fh:
            left = depth
            while left > 0 and (chunk := fh.read(min(left, 1 << 20))):
                left -= len(chunk)
    return time.perf_counter() - start


def tool(root: Path, frames: int, files: int) -> float:
    """``empiar-validate inspect`` in a new process; every movie must have ``frames`` frames."""
    exe = [sys.executable, "-m", "empiar_validate", "inspect", str(root), "--format", "json"]
    start = time.perf_counter()
    done = subprocess.run(exe, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    records = json.loads(done.stdout)
    records = records.get("files", records) if isinstance(records, dict) else records
    depths = [r["depth"] for r in records if r.get("format") == "TIFF"]
    if len(depths) != files or set(depths) != {frames}:
        raise SystemExit(f"wrong frame counts: {sorted(set(map(str, depths)))} "
                         f"for {len(depths)} movies")
    return took


def main() -> None:
    """Build, time alternately, print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=80)
    ap.add_argument("--frames", type=int, default=45)
    ap.add_argument("--lam", type=float, default=0.05)
    ap.add_argument("--gzip", action="store_true", help="gzip instead of bzip2")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-compressed-", dir="/tmp"))
    try:
        paths = build(root, args.files, args.frames, args.lam, args.gzip)
        depth = (WIDTH * HEIGHT + 200) * args.frames  # to the last IFD
        base, ours = [], []
        for _ in range(args.repeat):
            base.append(baseline(paths, depth, args.gzip))
            ours.append(tool(root, args.frames, args.files))
        b, t = statistics.median(base), statistics.median(ours)
        print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
        print(f"baseline (stdlib, sequential): {b:.2f} s, {b / args.files * 1e3:.0f} ms/file")
        print(f"empiar-validate inspect:       {t:.2f} s, {t / args.files * 1e3:.0f} ms/file, "
              f"{args.frames} frames each")
        print(f"ratio baseline/tool: {b / t:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
