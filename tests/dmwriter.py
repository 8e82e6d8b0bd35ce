"""A small Gatan DigitalMicrograph (DM3/DM4) writer for tests and fixture datasets.

It writes what DigitalMicrograph writes for an acquired image: an ``ImageList`` whose first entry
is an RGBA thumbnail and whose second is the main image (2-D, or 3-D for stacks and tilt
series), a root ``Thumbnails`` group pointing at the thumbnail, per-axis
``Calibrations/Dimension`` scales and units, and ``ImageTags`` (microscope, camera, exposure).

Layout (after Gatan's undocumented format as described by Boothroyd and the DM3Format page):
header ``version (i4 BE), root length (i4 BE in DM3, i8 in DM4), byte order (i4 BE: 1 = little
endian data)``, then the root group ``sorted (u1), open (u1), count (i4/i8 BE)`` and its entries:
``kind (u1: 20 group, 21 data), name length (u2 BE), name, [DM4: entry size (i8 BE)]`` then
either a group or ``"%%%%", info count (i4/i8 BE), info (i4/i8 BE each), value``. Values are in
the header's byte order; the file ends with 8 zero bytes.

Plain module, no package: import it with ``sys.path`` pointing at ``tests/``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# numpy dtype -> (DM image DataType, tag element type of the Data array)
DATA_TYPES: dict[str, tuple[int, int]] = {
    "int16": (1, 2), "float32": (2, 6), "uint8": (6, 10), "int32": (7, 3), "int8": (9, 9),
    "uint16": (10, 4), "uint32": (11, 5), "float64": (12, 7), "bool": (14, 8),
}
RGBA = 23  # DataType of DigitalMicrograph's thumbnails (array of uint32)
_SIMPLE = {2: "h", 3: "i", 4: "H", 5: "I", 6: "f", 7: "d", 8: "?", 9: "b", 10: "B", 11: "q",
           12: "Q"}
_NUMPY_ELEMENT = {"int16": 2, "int32": 3, "uint16": 4, "uint32": 5, "float32": 6, "float64": 7,
                  "bool": 8, "int8": 9, "uint8": 10, "int64": 11, "uint64": 12}


@dataclass(frozen=True)
class Typed:
    """A scalar with an explicit DM tag type code (e.g. ``Typed(300000.0, 6)`` for float32)."""

    value: Any
    code: int


@dataclass(frozen=True)
class Claim:
    """An array written as a header claim only: ``count`` elements of type ``code`` whose bytes
    are a hole (a sparse file: large on paper, nothing on disk)."""

    count: int
    code: int


class _Out:
    """Serialise a tag tree; ``version`` selects DM3 (4-byte) or DM4 (8-byte) lengths."""

    def __init__(self, fh: Any, version: int, little: bool) -> None:
        self.fh = fh
        self.version = version
        self.long = ">q" if version == 4 else ">i"
        self.order = "<" if little else ">"

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def group(self, entries: list[tuple[str, Any]], *, root: bool = False) -> None:
        self.write(struct.pack(">BB", 0, 1))
        self.write(struct.pack(self.long, len(entries)))
        for name, value in entries:
            self.entry(name, value)

    def entry(self, name: str, value: Any) -> None:
        raw = name.encode("latin-1")
        is_group = isinstance(value, dict | list)
        self.write(struct.pack(">BH", 20 if is_group else 21, len(raw)) + raw)
        size_at = None
        if self.version == 4:
            size_at = self.fh.tell()
            self.write(struct.pack(">q", 0))  # entry size, patched below
        start = self.fh.tell()
        if is_group:
            self.group(_entries(value))
        else:
            self.data(value)
        if size_at is not None:
            end = self.fh.tell()
            self.fh.seek(size_at)
            self.write(struct.pack(">q", end - start))
            self.fh.seek(end)

    def info(self, *codes: int) -> None:
        self.write(b"%%%%" + struct.pack(self.long, len(codes)))
        for c in codes:
            self.write(struct.pack(self.long, c))

    def data(self, value: Any) -> None:
        o = self.order
        if isinstance(value, Typed):
            self.info(value.code)
            self.write(struct.pack(o + _SIMPLE[value.code], value.value))
        elif isinstance(value, bool):
            self.info(8)
            self.write(struct.pack(o + "?", value))
        elif isinstance(value, int):
            self.info(3)
            self.write(struct.pack(o + "i", value))
        elif isinstance(value, float):
            self.info(7)
            self.write(struct.pack(o + "d", value))
        elif isinstance(value, str):  # DM stores text as an array of UTF-16 code units
            units = value.encode("utf-16-le")
            self.info(20, 4, len(units) // 2)
            self.write(np.frombuffer(units, "<u2").astype(o + "u2").tobytes())
        elif isinstance(value, np.ndarray):
            code = _NUMPY_ELEMENT[value.dtype.name]
            self.info(20, code, value.size)
            self.write(np.ascontiguousarray(value).astype(value.dtype.newbyteorder(o)).tobytes())
        elif isinstance(value, Claim):
            self.info(20, value.code, value.count)
            self.fh.seek(value.count * struct.calcsize(_SIMPLE[value.code]), 1)
        else:
            raise TypeError(f"cannot write {type(value).__name__} as a DM tag")


def _entries(value: dict[str, Any] | list[Any]) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return list(value.items())
    return [("", v) for v in value]


def image_group(
    data: np.ndarray | None = None,
    *,
    shape: tuple[int, ...] | None = None,
    dtype: str = "float32",
    scale: tuple[float, ...] = (),
    units: tuple[str, ...] = (),
    image_tags: dict[str, Any] | None = None,
    name: str = "image",
    claim: bool = False,
    data_type: int | None = None,
) -> dict[str, Any]:
    """The ``ImageList`` entry for one image; ``shape`` is numpy order (z, y, x).

    With ``claim=True`` (or no ``data``) only the Data tag's header is written, claiming
    ``prod(shape)`` elements over a hole (see :class:`Claim`).
    """
    if data is not None:
        shape = data.shape
        dtype = data.dtype.name
    assert shape is not None
    dm_type, element = DATA_TYPES[dtype]
    if data_type is not None:
        dm_type = data_type
    dims = list(reversed(shape))  # DM lists x first
    calib = []
    for i in range(len(dims)):
        calib.append({
            "Origin": 0.0,
            "Scale": Typed(float(scale[i]) if i < len(scale) else 1.0, 6),
            "Units": units[i] if i < len(units) else "",
        })
    count = int(np.prod(shape))
    payload: Any = Claim(count, element) if claim or data is None else data
    return {
        "ImageData": {
            "Calibrations": {
                "Brightness": {"Origin": 0.0, "Scale": Typed(1.0, 6), "Units": "Counts"},
                "Dimension": calib,
                "DisplayCalibratedUnits": True,
            },
            "Data": payload,
            "DataType": dm_type,
            "Dimensions": [Typed(d, 3) for d in dims],
            "PixelDepth": np.dtype(dtype).itemsize if dm_type != RGBA else 4,
        },
        "ImageTags": image_tags or {},
        "Name": name,
        "UniqueID": {"0": 1, "1": 2, "2": 3, "3": 4},
    }


def thumbnail_group(size: int = 8) -> dict[str, Any]:
    """An RGBA thumbnail as DigitalMicrograph writes it first in ``ImageList``."""
    rgba = np.full((size, size), 0xFF808080, dtype=np.uint32)
    group = image_group(rgba, name="thumbnail")
    group["ImageData"]["DataType"] = RGBA
    return group


def acquisition_tags(
    *, voltage_v: float = 300000.0, cs_mm: float = 2.7, magnification: float = 105000.0,
    camera: str = "K3", exposure_s: float = 2.5,
) -> dict[str, Any]:
    """``ImageTags`` as DigitalMicrograph records them for a camera acquisition."""
    return {
        "Acquisition": {
            "Device": {"Name": camera, "Active Size (pixels)": [Typed(4096, 5)] * 2},
            "Parameters": {"High Level": {"Exposure (s)": Typed(exposure_s, 6)}},
        },
        "Microscope Info": {
            "Cs(mm)": Typed(cs_mm, 6),
            "Indicated Magnification": Typed(magnification, 6),
            "Voltage": Typed(voltage_v, 6),
            "Microscope": "Titan Krios",
        },
    }


def write_dm(
    path: str | Path,
    images: list[dict[str, Any]] | np.ndarray,
    *,
    version: int = 4,
    thumbnail: bool = True,
    little_endian: bool = True,
    root_extra: dict[str, Any] | None = None,
    end_marker: bool = True,
    scale: tuple[float, ...] = (),
    unit: str = "",
    image_tags: dict[str, Any] | None = None,
) -> Path:
    """Write a DM3 (``version=3``) or DM4 file holding ``images`` (from :func:`image_group`).

    ``images`` may also be one array (numpy order z, y, x), calibrated with ``scale`` per axis
    and ``unit`` on x and y. With ``thumbnail`` an RGBA thumbnail is written first and the root
    ``Thumbnails`` group points at it, as DigitalMicrograph does.
    """
    path = Path(path)
    if isinstance(images, np.ndarray):
        units = (unit,) * min(images.ndim, 2) if unit else ()
        images = [image_group(images, scale=scale, units=units, image_tags=image_tags)]
    image_list = ([thumbnail_group()] if thumbnail else []) + list(images)
    root: dict[str, Any] = {
        "ApplicationBounds": [0, 0, 1024, 1024],
        "DocumentObjectList": [{"ImageSource": 1 if thumbnail else 0}],
        "ImageList": image_list,
    }
    if thumbnail:
        root["Thumbnails"] = [{"ImageIndex": 0, "SourceSize_Pixels": [Typed(8, 3)] * 2}]
    root.update(root_extra or {})
    with open(path, "wb") as fh:
        out = _Out(fh, version, little_endian)
        fh.write(struct.pack(">i", version))
        fh.write(struct.pack(">q" if version == 4 else ">i", 0))  # root length, patched below
        fh.write(struct.pack(">i", 1 if little_endian else 0))
        out.group(_entries(root), root=True)
        if end_marker:
            fh.write(b"\x00" * 8)
        end = fh.tell()
        fh.seek(4)
        fh.write(struct.pack(">q" if version == 4 else ">i", end - (24 if version == 4 else 16)))
        fh.seek(end)
        fh.truncate(end)
    return path


def write_simple(
    path: str | Path, data: np.ndarray, *, version: int = 4, scale: float = 1.5,
    unit: str = "nm", tags: bool = True,
) -> Path:
    """One calibrated image (or stack) with a thumbnail and acquisition tags."""
    image = image_group(
        data, scale=(scale,) * data.ndim, units=(unit,) * min(data.ndim, 2),
        image_tags=acquisition_tags() if tags else None,
    )
    return write_dm(path, [image], version=version)
