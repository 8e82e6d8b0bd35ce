"""Gatan DigitalMicrograph DM3/DM4 headers: the main image's size, type, calibration and tags.

The tag tree is parsed by :mod:`empiar_validate.formats.dmtags`, which seeks past the pixel data
(see docs/formats/dm.md for why a focused parser rather than rsciio, ncempy or dm4). This module
picks the main image and maps DM's vocabulary to EMPIAR's.

Which image is "the" image: DigitalMicrograph stores an RGBA thumbnail first in ``ImageList``
and names it in the root ``Thumbnails`` group. Images named there are skipped (without that
group, a first image of type RGBA is taken for the thumbnail when others follow); of the rest,
the one with the most pixels is described, the last of equals.
"""

from __future__ import annotations

import math
import zlib

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.formats.dmtags import ArrayRef, DMError, DMTree, Group, parse
from empiar_validate.formats.units import angstroms_per
from empiar_validate.formats.voxel import voxel_type
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, FileRecord

STREAM_LIMIT = 64 << 20  # decompressed bytes a .dm4.gz/.dm3.bz2 may cost at most
RGBA = 23

# DM image DataType -> (numpy kind, bits per sample, bytes per pixel)
DATA_TYPES: dict[int, tuple[str, int, int]] = {
    1: ("i", 16, 2), 2: ("f", 32, 4), 3: ("c", 64, 8), 6: ("u", 8, 1), 7: ("i", 32, 4),
    8: ("u", 8, 4), 9: ("i", 8, 1), 10: ("u", 16, 2), 11: ("u", 32, 4), 12: ("f", 64, 8),
    13: ("c", 128, 16), 14: ("b", 8, 1), 23: ("u", 8, 4), 39: ("i", 64, 8), 40: ("u", 64, 8),
}
COLOUR_TYPES = {8: 3, 23: 4}  # RGB, RGBA: samples per pixel

F_DM_HEADER = rule(
    "F300", Severity.ERROR, "DM file header is invalid",
    "The file is corrupt or not a DigitalMicrograph file; replace it with a valid copy.",
)
F_DM_CORRUPT = rule(
    "F301", Severity.ERROR, "DM tag tree is corrupt",
    "The file is corrupt; re-save it from DigitalMicrograph.",
)
F_DM_BOUNDS = rule(
    "F302", Severity.ERROR, "DM tag tree has absurd counts or nesting",
    "The file is corrupt or hostile; replace it with a copy saved by DigitalMicrograph.",
)
F_DM_TRUNCATED = rule(
    "F303", Severity.ERROR, "DM file is truncated",
    "Copy the file again from the original; it ends before its data does.",
)
F_DM_NO_IMAGE = rule(
    "F304", Severity.ERROR, "DM file holds no image",
    "Deposit DM files that hold image data.",
)
F_DM_DIMENSIONS = rule(
    "F305", Severity.ERROR, "DM image dimensions are missing or disagree with the data size",
    "The file is corrupt; re-save it from DigitalMicrograph.",
)
F_DM_SEVERAL = rule(
    "F306", Severity.WARNING, "DM file holds several images; only the largest is described",
    "Save each image in its own file, or describe the others yourself.",
)
F_DM_DATA_TYPE = rule(
    "F307", Severity.WARNING, "DM image data type is colour or unknown",
    "EMPIAR image sets are single-channel; save the image as greyscale (integer or float).",
)
F_DM_STREAM = rule(
    "F308", Severity.WARNING, "compressed DM file's header lies too deep in the stream",
    "Deposit DM files uncompressed so their header can be read without decompressing them.",
)

_ERROR_RULES = {
    "header": F_DM_HEADER, "corrupt": F_DM_CORRUPT, "bounds": F_DM_BOUNDS,
    "truncated": F_DM_TRUNCATED,
}


def read(source, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    """Fill ``record`` from a DM3/DM4 header; every problem becomes a finding."""
    shown = record.path

    def problem(r: Rule, message: str) -> None:
        record.problems.append(Finding.of(r, message, file=shown))

    version = int.from_bytes(source.head[:4], "big") if len(source.head) >= 4 else 0
    if version in (3, 4):
        record.format = record.header_format = f"DM{version}"
    limited = source.compression is not None
    with source.open() as fh:
        try:
            tree = parse(fh, STREAM_LIMIT if limited else source.size, limited=limited)
        except DMError as exc:
            if exc.kind == "beyond_limit":
                problem(F_DM_STREAM, f"the tags continue past the first {STREAM_LIMIT >> 20} MiB "
                        f"of the decompressed {source.compression} stream; header not read")
            else:
                problem(_ERROR_RULES[exc.kind], str(exc))
            return
        except (OSError, EOFError, ValueError, zlib.error) as exc:  # a corrupt compressed stream
            problem(F_DM_CORRUPT, f"{type(exc).__name__}: {exc}")
            return
    _fill(record, tree, problem)


def _fill(record: FileRecord, tree: DMTree, problem) -> None:  # type: ignore[no-untyped-def]
    record.format = record.header_format = f"DM{tree.version}"
    images = _images(tree.root)
    if not images:
        problem(F_DM_NO_IMAGE, "no ImageList entry has image data")
        return
    candidates = _without_thumbnails(tree.root, images)
    index, image, data = max(candidates, key=lambda c: (_pixels(c[1]), c[0]))
    if len(candidates) > 1:
        problem(F_DM_SEVERAL, f"{len(candidates)} images besides the thumbnail; described "
                f"ImageList entry {index}")
    record.extra["image_index"] = index
    dims = _dimensions(image)
    data_type = image.get("ImageData", "DataType")
    if not isinstance(data_type, int):
        data_type = -1
    record.extra["dm_data_type"] = data_type
    spec = DATA_TYPES.get(data_type)
    if spec is None:
        problem(F_DM_DATA_TYPE, f"unknown DataType {data_type}")
    else:
        record.voxel_type = voxel_type(spec[0], spec[1])
        if data_type in COLOUR_TYPES:
            record.extra["samples_per_pixel"] = COLOUR_TYPES[data_type]
            problem(F_DM_DATA_TYPE, f"DataType {data_type} is a colour (RGB/RGBA) image")
    if dims is None:
        problem(F_DM_DIMENSIONS, "ImageData/Dimensions is missing or holds a non-positive size")
        return
    record.extra["dimensions"] = list(dims)
    if spec is not None:
        expected = math.prod(dims) * spec[2]
        if expected != data.nbytes:
            problem(F_DM_DIMENSIONS, f"dimensions {' x '.join(map(str, dims))} of DataType "
                    f"{data_type} need {expected} bytes but the data holds {data.nbytes}")
            return
    record.width = dims[0]
    record.height = dims[1] if len(dims) > 1 else 1
    record.depth = math.prod(dims[2:]) if len(dims) > 2 else 1
    record.layout = LAYOUT_STACK if len(dims) > 2 and record.depth > 1 else LAYOUT_IMAGE
    record.pixel_width = _calibration(image, 0)
    record.pixel_height = _calibration(image, 1) if len(dims) > 1 else None
    acquisition = _acquisition(image.get("ImageTags"))
    if acquisition:
        record.extra["acquisition"] = acquisition


def _images(root: Group) -> list[tuple[int, Group, ArrayRef]]:
    """``ImageList`` entries that hold a Data array, with their positions."""
    image_list = root.get("ImageList")
    if not isinstance(image_list, Group):
        return []
    out = []
    for i, (_, entry) in enumerate(image_list.entries):
        if isinstance(entry, Group):
            data = entry.get("ImageData", "Data")
            if isinstance(data, ArrayRef):
                out.append((i, entry, data))
    return out


def _without_thumbnails(
    root: Group, images: list[tuple[int, Group, ArrayRef]]
) -> list[tuple[int, Group, ArrayRef]]:
    """Drop the thumbnail (named in root ``Thumbnails``, else a leading RGBA image)."""
    thumbs: set[int] = set()
    listed = root.get("Thumbnails")
    if isinstance(listed, Group):
        for g in listed.groups():
            idx = g.get("ImageIndex")
            if isinstance(idx, int):
                thumbs.add(idx)
    elif len(images) > 1 and images[0][1].get("ImageData", "DataType") == RGBA:
        thumbs.add(images[0][0])
    rest = [c for c in images if c[0] not in thumbs]
    return rest or images


def _pixels(image: Group) -> int:
    dims = _dimensions(image)
    return math.prod(dims) if dims else 0


def _dimensions(image: Group) -> tuple[int, ...] | None:
    """Sizes x, y[, z...] from ``ImageData/Dimensions``; None when absent or not positive."""
    group = image.get("ImageData", "Dimensions")
    if not isinstance(group, Group) or not group.entries:
        return None
    dims = tuple(v for _, v in group.entries)
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        return None
    return dims  # type: ignore[return-value]


def _calibration(image: Group, axis: int) -> float | None:
    """Pixel size in Å of ``axis`` when its calibration unit is a length."""
    cal = image.get("ImageData", "Calibrations", "Dimension", axis)
    if not isinstance(cal, Group):
        return None
    scale, unit = cal.get("Scale"), cal.get("Units")
    factor = angstroms_per(unit)
    if factor is None or not isinstance(scale, int | float) or not math.isfinite(scale):
        return None
    if scale <= 0:
        return None
    return float(f"{scale * factor:.6g}")


def _acquisition(tags: object) -> dict[str, object]:
    """Microscope and camera facts from ``ImageTags``, keys carrying their units."""
    if not isinstance(tags, Group):
        return {}
    out: dict[str, object] = {}
    voltage = _number(tags.get("Microscope Info", "Voltage"))
    if voltage:
        out["voltage_kv"] = float(f"{voltage / 1000:.6g}")
    cs = _number(tags.get("Microscope Info", "Cs(mm)"))
    if cs is not None:
        out["cs_mm"] = float(f"{cs:.6g}")
    mag = _number(tags.get("Microscope Info", "Indicated Magnification"))
    if mag:
        out["magnification"] = float(f"{mag:.6g}")
    exposure = _number(tags.get("Acquisition", "Parameters", "High Level", "Exposure (s)"))
    if exposure is None:
        exposure = _number(tags.get("DataBar", "Exposure Time (s)"))
    if exposure is not None:
        out["exposure_s"] = float(f"{exposure:.6g}")
    for key, path in (
        ("camera", ("Acquisition", "Device", "Name")),
        ("microscope", ("Microscope Info", "Microscope")),
    ):
        text = tags.get(*path)
        if isinstance(text, str) and text.strip():
            out[key] = text.strip()
    return out


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
