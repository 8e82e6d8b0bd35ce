"""SMV (ADSC "Super Marty View") diffraction frames: size, type, byte order and pixel size.

MicroED data (EMPIAR 10318 and most electron-diffraction entries) are deposited as SMV
``.img`` frames, converted from the camera's own format by tools such as ``tvips-tools`` or
``mrc2smv``. An SMV file is an ASCII header in braces, padded to ``HEADER_BYTES``, then raw
pixels::

    {
    HEADER_BYTES=  512;
    DIM=2;
    BYTE_ORDER=little_endian;
    TYPE=unsigned_short;
    SIZE1=2048;
    SIZE2=2048;
    PIXEL_SIZE=0.028;
    ...
    }

``.img`` is also IMAGIC's data extension, so SMV is recognised by content
(:func:`looks_like_smv`) before the extension is believed: an unzipped SMV frame is not a
broken IMAGIC pair. The pixel size is copied as the header writes it, without unit conversion:
for diffraction data it is a detector pixel (millimetres by ADSC's convention), not a
real-space sampling, and EMPIAR publishes the number as deposited (51.0 for entry 10318).
"""

from __future__ import annotations

import re

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.records import LAYOUT_IMAGE, FileRecord

MAX_HEADER_BYTES = 1 << 16  # a real header is 512 or a few KiB; more is not an SMV header

F_SMV_HEADER = rule(
    "F700", Severity.ERROR, "SMV header is invalid",
    "The file starts like an SMV diffraction frame but its header cannot be read (no closing "
    "brace, no HEADER_BYTES, SIZE1 or SIZE2); replace it with a valid copy.",
)
F_SMV_TYPE = rule(
    "F701", Severity.ERROR, "unknown SMV data type",
    "TYPE must be unsigned_short (or mad), signed_short, unsigned_int/long, signed_int/long or "
    "float; the file is corrupt or non-standard.",
)
F_SMV_SHORT = rule(
    "F702", Severity.ERROR, "SMV file shorter than its header says",
    "The frame was cut short; copy it again from the original.",
)
F_SMV_PIXEL = rule(
    "F703", Severity.WARNING, "SMV pixel size not in the header",
    "Add PIXEL_SIZE to the header (the conversion tool writes it), or give the pixel size in "
    "the deposition.",
)

# TYPE -> (voxel type, bytes per pixel)
_TYPES: dict[str, tuple[str, int]] = {
    "unsigned_short": ("UNSIGNED 16 BIT INTEGER", 2),
    "mad": ("UNSIGNED 16 BIT INTEGER", 2),  # old ADSC name for unsigned 16-bit
    "signed_short": ("SIGNED 16 BIT INTEGER", 2),
    "unsigned_int": ("UNSIGNED 32 BIT INTEGER", 4),
    "unsigned_long": ("UNSIGNED 32 BIT INTEGER", 4),
    "signed_int": ("SIGNED 32 BIT INTEGER", 4),
    "signed_long": ("SIGNED 32 BIT INTEGER", 4),
    "long": ("SIGNED 32 BIT INTEGER", 4),
    "float": ("32 BIT FLOAT", 4),
    "unsigned_char": ("UNSIGNED BYTE", 1),
}
_START = re.compile(rb"\A\{\s*HEADER_BYTES\s*=\s*(\d+)\s*;")
_ITEM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^;]*);")


def looks_like_smv(head: bytes) -> bool:
    """True when ``head`` starts like an SMV header (``{`` then ``HEADER_BYTES=N;``)."""
    return head[:1] == b"{" and _START.match(head[:64]) is not None


def parse_header(head: bytes) -> dict[str, str] | None:
    """The header's ``KEY=value;`` items (keys upper-case), or ``None`` when it is not one.

    ``head`` must hold the whole header (HEADER_BYTES bytes, or up to the closing brace).
    """
    match = _START.match(head[:64])
    if match is None:
        return None
    header_bytes = int(match.group(1))
    end = head.find(b"}", 0, min(len(head), max(header_bytes, 1), MAX_HEADER_BYTES))
    if end < 0:
        return None
    text = head[1:end].decode("ascii", "replace")
    items = {key.upper(): value.strip() for key, value in _ITEM.findall(text)}
    items["HEADER_BYTES"] = str(header_bytes)
    return items


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number > 0 and number < 1e12 else None


def read(source, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    """Fill ``record`` from an SMV header; every problem becomes a finding."""
    def problem(r: Rule, message: str) -> None:
        record.problems.append(Finding.of(r, message, file=record.path))

    record.format = record.header_format = "SMV"
    head = source.head
    match = _START.match(head[:64])
    wanted = int(match.group(1)) if match else 0
    if match and len(head) < min(wanted, MAX_HEADER_BYTES) and b"}" not in head:
        with source.open() as fh:  # a header longer than the dispatcher's first bytes
            head = fh.read(min(wanted, MAX_HEADER_BYTES))
    items = parse_header(head)
    if items is None:
        problem(F_SMV_HEADER, "no closing brace within HEADER_BYTES: the header is cut short "
                              "or not SMV")
        return
    header_bytes = _int(items.get("HEADER_BYTES")) or 0
    width, height = _int(items.get("SIZE1")), _int(items.get("SIZE2"))
    if not width or not height or width < 1 or height < 1:
        problem(F_SMV_HEADER, f"SIZE1/SIZE2 missing or not positive "
                              f"({items.get('SIZE1')!r} x {items.get('SIZE2')!r})")
        return
    record.width, record.height, record.depth = width, height, 1
    record.layout = LAYOUT_IMAGE
    order = items.get("BYTE_ORDER", "little_endian").lower()
    record.extra["byte_order"] = "big" if order.startswith("big") else "little"
    record.extra["header_bytes"] = header_bytes
    # ADSC writes TYPE=unsigned_short; fabio writes "Data_type= unsigned short int"
    kind = items.get("TYPE") or items.get("DATA_TYPE", "unsigned_short").lower().removesuffix(
        " int").replace(" ", "_")
    kind = kind.lower()
    known = _TYPES.get(kind)
    if known is None:
        problem(F_SMV_TYPE, f"TYPE={kind}")
    else:
        record.voxel_type, nbytes = known
        expected = header_bytes + width * height * nbytes
        if source.compression is None and source.size < expected:
            problem(F_SMV_SHORT, f"the header says {width} x {height} {kind} pixels after "
                                 f"{header_bytes} header bytes ({expected} bytes) but the file "
                                 f"has {source.size}")
    pixel = _float(items.get("PIXEL_SIZE"))
    if pixel is None:
        problem(F_SMV_PIXEL, "no usable PIXEL_SIZE in the header")
    else:
        record.pixel_width = record.pixel_height = pixel
    for key, name in (("WAVELENGTH", "wavelength_A"), ("DISTANCE", "distance_mm"),
                      ("OSC_RANGE", "oscillation_deg"), ("PHI", "phi_deg")):
        value = items.get(key)
        if value is not None:
            try:
                record.extra[name] = float(value)
            except ValueError:
                continue
