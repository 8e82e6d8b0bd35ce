"""Datasets laid out the way facilities' software writes them, for the real-layout tests.

Run it to get the layouts on disk and try the tool on them as a new user would::

    python tests/layouts.py OUT       # OUT/epu_tiff, OUT/epu_mrc, OUT/serialem, OUT/relion, ...

Every file is written by the library the real software uses (mrcfile, tifffile, pybdv), with
the names, directories and companions the software writes: EPU ``Images-Disc1/GridSquare_*/
Data/FoilHole_*_fractions.tiff`` with one gain reference, MRC movies with mrcfile's defaults
(space group 1 on a 40-frame 4096 x 4096 integer stack: a real header and a sparse file),
SerialEM per-tilt frame movies ``TS_01_000_0.0.tif`` named by ``TS_01.mrc.mdoc`` with varying
tilt counts, a RELION project (Movies/, MotionCorr/, CtfFind/*_PS.mrc, Extract/*.mrcs with
particles.star), a FIB-SEM slice stack ``slice_0000.tif``... with its z spacing in ImageJ
metadata, and a BigDataViewer pair. Nothing large is stored: movies are sparse, frames small.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

MOVIE_SHAPE = (40, 4096, 4096)  # a Falcon-sized 40-frame movie, as a sparse file
TIFF_FRAMES = 10
SMALL = 64  # width and height of the frames actually written


def mrc_movie(path: Path, shape: tuple[int, int, int] = MOVIE_SHAPE, pixel: float = 0.83,
              mode: int = 1) -> Path:
    """An integer movie written with mrcfile's defaults: ``new_mmap`` puts space group 1 on a
    3-D array (it does not know a movie from a volume); the data stay a hole in a sparse file."""
    import mrcfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with mrcfile.new_mmap(str(path), shape=shape, mrc_mode=mode, overwrite=True) as mrc:
        mrc.voxel_size = pixel
    return path


def mrc_image(path: Path, data: np.ndarray, pixel: float = 0.83, *, stack: bool = False) -> Path:
    """A 2-D image (or, with ``stack``, an image stack: space group 0) written by mrcfile."""
    import mrcfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with mrcfile.new(str(path), overwrite=True) as mrc:
        mrc.set_data(data)
        if stack:
            mrc.set_image_stack()
        mrc.voxel_size = pixel
    return path


def tiff_movie(path: Path, frames: int = TIFF_FRAMES, size: int = SMALL) -> Path:
    """A camera movie written page by page (as EPU and SerialEM do), unsigned 8-bit counts."""
    import tifffile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(str(path)) as tif:
        for i in range(frames):
            tif.write(np.full((size, size), i, np.uint8), contiguous=False)
    return path


def gain_reference(path: Path, size: int = SMALL) -> Path:
    """A gain reference as EPU/SerialEM leave it beside the movies: one float32 image."""
    return mrc_image(path, np.ones((size, size), np.float32))


def epu_tiff(root: Path, squares: int = 3, holes: int = 2, *, gain_in_square: int = 1) -> Path:
    """EPU: ``Images-Disc1/GridSquare_*/Data/FoilHole_*_Data_*_fractions.tiff`` with EPU's
    per-movie XML, and the gain reference in one grid square's Data directory."""
    for g in range(squares):
        data = root / "Images-Disc1" / f"GridSquare_{28000 + g}" / "Data"
        for h in range(holes):
            stem = f"FoilHole_{3000 + 10 * g + h}_Data_{2900 + g}_{41 + h}_20230101_1200{h:02d}"
            tiff_movie(data / f"{stem}_fractions.tiff")
            (data / f"{stem}.xml").write_text("<MicroscopeImage/>\n", encoding="utf-8")
        if g == gain_in_square:
            gain_reference(data / "gain_20230101.mrc")
    return root


def epu_mrc(root: Path, squares: int = 2, holes: int = 2) -> Path:
    """EPU-style grid squares holding MRC movies with space group 1 (mrcfile's default), and a
    gain reference at the dataset root."""
    for g in range(squares):
        data = root / "Images-Disc1" / f"GridSquare_{1000 + g}" / "Data"
        for h in range(holes):
            mrc_movie(data / f"FoilHole_{100 + h}_Data_{g}_{h}_20230101_fractions.mrc")
    gain_reference(root / "gain.mrc")
    return root


MDOC_HEAD = "PixelSpacing = 2.1\nImageFile = {name}.mrc\nImageSize = 64 64\n\n"


def serialem_tomo(root: Path, tilts: tuple[int, ...] = (5, 7, 6, 5)) -> Path:
    """SerialEM per-tilt frame movies ``TS_01_000_0.0.tif`` (ten frames each) in ``frames/``,
    one ``TS_NN.mrc.mdoc`` per tilt series naming them (``SubFramePath``), varying tilt
    counts."""
    frames = root / "frames"
    for n, count in enumerate(tilts, start=1):
        name = f"TS_{n:02d}"
        sections = []
        for z in range(count):
            angle = -3.0 * (count // 2) + 3.0 * z
            movie = f"{name}_{z:03d}_{angle:.1f}.tif"
            tiff_movie(frames / movie)
            sections.append(
                f"[ZValue = {z}]\nTiltAngle = {angle:.2f}\nExposureDose = 3.0\n"
                f"SubFramePath = X:\\\\session\\\\{movie}\nNumSubFrames = {TIFF_FRAMES}\n\n")
        (frames / f"{name}.mrc.mdoc").write_text(MDOC_HEAD.format(name=name) + "".join(sections),
                                                 encoding="utf-8")
    return root


def serialem_stacks(root: Path, tilts: tuple[int, ...] = (41, 37, 35)) -> Path:
    """SerialEM tilt-series stacks (space group 0) with their .mdoc, varying tilt counts."""
    tomo = root / "tomo"
    for n, count in enumerate(tilts, start=1):
        name = f"TS_{n:02d}"
        mrc_image(tomo / f"{name}.mrc", np.zeros((count, 16, 16), np.int16), 2.1, stack=True)
        sections = "".join(f"[ZValue = {z}]\nTiltAngle = {z - count // 2:.1f}\n\n"
                           for z in range(count))
        (tomo / f"{name}.mrc.mdoc").write_text(MDOC_HEAD.format(name=name) + sections,
                                               encoding="utf-8")
    return root


STAR = """
# version 30001

data_particles

loop_
_rlnImageName #1
_rlnMicrographName #2
{rows}
"""


def relion(root: Path, movies: int = 3, particles: int = 5) -> Path:
    """A RELION project: raw movies, motion-corrected sums, CTFFIND power spectra (``*_PS.mrc``
    and ``.ctf``), extracted particle stacks with the particles.star that names them."""
    for i in range(movies):
        stem = f"movie_{i:04d}"
        tiff_movie(root / "Movies" / f"{stem}.tiff")
        mrc_image(root / "MotionCorr" / "job002" / "Movies" / f"{stem}.mrc",
                  np.zeros((SMALL, SMALL), np.float32), 0.83)
        mrc_image(root / "CtfFind" / "job003" / "Movies" / f"{stem}_PS.mrc",
                  np.zeros((32, 32), np.float32), 0.83)
        mrc_image(root / "CtfFind" / "job003" / "Movies" / f"{stem}.ctf",
                  np.zeros((32, 32), np.float32), 0.83)
        mrc_image(root / "Extract" / "job007" / "Movies" / f"{stem}.mrcs",
                  np.zeros((particles, 32, 32), np.float32), 0.83, stack=True)
    rows = "\n".join(f"{p + 1:06d}@Extract/job007/Movies/movie_{i:04d}.mrcs "
                     f"MotionCorr/job002/Movies/movie_{i:04d}.mrc"
                     for i in range(movies) for p in range(particles))
    (root / "Extract" / "job007" / "particles.star").write_text(STAR.format(rows=rows),
                                                                 encoding="utf-8")
    return root


def fib_sem(root: Path, slices: int = 12, size: int = SMALL, z_nm: float = 10.0) -> Path:
    """A FIB-SEM volume stored one slice per file, as Fiji/Atlas export it: ``slice_0000.tif``
    ... with the pixel size in the resolution tags and the z spacing in ImageJ metadata."""
    import tifffile

    out = root / "fibsem"
    out.mkdir(parents=True, exist_ok=True)
    for z in range(slices):
        tifffile.imwrite(out / f"slice_{z:04d}.tif", np.full((size, size), z, np.uint8),
                         imagej=True, resolution=(1 / 0.005, 1 / 0.005),
                         metadata={"spacing": z_nm / 1000, "unit": "micron"})
    return root


def bdv(root: Path) -> Path:
    """A BigDataViewer HDF5 + XML pair written by pybdv (as BigStitcher/Fiji write it)."""
    import pybdv

    out = root / "lightsheet"
    out.mkdir(parents=True, exist_ok=True)
    stack = np.zeros((16, 32, 32), np.uint16)
    pybdv.make_bdv(stack, str(out / "cells.h5"), downscale_factors=[[2, 2, 2]],
                   resolution=[0.5, 0.2, 0.2], unit="micrometer")
    return root


def entry_root(root: Path, accession: str = "EMPIAR-10999") -> Path:
    """A downloaded released entry: ``EMPIAR-NNNNN/data/...`` with the header beside data/."""
    entry = root / accession
    (entry / "data").mkdir(parents=True, exist_ok=True)
    return entry


BUILDERS = {"epu_tiff": epu_tiff, "epu_mrc": epu_mrc, "serialem": serialem_tomo,
            "serialem_stacks": serialem_stacks, "relion": relion, "fib_sem": fib_sem,
            "bdv": bdv}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = Path(argv[0])
    for name, build in BUILDERS.items():
        build(out / name)
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
