"""IMAGIC-5 reader: a ``.hed`` of 1024-byte records (one per image) beside a raw ``.img``.

Only the first header record is read. Both files of a pair get a record: the ``.hed`` carries
the findings, the ``.img`` the same description with ``extra["imagic_role"] = "data"``, so a
scan can count the pair once (by its header) without losing a stray ``.img``.

Word numbers below are IMAGIC's 1-based ones: IFOL (2) = images - 1, IXLP (13) = lines per
image (height), IYLP (14) = pixels per line (width), TYPE (15), IZLP (61) = sections per
volume, IMAVERS (68), REALTYPE (69) = float/byte-order stamp, RESOLX/Y (123/124) = Å/pixel.
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from empiar_validate.decompress import DECOMPRESSION_ERRORS
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats.voxel import voxel_type
from empiar_validate.paths import READ_FLAGS
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, LAYOUT_VOLUME, FileRecord

if TYPE_CHECKING:
    from empiar_validate.findings import Rule
    from empiar_validate.formats.base import Source

RECORD_BYTES = 1024
MAX_DIM = (1 << 24) - 1
MAX_YEAR = 65535  # the creation year swapped is far beyond this: the classic byte-order test
# TYPE -> (EMPIAR voxel type, bytes per pixel)
TYPES = {
    "PACK": (voxel_type("u", 8), 1),
    "INTG": (voxel_type("i", 16), 2),
    "REAL": (voxel_type("f", 32), 4),
    "COMP": (voxel_type("c", 64), 8),
    "RECO": (voxel_type("c", 64), 8),
}
REALTYPE_ORDER = {33686018: "<", 67372036: ">", 16777216: "<"}  # IEEE LE, IEEE BE, VAX
REALTYPE_VAX = 16777216  # VAX floats are not IEEE: the pixel size words cannot be trusted

I_SHORT = rule(
    "F500", Severity.ERROR, "IMAGIC header record truncated (shorter than 1024 bytes)",
    "The .hed file was cut short; copy it again from the original.",
)
I_PARTNER = rule(
    "F501", Severity.ERROR, "IMAGIC partner file missing (.hed without .img or .img without .hed)",
    "Deposit both files of each IMAGIC pair, with the same name and the extensions .hed and .img.",
)
I_IMPLAUSIBLE = rule(
    "F502", Severity.ERROR, "not a plausible IMAGIC header",
    "The .hed is corrupt or not an IMAGIC header; replace it with a valid copy.",
)
I_TYPE = rule(
    "F503", Severity.ERROR, "unknown IMAGIC data type",
    "The header's TYPE must be REAL, INTG, PACK, COMP or RECO; the file is corrupt or "
    "non-standard.",
)
I_TRUNCATED = rule(
    "F504", Severity.ERROR, "IMAGIC data file shorter than the header says",
    "The .img was cut short or does not belong to this .hed; copy the pair again.",
)
I_LARGER = rule(
    "F505", Severity.WARNING, "IMAGIC data file larger than the header says",
    "Check that the .img belongs to this .hed; trailing bytes are ignored by most software.",
)
I_FEW_RECORDS = rule(
    "F506", Severity.ERROR, "IMAGIC header file has fewer records than images",
    "The .hed was cut short; copy it again from the original.",
)
I_MANY_RECORDS = rule(
    "F507", Severity.WARNING, "IMAGIC header file has more records than images",
    "Check IFOL (word 2) against the number of images; extra records are ignored.",
)
I_PIXEL = rule(
    "F508", Severity.WARNING, "IMAGIC pixel size not in the header",
    "Set RESOLX/RESOLY (words 123/124, Å per pixel), or give the pixel size in the deposition.",
)
I_COMPLEX = rule(
    "F509", Severity.WARNING, "complex IMAGIC data (EMPIAR has no complex voxel type)",
    "Deposit real-space images rather than Fourier transforms.",
)
I_SECTIONS = rule(
    "F510", Severity.WARNING, "IMAGIC image count is not a multiple of the sections per volume",
    "Check IZLP (word 61) and IFOL (word 2); the volumes cannot be told apart.",
)


@dataclass(frozen=True, slots=True)
class ImagicHeader:
    """The first header record's fields, as Python values in one byte order."""

    order: str
    ifol: int
    year: int
    lines: int  # IXLP: height
    pixels: int  # IYLP: width
    type: str
    izlp: int
    imavers: int
    realtype: int
    resol: tuple[float, float]

    @property
    def images(self) -> int:
        """2-D images (sections) in the pair: IFOL + 1."""
        return self.ifol + 1

    def plausible(self) -> bool:
        """True when counts and dimensions make sense in this byte order. The date words do not
        decide: Xmipp writes nonsense there (and in IERROR); they only break ties."""
        return (self.ifol >= 0 and 0 < self.lines <= MAX_DIM
                and 0 < self.pixels <= MAX_DIM and 0 <= self.izlp <= MAX_DIM)

    def dated(self) -> bool:
        """True when the year word is a year (a tie-breaker between byte orders)."""
        return abs(self.year) <= MAX_YEAR


def parse_header(head: bytes, order: str) -> ImagicHeader:
    """Parse the first 1024-byte IMAGIC record in byte order ``order``."""
    w = struct.unpack(f"{order}14i", head[:56])
    izlp = struct.unpack(f"{order}i", head[240:244])[0]
    imavers, realtype = struct.unpack(f"{order}2i", head[268:276])
    resol = struct.unpack(f"{order}2f", head[488:496])
    return ImagicHeader(
        order=order, ifol=w[1], year=w[6], lines=w[12], pixels=w[13],
        type=head[56:60].decode("latin-1"), izlp=izlp, imavers=imavers, realtype=realtype,
        resol=(resol[0], resol[1]),
    )


def choose_header(head: bytes) -> ImagicHeader | None:
    """The header in the byte order REALTYPE says, else the plausible one; None if neither."""
    by_order = {o: parse_header(head, o) for o in ("<", ">")}
    said = REALTYPE_ORDER.get(by_order["<"].realtype)  # the stamps are byte-order symmetric
    if said is not None and by_order[said].plausible():
        return by_order[said]
    candidates = [h for h in by_order.values() if h.plausible()]
    if not candidates:
        return None
    return min(candidates, key=lambda h: (not h.dated(), h.lines * h.pixels, h.order))


def partner_path(path: str, ext: str) -> str | None:
    """The other file of an IMAGIC pair (``ext`` is ``.hed`` or ``.img``), or None.

    Tries the lower- and upper-case extension, keeping a compression suffix if ours has one.
    """
    directory, name = os.path.split(path)
    suffix = ""
    for comp in (".gz", ".bz2"):
        if name.lower().endswith(comp):
            name, suffix = name[: -len(comp)], name[-len(comp):]
            break
    stem = os.path.splitext(name)[0]
    for candidate_ext in (ext, ext.upper()):
        for end in dict.fromkeys((suffix, "")):
            candidate = os.path.join(directory, stem + candidate_ext + end)
            if os.path.isfile(candidate):
                return candidate
    return None


def read(source: Source, record: FileRecord) -> None:
    """Fill ``record`` for a ``.hed`` (role header) or ``.img`` (role data) of an IMAGIC pair."""
    record.format = record.header_format = "IMAGIC"
    is_data = source.ext == ".img"
    record.extra["imagic_role"] = "data" if is_data else "header"
    partner = partner_path(source.path, ".hed" if is_data else ".img")
    record.extra["imagic_header" if is_data else "imagic_data"] = (
        os.path.basename(partner) if partner else None)
    if is_data:
        if partner is None:
            _add(record.problems, record, I_PARTNER, "no .hed header file beside this .img; "
                                                     "the data cannot be interpreted without it")
            return
        head, hed_size = _read_partner_head(partner)
        if head is None:
            return  # the .hed's own record reports why it cannot be read
        # Findings about the pair belong to the .hed record; the .img only describes itself.
        _describe(head, hed_size, source.path, record, [])
        return
    hed_size = None if source.compression else source.size
    _describe(source.head, hed_size, partner, record, record.problems)


def _describe(head: bytes, hed_size: int | None, img_path: str | None, record: FileRecord,
              problems: list[Finding]) -> None:
    """Fill the record from a .hed's first record; findings go to ``problems``."""
    if len(head) < RECORD_BYTES:
        _add(problems, record, I_SHORT, f"only {len(head)} bytes; an IMAGIC record is 1024")
        return
    h = choose_header(head)
    if h is None:
        w = parse_header(head, "<")
        _add(problems, record, I_IMPLAUSIBLE,
             f"IFOL {w.ifol}, IXLP {w.lines}, IYLP {w.pixels} make no sense in either byte "
             "order")
        return
    record.extra["byte_order"] = "little" if h.order == "<" else "big"
    if h.imavers > 0:
        record.extra["imagic_version"] = h.imavers
    info = TYPES.get(h.type)
    if info is None:
        _add(problems, record, I_TYPE, f"TYPE {h.type!r} is not REAL, INTG, PACK, COMP or RECO")
        return
    record.voxel_type = info[0]
    record.width, record.height, record.depth = h.pixels, h.lines, h.images
    if h.type in ("COMP", "RECO"):
        _add(problems, record, I_COMPLEX, f"TYPE {h.type} holds complex numbers")
    _layout(h, record, problems)
    _pixel_size(h, record, problems)
    _size_checks(h, info[1], hed_size, img_path, record, problems)


def _layout(h: ImagicHeader, record: FileRecord, problems: list[Finding]) -> None:
    sections = max(h.izlp, 1)  # files before the 4-D header have 0 here
    if h.images == 1:
        record.layout = LAYOUT_IMAGE
    elif sections > 1:
        record.layout = LAYOUT_VOLUME
        if h.images % sections == 0:
            record.extra["volume_count"] = h.images // sections
        else:
            _add(problems, record, I_SECTIONS,
                 f"{h.images} images do not split into volumes of IZLP = {sections} sections")
    else:
        record.layout = LAYOUT_STACK


def _pixel_size(h: ImagicHeader, record: FileRecord, problems: list[Finding]) -> None:
    sizes = [_angstrom(v) if h.realtype != REALTYPE_VAX else None for v in h.resol]
    record.pixel_width, record.pixel_height = sizes
    if None in sizes:
        _add(problems, record, I_PIXEL, "RESOLX/RESOLY (words 123/124) hold no pixel size")


def _angstrom(value: float) -> float | None:
    if not math.isfinite(value) or not 0 < value < 1e6:
        return None
    return float(f"{value:.7g}")  # float32 precision, stable in JSON


def _size_checks(h: ImagicHeader, bytes_per_pixel: int, hed_size: int | None,
                 img_path: str | None, record: FileRecord, problems: list[Finding]) -> None:
    """The .hed must hold one record per image, the .img every image's pixels."""
    if hed_size is not None:
        needed = h.images * RECORD_BYTES
        if hed_size < needed:
            _add(problems, record, I_FEW_RECORDS,
                 f"{hed_size} bytes hold {hed_size // RECORD_BYTES} records but IFOL says "
                 f"{h.images} images ({needed} bytes)")
        elif hed_size > needed:
            _add(problems, record, I_MANY_RECORDS,
                 f"{hed_size} bytes hold {hed_size // RECORD_BYTES} records but IFOL says "
                 f"{h.images} images")
    if img_path is None:
        _add(problems, record, I_PARTNER, "no .img data file beside this .hed")
        return
    if img_path.lower().endswith((".gz", ".bz2")):
        record.extra["size_check"] = "skipped: the .img is compressed"
        return
    try:
        img_size = os.stat(img_path).st_size
    except OSError:
        record.extra["size_check"] = "skipped: the .img cannot be read"
        return
    record.extra["size_check"] = "file size"
    expected = h.images * h.pixels * h.lines * bytes_per_pixel
    shape = f"{h.images} × {h.pixels} × {h.lines} × {bytes_per_pixel} bytes"
    if img_size < expected:
        _add(problems, record, I_TRUNCATED,
             f".img is {img_size} bytes but the header needs {expected} ({shape})")
    elif img_size > expected:
        _add(problems, record, I_LARGER,
             f".img is {img_size} bytes but the header accounts for {expected} ({shape})")


def _read_partner_head(path: str) -> tuple[bytes | None, int | None]:
    """First record and size of a partner .hed (decompressing a .gz/.bz2 one)."""
    try:
        lower = path.lower()
        if lower.endswith(".gz"):
            import gzip

            with gzip.open(path, "rb") as fh:
                return fh.read(RECORD_BYTES), None
        if lower.endswith(".bz2"):
            import bz2

            with bz2.open(path, "rb") as fh:
                return fh.read(RECORD_BYTES), None
        # O_NONBLOCK: a FIFO swapped in after the isfile() check must not block the scan
        fd = os.open(path, READ_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            return fh.read(RECORD_BYTES), os.fstat(fh.fileno()).st_size
    except DECOMPRESSION_ERRORS:  # a damaged .hed.gz is reported as a missing header
        return None, None


def _add(problems: list[Finding], record: FileRecord, r: Rule, message: str) -> None:
    problems.append(Finding.of(r, message, file=record.path))
