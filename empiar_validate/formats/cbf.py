"""CBF (Crystallographic Binary File) diffraction frames: size, type and pixel size.

The other common diffraction format besides SMV (PILATUS/EIGER "mini-CBF", DIALS and fabio
exports). A CBF is CIF text starting ``###CBF:``, whose binary section has MIME-style headers
ending at the marker ``0C 1A 04 D5``::

    X-Binary-Element-Type: "signed 32-bit integer"
    X-Binary-Size-Fastest-Dimension: 2463
    X-Binary-Size-Second-Dimension: 2527

and, in PILATUS headers, ``# Pixel_size 172e-6 m x 172e-6 m``. Only the text before the marker
is read. EMPIAR has no CBF in its format list, so ``scan`` reports the format (G115) and the
deposition carries it as "other"; the pixel size is converted to Å as for other detectors.
"""

from __future__ import annotations

import re

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.records import LAYOUT_IMAGE, FileRecord

BINARY_MARKER = b"\x0c\x1a\x04\xd5"
MAX_TEXT = 1 << 16  # CIF text read before the binary section at most

F_CBF_HEADER = rule(
    "F720", Severity.ERROR, "CBF header is invalid",
    "The file starts like a CBF frame but its binary section header (dimensions) cannot be "
    "read; replace it with a valid copy.",
)
F_CBF_TYPE = rule(
    "F721", Severity.ERROR, "unknown CBF element type",
    "X-Binary-Element-Type must be a signed/unsigned 8/16/32-bit integer or a 32-bit IEEE real; "
    "the file is corrupt or non-standard.",
)

_TYPES = {
    "signed 8-bit integer": "SIGNED BYTE", "unsigned 8-bit integer": "UNSIGNED BYTE",
    "signed 16-bit integer": "SIGNED 16 BIT INTEGER",
    "unsigned 16-bit integer": "UNSIGNED 16 BIT INTEGER",
    "signed 32-bit integer": "SIGNED 32 BIT INTEGER",
    "unsigned 32-bit integer": "UNSIGNED 32 BIT INTEGER",
    "signed 32-bit real ieee": "32 BIT FLOAT",
}
_MIME = re.compile(r"^X-Binary-([A-Za-z-]+):\s*\"?([^\"\r\n]*)\"?\s*$", re.MULTILINE)
_PIXEL = re.compile(r"#\s*Pixel_size\s+([0-9.eE+-]+)\s*m\s*x\s*([0-9.eE+-]+)\s*m")


def looks_like_cbf(head: bytes) -> bool:
    """True when ``head`` starts like a CBF file."""
    return head.startswith(b"###CBF")


def read(source, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    """Fill ``record`` from a CBF frame's text header; every problem becomes a finding."""
    def problem(r: Rule, message: str) -> None:
        record.problems.append(Finding.of(r, message, file=record.path))

    record.format = record.header_format = "CBF"
    head = source.head
    if BINARY_MARKER not in head:
        with source.open() as fh:
            head = fh.read(MAX_TEXT)
    end = head.find(BINARY_MARKER)
    text = (head if end < 0 else head[:end]).decode("latin-1")
    fields = {k.lower(): v.strip() for k, v in _MIME.findall(text)}
    try:
        width = int(fields["size-fastest-dimension"])
        height = int(fields["size-second-dimension"])
    except (KeyError, ValueError):
        problem(F_CBF_HEADER, "no X-Binary-Size-Fastest-Dimension / -Second-Dimension before "
                              "the binary data")
        return
    if width < 1 or height < 1:
        problem(F_CBF_HEADER, f"dimensions {width} x {height}")
        return
    record.width, record.height, record.depth, record.layout = width, height, 1, LAYOUT_IMAGE
    kind = fields.get("element-type", "").lower()
    if kind in _TYPES:
        record.voxel_type = _TYPES[kind]
    else:
        problem(F_CBF_TYPE, f"X-Binary-Element-Type {kind or '(missing)'!r}")
    pixel = _PIXEL.search(text)
    if pixel:
        try:
            px, py = float(pixel.group(1)) * 1e10, float(pixel.group(2)) * 1e10  # m -> Å
        except ValueError:
            return
        if px > 0 and py > 0:
            record.pixel_width, record.pixel_height = round(px, 4), round(py, 4)
