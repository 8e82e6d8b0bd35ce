"""How MRC mode 0 (bytes) is read: as IMOD and EMPIAR read it, or as the MRC2014 standard says.

MRC2014 says mode 0 is signed bytes, and mrcfile reads it so. IMOD, and EMPIAR's annotators who
read headers as IMOD does, take mode 0 as **unsigned** unless the header carries IMOD's stamp
(``imodStamp`` 1146047817 at byte 152) with bit 0 of ``imodFlags`` (byte 156) set, which says
"signed bytes". Gatan Microscopy Suite writes its mode-0 movies as unsigned bytes without the
stamp, and EMPIAR publishes them as ``UNSIGNED BYTE`` (entry 10511). So the default is
``imod``; ``--mrc-mode0 mrc2014`` gives the standard's reading for those who need it.
"""

from __future__ import annotations

from empiar_validate.formats.voxel import voxel_type
from empiar_validate.records import FileRecord

MODE0_READINGS = ("imod", "mrc2014")
_reading = "imod"


def set_mode0_reading(name: str) -> None:
    """Choose how mode 0 is read in this run (the CLI's ``--mrc-mode0``)."""
    global _reading
    if name not in MODE0_READINGS:
        raise ValueError(f"mode 0 reading must be one of {', '.join(MODE0_READINGS)}")
    _reading = name


def mode0_reading() -> str:
    """How mode 0 is read in this run."""
    return _reading


def read_mode0(stamped: bool, imod_flags: int, record: FileRecord) -> None:
    """Set ``record.voxel_type`` for mode 0 bytes; ``stamped`` says the IMOD stamp is present."""
    signed = _reading == "mrc2014" or (stamped and bool(imod_flags & 1))
    record.voxel_type = voxel_type("i" if signed else "u", 8)
    record.extra["mode0_reading"] = _reading
    if stamped:
        record.extra["imod_signed_bytes"] = bool(imod_flags & 1)
