"""Map numpy dtypes and bit depths to EMPIAR's voxel type names.

EMPIAR's list is closed (``UNSIGNED BYTE`` ... ``4 BIT INTEGER``); types outside it are named in
the same style (``16 BIT FLOAT``, ``64 BIT FLOAT``) so a depositor sees what the file holds and
the schema can flag it.
"""

from __future__ import annotations

EMPIAR_VOXEL_TYPES = (
    "UNSIGNED BYTE",
    "SIGNED BYTE",
    "UNSIGNED 16 BIT INTEGER",
    "SIGNED 16 BIT INTEGER",
    "UNSIGNED 32 BIT INTEGER",
    "SIGNED 32 BIT INTEGER",
    "32 BIT FLOAT",
    "BIT",
    "4 BIT INTEGER",
)


def voxel_type(kind: str, bits: int) -> str:
    """EMPIAR name for a sample of numpy ``kind`` (``u``, ``i``, ``f``, ``c``, ``b``) and ``bits``.

    >>> voxel_type("u", 8), voxel_type("i", 16), voxel_type("f", 32), voxel_type("f", 16)
    ('UNSIGNED BYTE', 'SIGNED 16 BIT INTEGER', '32 BIT FLOAT', '16 BIT FLOAT')
    """
    if kind == "b" or (kind == "u" and bits == 1):
        return "BIT"
    if kind == "u" and bits == 4:
        return "4 BIT INTEGER"
    if kind in ("u", "i") and bits == 8:
        return "UNSIGNED BYTE" if kind == "u" else "SIGNED BYTE"
    if kind == "u":
        return f"UNSIGNED {bits} BIT INTEGER"
    if kind == "i":
        return f"SIGNED {bits} BIT INTEGER"
    if kind == "f":
        return f"{bits} BIT FLOAT"
    if kind == "c":
        return f"{bits} BIT COMPLEX"
    return f"{bits} BIT {kind.upper()}"


def voxel_type_of_dtype(dtype: object) -> str:
    """EMPIAR name for a numpy dtype (anything ``numpy.dtype`` accepts)."""
    import numpy as np

    dt = np.dtype(dtype)  # type: ignore[call-overload]
    return voxel_type(dt.kind, dt.itemsize * 8)
