"""MRC2014 header fields that must make sense even though the record does not use them.

mrcfile's validator (``MrcObject.validate``) is the reference for what the standard implies:
sampling positive, the axis map a permutation of 1, 2, 3, the label count in range; an origin
that is not a number breaks every program that places the map. Each is a warning with a fix:
the data are readable, but the header will mislead the software that reads them next.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from empiar_validate.findings import Finding, Severity, rule

if TYPE_CHECKING:
    from empiar_validate.formats.mrc import MrcHeader
    from empiar_validate.records import FileRecord

MAX_LABELS = 10  # the MRC header has room for ten 80-character labels

M_MZ = rule(
    "F113", Severity.WARNING, "MRC sampling along Z (mz) is not positive",
    "Set mz to nz for a volume and to 1 for an image or a stack of images (mrcfile: "
    "header.mz; IMOD: alterheader -mxyz), so software can compute the section spacing.",
)
M_AXES = rule(
    "F114", Severity.WARNING, "MRC axis map (mapc, mapr, maps) is not a permutation of 1, 2, 3",
    "Set mapc, mapr, maps to 1, 2, 3 (or to the order the axes really have) with mrcfile or "
    "IMOD alterheader; readers otherwise transpose or refuse the data.",
)
M_LABELS = rule(
    "F115", Severity.WARNING, "MRC label count (nlabl) outside 0-10",
    "Set nlabl to the number of the ten 80-character labels in use (0 to 10), e.g. with "
    "mrcfile (it counts them) or IMOD alterheader.",
)
M_ORIGIN = rule(
    "F116", Severity.WARNING, "MRC origin is not a finite number",
    "Set the origin to finite values (0, 0, 0 when unknown), e.g. mrcfile header.origin or "
    "IMOD alterheader -org 0,0,0.",
)


def header_sanity(h: MrcHeader, record: FileRecord) -> None:
    """Append F113-F116 for the fields of ``h`` the standard constrains."""
    shown = record.path
    if h.mz <= 0 and h.mx > 0 and h.my > 0:  # mx or my too: F106 says the sampling is broken
        record.problems.append(Finding.of(
            M_MZ, f"mz = {h.mz}; it must be positive (nz = {h.nz})", file=shown))
    if sorted((h.mapc, h.mapr, h.maps)) != [1, 2, 3]:
        record.problems.append(Finding.of(
            M_AXES, f"mapc, mapr, maps = {h.mapc}, {h.mapr}, {h.maps}", file=shown))
    if not 0 <= h.nlabl <= MAX_LABELS:
        record.problems.append(Finding.of(
            M_LABELS, f"nlabl = {h.nlabl}; the header holds 0 to {MAX_LABELS} labels",
            file=shown))
    origin = (h.origin_x, h.origin_y, h.origin_z)
    if not all(math.isfinite(v) for v in origin):
        record.problems.append(Finding.of(
            M_ORIGIN, "origin = " + ", ".join(f"{v:g}" for v in origin), file=shown))
