"""A dataset of many objects for the remote tests and benchmark, written by other software.

Micrographs are MRC files from mrcfile (mode 0, pixel size 0.83 Å) copied as sparse files: the
1 KiB header written, the rest left to ``truncate``. Movies are TIFF files written page by page
as camera software writes them (``tifffile.TiffWriter.write`` per frame, an IFD after each
frame's data, so reading the chain means seeking through the file). Particle stacks are MRCS
from mrcfile; DM4 grid squares come from the DM writer of the tests (tag tree with the image data
inside it, so the reader must skip the data to reach the tags after it).
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

MOVIES, PARTICLES, SQUARES = 40, 40, 20


def build_many(root: Path, total: int = 2000) -> list[Path]:
    """Write ``total`` image files under ``root`` in four image-set directories."""
    import mrcfile
    import tifffile

    for d in ("micrographs", "movies", "particles", "squares"):
        (root / d).mkdir(parents=True, exist_ok=True)
    template = root / "micrographs" / "FoilHole_0000_Data_DW.mrc"
    with mrcfile.new(template, overwrite=True) as mrc:
        mrc.set_data(np.zeros((128, 256), dtype=np.int8))
        mrc.voxel_size = 0.83
    header, size = template.read_bytes()[:1024], template.stat().st_size
    micrographs = total - MOVIES - PARTICLES - SQUARES
    for i in range(1, micrographs):
        path = root / "micrographs" / f"FoilHole_{i:04d}_Data_DW.mrc"
        with open(path, "wb") as fh:
            fh.write(header)
            fh.truncate(size)  # sparse: only the header is on disk

    frames = np.zeros((8, 128, 128), dtype=np.uint8)
    first = root / "movies" / "FoilHole_0000_fractions.tiff"
    with tifffile.TiffWriter(first) as tw:
        for frame in frames:
            tw.write(frame, contiguous=False, photometric="minisblack")
    for i in range(1, MOVIES):
        shutil.copyfile(first, root / "movies" / f"FoilHole_{i:04d}_fractions.tiff")

    stack = root / "particles" / "particles_000.mrcs"
    with mrcfile.new(stack, overwrite=True) as mrc:
        mrc.set_data(np.zeros((20, 32, 32), dtype=np.float32))
        mrc.set_image_stack()
        mrc.voxel_size = 1.66
    for i in range(1, PARTICLES):
        shutil.copyfile(stack, root / "particles" / f"particles_{i:03d}.mrcs")

    import dmwriter

    square = root / "squares" / "GridSquare_000.dm4"
    dmwriter.write_dm(square, np.zeros((256, 256), dtype=np.uint16), version=4,
                      scale=(5.0, 5.0), unit="nm")
    for i in range(1, SQUARES):
        shutil.copyfile(square, root / "squares" / f"GridSquare_{i:03d}.dm4")
    return sorted(p for p in root.rglob("*") if p.is_file())


def upload(client: Any, bucket: str, prefix: str, root: Path, *, jobs: int = 8) -> int:
    """Put every file under ``root`` to ``s3://bucket/prefix/<relative path>``; returns the
    number of bytes uploaded."""
    files = sorted(p for p in root.rglob("*") if p.is_file())

    def put(path: Path) -> int:
        key = f"{prefix}/{path.relative_to(root).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        return os.path.getsize(path)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return sum(pool.map(put, files))
