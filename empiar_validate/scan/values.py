"""What a list of files says about the numbers EMPIAR asks for, under a given category.

``scan`` calls :func:`summarize` with the category it guessed, ``check`` with the category the
XML states: the counting rules are the same on both sides, so a dataset scanned and then checked
unchanged always agrees with itself. Every rule is documented in ``docs/scan.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from empiar_validate.model import VARIABLE
from empiar_validate.records import FileRecord
from empiar_validate.scan.category import SECTION_COUNTED, frames_of

PIXEL_REL_TOL = 1e-3  # 0.1 %: float32 header noise and 4-digit typing both pass, 1.06 vs 1.07 not


@dataclass(slots=True)
class Summary:
    """The derived values of one image set; ``None`` where the files cannot say.

    ``outliers`` maps a field (``framesPerImage``, ``voxelType``, ``headerFormat``,
    ``dataFormat``) to ``{value: [paths]}`` for files that disagree with the majority value.
    ``absent`` lists member files whose content is not there (placeholders, corrupt files).
    """

    num: int | None = None
    frames: int | None = None
    voxel_type: str | None = None
    header_format: str | None = None
    data_format: str | None = None
    width: int | str | None = None
    height: int | str | None = None
    pixel_width: float | str | None = None
    pixel_height: float | str | None = None
    outliers: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    present: int = 0


def majority(values: Iterable[tuple[object, str]]) -> tuple[object | None, dict[str, list[str]]]:
    """The most common value of ``(value, path)`` pairs (ties: the smallest as text) and the
    paths of every other value."""
    by_value: dict[object, list[str]] = {}
    for value, path in values:
        if value is not None:
            found = by_value.get(value)
            if found is None:
                by_value[value] = [path]
            else:
                found.append(path)
    return _pick(by_value)


def _pick(by_value: dict[object, list[str]]) -> tuple[object | None, dict[str, list[str]]]:
    if not by_value:
        return None, {}
    if len(by_value) == 1:
        return next(iter(by_value)), {}
    best = max(by_value, key=lambda v: (len(by_value[v]), _neg_text(v)))
    return best, {str(v): sorted(p) for v, p in sorted(by_value.items(), key=lambda kv: str(kv[0]))
                  if v != best}


def _neg_text(value: object) -> tuple[int, ...]:
    return tuple(-ord(c) for c in str(value))


def same_pixel(a: float, b: float) -> bool:
    """Pixel sizes equal within :data:`PIXEL_REL_TOL`."""
    return math.isclose(a, b, rel_tol=PIXEL_REL_TOL)


def _one_or_variable(values: list[float], *, pixel: bool) -> float | str | None:
    if not values:
        return None
    first = values[0]
    if pixel:
        if all(same_pixel(first, v) for v in values):
            return first
        return VARIABLE
    return first if all(v == first for v in values) else VARIABLE


def summarize(
    category: str | None, members: list[FileRecord], *, series: int | None = None
) -> Summary:
    """Derive the image set's numbers from its member files (see ``docs/scan.md``).

    ``series`` is the number of tilt series when tilts are stored one file per tilt (from the
    .mdoc files); it replaces the file count.
    """
    present = [m for m in members if m.format is not None]
    out = Summary(present=len(present), absent=sorted(m.path for m in members if m.format is None))
    sectioned = category in SECTION_COUNTED
    # One dict operation per file: group by all four per-file values at once (a set usually has
    # one combination), then split per field; this runs for every file of every image set.
    combos: dict[tuple[object, ...], list[str]] = {}
    for m in present:
        key = (m.voxel_type, m.header_format or m.format, m.format,
               None if sectioned else frames_of(m))
        found = combos.get(key)
        if found is None:
            combos[key] = [m.path]
        else:
            found.append(m.path)
    voxels: dict[object, list[str]] = {}
    headers: dict[object, list[str]] = {}
    datas: dict[object, list[str]] = {}
    frames: dict[object, list[str]] = {}
    for key, paths in combos.items():
        for table, value in zip((voxels, headers, datas, frames), key, strict=True):
            if value is not None:
                table.setdefault(value, []).extend(paths)
    out.voxel_type, voxel_outliers = _pick(voxels)  # type: ignore[assignment]
    out.header_format, header_outliers = _pick(headers)  # type: ignore[assignment]
    out.data_format, data_outliers = _pick(datas)  # type: ignore[assignment]
    if sectioned:
        out.frames = 1
        frame_outliers: dict[str, list[str]] = {}
        counts = [frames_of(m) for m in present]
        if not out.absent and None not in counts:
            out.num = sum(c for c in counts if c is not None)
    else:
        out.frames, frame_outliers = _pick(frames)  # type: ignore[assignment]
        out.num = series if series is not None else len(members)
    for name, found in (("framesPerImage", frame_outliers), ("voxelType", voxel_outliers),
                        ("headerFormat", header_outliers), ("dataFormat", data_outliers)):
        if found:
            out.outliers[name] = found
    out.width = _one_or_variable([m.width for m in present if m.width], pixel=False)  # type: ignore[assignment]
    out.height = _one_or_variable([m.height for m in present if m.height], pixel=False)  # type: ignore[assignment]
    out.pixel_width = _one_or_variable(
        [m.pixel_width for m in present if m.pixel_width and m.pixel_width > 0], pixel=True
    )
    out.pixel_height = _one_or_variable(
        [m.pixel_height for m in present if m.pixel_height and m.pixel_height > 0], pixel=True
    )
    return out


def format_decimal(value: float, digits: int = 6) -> str:
    """A plain decimal with ``digits`` significant digits and no exponent (XSD ``decimal`` has
    none): ``1.0600000619888306`` -> ``1.06``; ``1e-05`` -> ``0.00001``."""
    if value == 0 or not math.isfinite(value):
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_value(value: object) -> str:
    """XML text for a derived value: ints as is, floats via :func:`format_decimal`."""
    if isinstance(value, float):
        return format_decimal(value)
    return str(value)


def dataset_size(total_bytes: int) -> tuple[str, str]:
    """``(value, units)`` for ``datasetSize``: decimal units (1 GB = 10^9 bytes), MB below 1 GB,
    TB from 1 TB, three significant digits, never zero for a non-empty dataset."""
    for units, scale in (("TB", 10**12), ("GB", 10**9)):
        if total_bytes >= scale:
            return format_decimal(total_bytes / scale, 3), units
    value = total_bytes / 10**6
    text = format_decimal(value, 3)
    if text == "0" and total_bytes > 0:
        text = "0.000001"
    return text, "MB"


def as_float(text: str | None) -> float | None:
    """A number from XML text, or ``None`` (for "variable", empty or junk)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
