"""Lengths in the units microscopy software writes, converted to Ångström.

TIFF resolution tags, ImageJ descriptions, Zeiss SEM metadata and DigitalMicrograph calibrations
all name their unit as free text; one table here reads them all the same way.
"""

from __future__ import annotations

_ANGSTROMS_PER_UNIT = {
    "pm": 0.01, "a": 1.0, "å": 1.0, "angstrom": 1.0, "angstroms": 1.0, "ang": 1.0,
    "nm": 10.0, "nanometer": 10.0, "nanometers": 10.0, "nanometre": 10.0,
    "um": 1e4, "µm": 1e4, "μm": 1e4, "micron": 1e4, "microns": 1e4, "micrometer": 1e4,
    "micrometers": 1e4, "micrometre": 1e4, "mm": 1e7, "cm": 1e8, "m": 1e10,
}


def angstroms_per(unit: object) -> float | None:
    """Å in one ``unit`` of length (``nm``, ``µm``/``um``/``micron``, ``Å``/``A``, ``pm``, ...).

    Both micro signs (U+00B5, U+03BC) and the Ångström sign U+212B are accepted, as is ImageJ's
    escaped ``\\u00B5m``; anything else (``pixel``, ``inch``, ``1/nm``) is ``None``.
    """
    if not isinstance(unit, str):
        return None
    text = unit.strip().replace("\\u00B5", "µ").replace("\\u00b5", "µ")
    text = text.replace("\\u00C5", "Å").replace("\u212b", "Å").replace("\\u212B", "Å")
    return _ANGSTROMS_PER_UNIT.get(text.lower().rstrip("."))


def round6(value: float) -> float:
    """Round away binary noise (1e-10 * 1.06e10 = 1.0600000000000001) for stable output."""
    return float(f"{value:.6g}")
