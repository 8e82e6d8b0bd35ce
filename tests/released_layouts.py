"""Data laid out as released EMPIAR entries describe it, small and sparse (no tests here).

    python tests/released_layouts.py 10511|10318|10934 DIR   # build one layout into DIR/data

Each builder writes ``root/data/...`` as the entry's FTP layout has it, with the files written
the way the acquisition software writes them, but tiny: frames of a few dozen pixels, MRC pixel
data left as holes (sparse files). ``tests/released_headers.py`` holds the header values EMPIAR
published for the same entries, scaled to these sizes.

- **10511**: Gatan Microscopy Suite movies, MRC mode 0 (unsigned bytes, no IMOD stamp: GMS
  writes none), directly in ``data/``, with GMS's gain reference (``.dm4``) beside them.
- **10318**: MicroED, 8 continuous-rotation series, one ZIP of ADSC SMV frames each, directly in
  ``data/``; pixel size 51.0 as deposited.
- **10934**: EPU K3 movies, 45 frames, ``.tiff.bz2``, across
  ``CL44-1_session/Images-Disc1/GridSquare_*/Data/``; with ``gain=True`` one ``*_gain.tiff.bz2``
  among them, as EPU writes it.
"""

from __future__ import annotations

import bz2
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from released_headers import ENTRY_10318, ENTRY_10511, ENTRY_10934
from smvfiles import write_series_zip


def gms_mode0_movie(path: Path, nx: int, ny: int, nz: int, pixel: float) -> Path:
    """An MRC movie as GMS writes one: MRC2014 header, mode 0 unsigned bytes with no IMOD
    stamp or flags, a plain image stack (ispg 0), the pixel data a hole of the right size."""
    h = bytearray(1024)
    struct.pack_into("<10i", h, 0, nx, ny, nz, 0, 0, 0, 0, nx, ny, nz)
    struct.pack_into("<3f3f3i3f", h, 40, nx * pixel, ny * pixel, nz * pixel, 90, 90, 90, 1, 2, 3,
                     0.0, 255.0, 12.0)
    struct.pack_into("<2i", h, 88, 0, 0)  # ispg 0, no extended header
    struct.pack_into("<i", h, 108, 20140)  # nversion
    h[208:216] = b"MAP DA\x00\x00"
    struct.pack_into("<i", h, 220, 1)  # nlabl
    h[224:224 + 34] = b"Gatan Microscopy Suite 3.4 export".ljust(34)
    with open(path, "wb") as fh:
        fh.write(h)
        fh.truncate(1024 + nx * ny * nz)
    return path


def build_10511(root: Path, movies: int = 3) -> Path:
    """``root/data`` with GMS mode-0 MRC movies and a GMS gain reference directly in it."""
    from dmwriter import write_simple

    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    e = ENTRY_10511
    for i in range(1, movies + 1):
        gms_mode0_movie(data / f"movie_{i:04d}.mrc", int(e["imageWidth"]), int(e["imageHeight"]),
                        int(e["framesPerImage"]), float(e["pixelWidth"]))
    write_simple(data / "gain_reference.dm4", np.ones((int(e["imageHeight"]),
                                                       int(e["imageWidth"])), np.float32))
    return data


def build_10318(root: Path, frames: int = 5) -> Path:
    """``root/data`` with 8 MicroED series, one ZIP of SMV frames each."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    e = ENTRY_10318
    for i in range(1, int(e["numImagesOrTiltSeries"]) + 1):
        write_series_zip(data / f"series_{i}.zip", frames, prefix=f"series_{i}",
                         width=int(e["imageWidth"]), height=int(e["imageHeight"]),
                         pixel=float(e["pixelWidth"]))
    return data


def epu_k3_movie(path: Path, frames: int, width: int, height: int) -> Path:
    """A K3 movie as EPU writes it (page by page, an IFD after every frame, sparse electron
    counts in unsigned bytes), compressed with bzip2 as the depositor did."""
    import tifffile

    raw = path.with_suffix("")
    rng = np.random.default_rng(len(path.name))
    with tifffile.TiffWriter(raw) as tw:
        for _ in range(frames):
            tw.write(rng.poisson(0.05, (height, width)).astype(np.uint8), contiguous=False,
                     photometric="minisblack", software="EPU 3.6")
    path.write_bytes(bz2.compress(raw.read_bytes()))
    raw.unlink()
    return path


def epu_gain(path: Path, width: int, height: int) -> Path:
    """EPU's gain reference beside the movies: one float32 page, bzip2-compressed like them."""
    import tifffile

    raw = path.with_suffix("")
    tifffile.imwrite(raw, np.ones((height, width), np.float32), photometric="minisblack")
    path.write_bytes(bz2.compress(raw.read_bytes()))
    raw.unlink()
    return path


def build_10934(root: Path, squares: int = 3, per_square: int = 2, *, gain: bool = True) -> Path:
    """``root/data`` with EPU ``.tiff.bz2`` K3 movies across grid squares (and a gain)."""
    data = root / "data"
    e = ENTRY_10934
    frames, width, height = (int(e["framesPerImage"]), int(e["imageWidth"]),
                             int(e["imageHeight"]))
    session = data / "CL44-1_session" / "Images-Disc1"
    n = 0
    for g in range(1, squares + 1):
        d = session / f"GridSquare_{2000 + g}" / "Data"
        d.mkdir(parents=True, exist_ok=True)
        for _ in range(per_square):
            n += 1
            epu_k3_movie(d / f"FoilHole_{3000 + n}_Data_{2000 + g}_{n}_20230101_fractions"
                         ".tiff.bz2", frames, width, height)
    if gain:
        epu_gain(session / "GridSquare_2002" / "Data" / "20230101_CL44-1_gain.tiff.bz2", width,
                 height)
    return data


BUILDERS = {"10511": build_10511, "10318": build_10318, "10934": build_10934}

if __name__ == "__main__":
    entry, target = sys.argv[1], Path(sys.argv[2])
    print(BUILDERS[entry](target))
