"""SMV diffraction frames and ZIP series written the way MicroED tools write them (no tests here).

``write_smv_adsc`` writes the header ADSC detectors and the MicroED converters (tvips-tools,
mrc2smv, instamatic) write: HEADER_BYTES first, TYPE, SIZE1/SIZE2, PIXEL_SIZE, padded with
spaces to 512 bytes and closed by ``}``. ``write_smv_fabio`` uses fabio's own writer (its
``Data_type=`` spelling). ``write_series_zip`` zips a series of frames as a depositor does
(``zip series.zip frames/*.img``, deflated).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


def smv_bytes(width: int = 32, height: int = 32, *, pixel: float | None = 51.0,
              order: str = "little_endian", kind: str = "unsigned_short",
              header_bytes: int = 512, frame: int = 1) -> bytes:
    """One ADSC-style SMV frame: header padded to ``header_bytes``, then the pixels."""
    lines = ["{", f"HEADER_BYTES={header_bytes:5d};", "DIM=2;", f"BYTE_ORDER={order};",
             f"TYPE={kind};", f"SIZE1={width};", f"SIZE2={height};"]
    if pixel is not None:
        lines.append(f"PIXEL_SIZE={pixel};")
    lines += ["WAVELENGTH=0.025080;", "DISTANCE=1345.00;", f"PHI={-30 + 0.3 * frame:.2f};",
              "OSC_RANGE=0.30;", "TWOTHETA=0.00;", "BEAM_CENTER_X=1.2;", "BEAM_CENTER_Y=1.3;"]
    text = "\n".join(lines) + "\n"
    header = text.encode("ascii").ljust(header_bytes - 2, b" ") + b"}\n"
    dtype = {"unsigned_short": "u2", "signed_short": "i2", "unsigned_int": "u4",
             "float": "f4"}.get(kind, "u2")
    dtype = (">" if order.startswith("big") else "<") + dtype
    pixels = (np.arange(width * height) % 97).astype(dtype).reshape(height, width)
    return header + pixels.tobytes()


def write_smv_adsc(path: Path, **kw: object) -> Path:
    """Write one frame (see :func:`smv_bytes`) to ``path``."""
    path.write_bytes(smv_bytes(**kw))  # type: ignore[arg-type]
    return path


def write_smv_fabio(path: Path, width: int = 32, height: int = 24, pixel: str = "0.028") -> Path:
    """One frame written by fabio's ADSC writer."""
    from fabio.adscimage import AdscImage

    data = (np.arange(width * height) % 251).astype(np.uint16).reshape(height, width)
    AdscImage(data=data, header={"PIXEL_SIZE": pixel, "WAVELENGTH": "0.0251"}).write(str(path))
    return path


def write_series_zip(path: Path, frames: int = 5, *, prefix: str = "series", **kw: object) -> Path:
    """A ZIP of ``frames`` SMV frames named ``PREFIX/PREFIX_00001.img`` ... (deflated)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(1, frames + 1):
            zf.writestr(f"{prefix}/{prefix}_{i:05d}.img", smv_bytes(frame=i, **kw))  # type: ignore[arg-type]
    return path
