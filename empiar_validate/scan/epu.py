"""Pixel size from EPU's per-image XML sidecar, for movies whose own header has none.

EPU (Thermo Fisher) writes beside each movie ``FoilHole_..._Data_..._fractions.tiff`` (or
``.eer``/``.mrc``) a ``FoilHole_..._Data_....xml`` "MicroscopeImage" document whose
``SpatialScale/pixelSize/x|y/numericValue`` is the pixel size in metres. TIFF movies carry no
pixel size of their own, so without the sidecar every EPU session would lack one. A sidecar that
is not EPU XML, has no pixel size, or is malformed is ignored silently: it is a hint, not input
the depositor asked us to check.
"""

from __future__ import annotations

import os
import posixpath

from empiar_validate.formats import split_extension
from empiar_validate.formats.units import round6
from empiar_validate.records import FileRecord

MAX_SIDECAR_BYTES = 1 << 20  # a real sidecar is ~10 kB
SOURCE = "EPU xml"
_FRACTIONS = "_fractions"
_UNITS_TO_ANGSTROM = {"m": 1e10, "nm": 10.0, "Å": 1.0, "A": 1.0}


def movie_stem(name: str) -> str:
    """The sidecar stem a movie belongs to: ``X_fractions.tiff`` and ``X.mrc.bz2`` give ``X``."""
    ext, comp = split_extension(name)
    cut = len(ext) + {"gzip": 3, "bzip2": 4}.get(comp or "", 0)
    stem = name[: len(name) - cut] if cut else name
    if stem.lower().endswith(_FRACTIONS):
        stem = stem[: -len(_FRACTIONS)]
    return stem


def _local(tag: object) -> str:
    """An element's name without its namespace (EPU mixes several DataContract namespaces)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element, name: str):  # type: ignore[no-untyped-def]
    """The first child element named ``name`` in any namespace, or ``None``."""
    if element is None:
        return None
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _axis_angstrom(size, axis: str) -> float | None:  # type: ignore[no-untyped-def]
    """One axis of ``pixelSize`` in Å: ``numericValue`` scaled by its ``unit/symbol``
    (metres when absent, as EPU writes them); ``None`` unless a positive, plausible size."""
    node = _child(size, axis)
    value = _child(node, "numericValue")
    if value is None or not value.text:
        return None
    symbol = _child(_child(node, "unit"), "symbol")
    unit = (symbol.text or "").strip() if symbol is not None else "m"
    scale = _UNITS_TO_ANGSTROM.get(unit)
    try:
        number = float(value.text.strip())
    except ValueError:
        return None
    if scale is None or not number > 0:
        return None
    angstrom = number * scale
    return round6(angstrom) if 0 < angstrom < 1e6 else None


def read_epu_pixel_size(path: str) -> tuple[float, float] | None:
    """``(x, y)`` pixel size in Å from an EPU MicroscopeImage sidecar; ``None`` for anything
    else (unreadable, oversized, not well-formed, a DOCTYPE, not EPU, no pixel size)."""
    from empiar_validate.xmlsafe import parse_xml_file

    tree, problems = parse_xml_file(path, name=path, max_bytes=MAX_SIDECAR_BYTES)
    if tree is None or problems:
        return None
    root = tree.getroot()
    if _local(root.tag) != "MicroscopeImage":
        return None
    size = _child(_child(root, "SpatialScale"), "pixelSize")
    x, y = _axis_angstrom(size, "x"), _axis_angstrom(size, "y")
    if x is None and y is None:
        return None
    return (x or y, y or x)  # type: ignore[return-value]


def fill_from_sidecars(root: str, records: list[FileRecord]) -> None:
    """Give movies without a pixel size the one their EPU sidecar states (same directory, same
    stem). Each sidecar is read once, and only when some movie needs it."""
    needing: dict[str, list[FileRecord]] = {}
    for rec in records:
        if rec.format is None or rec.pixel_width or rec.pixel_height:
            continue
        directory, name = posixpath.split(rec.path)
        needing.setdefault(posixpath.join(directory, movie_stem(name)), []).append(rec)
    if not needing:
        return
    for rec in records:
        if not rec.path.lower().endswith(".xml") or rec.format is not None:
            continue
        movies = needing.get(rec.path[:-4])
        if not movies:
            continue
        size = read_epu_pixel_size(os.path.join(root, rec.path))
        if size is None:
            continue
        for movie in movies:
            movie.pixel_width, movie.pixel_height = size
            movie.extra["pixel_size_source"] = SOURCE
            movie.extra["pixel_size_sidecar"] = posixpath.basename(rec.path)
