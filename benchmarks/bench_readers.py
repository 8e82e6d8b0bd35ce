"""Per-file cost of each header reader versus reading 1 KiB from the same files, in one run.

    python benchmarks/bench_readers.py [--files 200] [--repeat 5]

For every format (MRC, MRCS, TIFF, DM4, BigDataViewer HDF5, IMAGIC, SPIDER) it writes
``--files`` sample files into a temporary directory (MRC movies are 100 GB and SPIDER volumes
64 MB sparse files, so the "headers only" claim is tested on the sizes that matter), then times,
alternating, (a) ``open + read(1024) + close`` on each file — the floor any header reader pays —
and (b) ``empiar_validate.formats.read_header`` on each file. It prints the median per-file cost
of both and their ratio. Page cache is warm for both (each is run once before timing), so the
ratio measures our work, not the disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sample_files  # noqa: E402  (beside this script)


def _mrc_movie(path: Path) -> None:
    """A 100 GB sparse MRC movie: real header, size set by truncate (no disk used)."""
    import mrcfile

    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(np.zeros((2, 4, 4), dtype=np.float32))
        mrc.voxel_size = 0.83
    nx, ny, nz = 4096, 4096, 1600  # 4096*4096*1600*4 bytes ~ 107 GB
    header = bytearray(path.read_bytes()[:1024])
    header[0:12] = np.array([nx, ny, nz], dtype="<i4").tobytes()
    header[28:40] = np.array([nx, ny, nz], dtype="<i4").tobytes()
    header[40:52] = np.array([nx * 0.83, ny * 0.83, nz * 0.83], dtype="<f4").tobytes()
    with open(path, "r+b") as fh:
        fh.write(header)
        fh.truncate(1024 + nx * ny * nz * 4)


def _mrcs(path: Path) -> None:
    import mrcfile

    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(np.zeros((50, 64, 64), dtype=np.float32))
        mrc.set_image_stack()


def _tiff_movie(path: Path) -> None:
    import tifffile

    tifffile.imwrite(path, np.zeros((40, 256, 256), dtype=np.uint8), photometric="minisblack")


def _imagic(path: Path) -> None:
    """An IMAGIC pair: 1000 header records in ``.hed`` and 64 x 64 float32 images in ``.img``."""
    from test_format_imagic import write_pair

    write_pair(path.parent, path.stem, images=1000, width=64, height=64)


def _spider(path: Path) -> None:
    """A 256³ SPIDER volume (64 MB), made sparse: header written, size set by truncate."""
    from test_format_spider import spider_header

    header = spider_header(256, 256, 256)
    with open(path, "wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + 256**3 * 4)


GENERATORS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "MRC (100 GB sparse movie)": (".mrc", _mrc_movie),
    "MRCS (particle stack)": (".mrcs", _mrcs),
    "TIFF (40-page movie)": (".tiff", _tiff_movie),
    "DM4": (".dm4", sample_files.dm4),
    "BigDataViewer HDF5": (".h5", sample_files.bdv),
    "IMAGIC (1000-image .hed + .img)": (".hed", _imagic),
    "SPIDER (256³ sparse volume)": (".spi", _spider),
}
PER_FILE = {".h5", ".hed", ".mrc"}  # made one by one (companion files, or cheap sparse files)


def _read_1k(paths: list[str]) -> None:
    for p in paths:
        with open(p, "rb") as fh:
            fh.read(1024)


def _read_headers(paths: list[str]) -> None:
    from empiar_validate.formats import read_header

    for p in paths:
        rec = read_header(p)
        if rec.format is None:
            raise SystemExit(f"benchmark file not recognised: {p}: {rec.problems}")


def _time(fn: Callable[[list[str]], None], paths: list[str]) -> float:
    start = time.perf_counter()
    fn(paths)
    return (time.perf_counter() - start) / len(paths)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ev-bench-"))
    rows = []
    try:
        for label, (ext, make) in GENERATORS.items():
            try:
                make(tmp / f"probe{ext}")
            except ImportError as exc:
                print(f"skipping {label}: {exc}", file=sys.stderr)
                continue
            first = tmp / f"probe{ext}"
            paths = []
            for i in range(args.files):
                target = tmp / f"{label[:3].strip()}_{i:05d}{ext}"
                if ext in PER_FILE:
                    make(target)
                else:
                    shutil.copyfile(first, target)
                paths.append(str(target))
            _read_1k(paths)
            _read_headers(paths)  # warm both (page cache, imports)
            base, ours = [], []
            for _ in range(args.repeat):
                base.append(_time(_read_1k, paths))
                ours.append(_time(_read_headers, paths))
            b, o = statistics.median(base), statistics.median(ours)
            rows.append((label, b, o))
            for p in tmp.iterdir():
                os.unlink(p)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"files per format: {args.files}, repeats: {args.repeat}, median per-file cost\n")
    print("| format | read 1 KiB | read_header | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label, b, o in rows:
        print(f"| {label} | {b * 1e6:.1f} µs | {o * 1e6:.1f} µs | {o / b:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
