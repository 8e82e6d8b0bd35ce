"""SPIDER reader: a header of float32 words (either byte order) in front of float32 data.

SPIDER has no magic number, so a header counts only when its words are self-consistent:
integral sizes, a known IFORM, LENBYT = 4 × NX and LABBYT = LABREC × LENBYT. The same test,
:func:`looks_like_spider`, can recognise SPIDER files named ``.dat``.

Word numbers are SPIDER's 1-based ones: NZ (1), NY (2), IFORM (5), NX (12), LABREC (13),
LABBYT (22), LENBYT (23), ISTACK (24), MAXIM (26), PIXSIZ (38, Å).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats.voxel import voxel_type
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, LAYOUT_VOLUME, FileRecord

if TYPE_CHECKING:
    from empiar_validate.formats.base import Source

MIN_HEADER = 1024  # SPIDER pads its header to at least 1024 bytes
WORDS = 38  # header words this reader needs
MAX_DIM = (1 << 24) - 1
IFORMS = {
    1: "2D image", 3: "3D volume",
    -11: "2D Fourier, odd", -12: "2D Fourier, even",
    -21: "3D Fourier, odd", -22: "3D Fourier, even",
}
OBSOLETE_IFORMS = {8, 11, 12, 16, -1, -3, -7, -9}  # no longer supported by SPIDER itself

S_SHORT = rule(
    "F600", Severity.ERROR, "SPIDER header truncated (file shorter than 1024 bytes)",
    "The file was cut short; copy it again from the original.",
)
S_IMPLAUSIBLE = rule(
    "F601", Severity.ERROR, "not a plausible SPIDER header",
    "The file is corrupt or not a SPIDER file; replace it or rename it.",
)
S_TRUNCATED = rule(
    "F602", Severity.ERROR, "SPIDER file shorter than its header says",
    "The file was cut short; copy it again from the original.",
)
S_LARGER = rule(
    "F603", Severity.WARNING, "SPIDER file larger than its header says",
    "Check the header dimensions; trailing bytes are ignored by most software.",
)
S_PIXEL = rule(
    "F604", Severity.WARNING, "SPIDER pixel size not in the header",
    "Set PIXSIZ (header word 38, Å) with SPIDER `ST H`, or give the pixel size in the "
    "deposition.",
)
S_FOURIER = rule(
    "F605", Severity.WARNING, "SPIDER file holds Fourier-space data",
    "Deposit real-space images or maps rather than Fourier transforms.",
)
S_INDEXED = rule(
    "F606", Severity.WARNING, "indexed SPIDER stack: image count and size not checked",
    "Convert the indexed stack to a plain stack or to MRC before deposition.",
)
S_IFORM_NZ = rule(
    "F607", Severity.WARNING, "SPIDER IFORM and NZ disagree",
    "IFORM 1 is a 2-D image and needs NZ = 1; IFORM 3 is a volume; fix the header.",
)


@dataclass(frozen=True, slots=True)
class SpiderHeader:
    """The header words this reader uses, as floats in one byte order (SPIDER stores floats)."""

    order: str
    words: tuple[float, ...]  # words[0] is word 1 (NZ)

    def word(self, number: int) -> float:
        """Header word by SPIDER's 1-based number."""
        return self.words[number - 1]

    def int_word(self, number: int) -> int | None:
        """The word as an int when it holds an integral value, else None."""
        value = self.word(number)
        if not math.isfinite(value) or abs(value) >= 2**31 or value != int(value):
            return None
        return int(value)

    def reasons(self) -> list[str]:
        """Why this is not a SPIDER header in this byte order (empty: plausible)."""
        names = {1: "NZ", 2: "NY", 5: "IFORM", 12: "NX", 13: "LABREC", 22: "LABBYT",
                 23: "LENBYT", 24: "ISTACK", 26: "MAXIM"}
        values = {name: self.int_word(n) for n, name in names.items()}
        bad = [f"{name} = {self.word(n):g} is not an integer"
               for n, name in names.items() if values[name] is None]
        if bad:
            return bad
        v: dict[str, int] = {k: x for k, x in values.items() if x is not None}
        out = []
        if v["IFORM"] in OBSOLETE_IFORMS:
            out.append(f"IFORM {v['IFORM']} is an obsolete SPIDER type")
        elif v["IFORM"] not in IFORMS:
            out.append(f"IFORM {v['IFORM']} is not a SPIDER type")
        for name in ("NX", "NY"):
            if not 0 < v[name] <= MAX_DIM:
                out.append(f"{name} = {v[name]} is out of range")
        if not (0 < v["NZ"] <= MAX_DIM or v["NZ"] == -1):  # -1: legacy 2-D images
            out.append(f"NZ = {v['NZ']} is out of range")
        if v["LENBYT"] != 4 * v["NX"]:
            out.append(f"LENBYT = {v['LENBYT']} is not 4 × NX = {4 * v['NX']}")
        if v["LABREC"] < 1 or v["LABBYT"] != v["LABREC"] * v["LENBYT"]:
            out.append(f"LABBYT = {v['LABBYT']} is not LABREC × LENBYT")
        elif v["LABBYT"] < MIN_HEADER:
            out.append(f"LABBYT = {v['LABBYT']} is below {MIN_HEADER}")
        if v["ISTACK"] > 0 and v["MAXIM"] < 1:
            out.append(f"stack with MAXIM = {v['MAXIM']} images")
        return out


def parse_header(head: bytes, order: str) -> SpiderHeader:
    """The first :data:`WORDS` float32 words of ``head`` in byte order ``order``."""
    return SpiderHeader(order, struct.unpack(f"{order}{WORDS}f", head[: 4 * WORDS]))


def choose_header(head: bytes) -> tuple[SpiderHeader | None, list[str]]:
    """The plausible header (little-endian first), or None and the reasons against the closer
    of the two byte orders."""
    against = []
    for order in ("<", ">"):
        h = parse_header(head, order)
        reasons = h.reasons()
        if not reasons:
            return h, []
        against.append(reasons)
    return None, min(against, key=len)


def looks_like_spider(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) is a self-consistent SPIDER header."""
    return len(head) >= MIN_HEADER and choose_header(head)[0] is not None


def read(source: Source, record: FileRecord) -> None:
    """Fill ``record`` from the SPIDER header in ``source.head``; problems go to ``record``."""
    shown = record.path
    record.format = record.header_format = "SPIDER"
    if len(source.head) < MIN_HEADER:
        record.problems.append(Finding.of(
            S_SHORT, f"only {len(source.head)} bytes; a SPIDER header is at least {MIN_HEADER}",
            file=shown))
        return
    h, reasons = choose_header(source.head)
    if h is None:
        record.format = record.header_format = None
        record.problems.append(Finding.of(S_IMPLAUSIBLE, "; ".join(reasons), file=shown))
        return
    nx, ny = h.int_word(12) or 0, h.int_word(2) or 0
    nz = max(h.int_word(1) or 1, 1)  # legacy 2-D images store NZ = -1
    iform, labbyt = h.int_word(5) or 0, h.int_word(22) or 0
    istack, maxim = h.int_word(24) or 0, h.int_word(26) or 0
    record.voxel_type = voxel_type("f", 32)
    record.width, record.height = nx, ny
    record.extra["byte_order"] = "little" if h.order == "<" else "big"
    record.extra["spider_iform"] = iform
    if iform < 0:
        record.problems.append(Finding.of(
            S_FOURIER, f"IFORM {iform} ({IFORMS[iform]})", file=shown))
    if iform == 1 and nz > 1:
        record.problems.append(Finding.of(
            S_IFORM_NZ, f"IFORM 1 (2D image) but NZ = {nz}; read as a volume", file=shown))
    _pixel_size(h, record)
    image_bytes = nx * ny * nz * 4
    if istack == 0:
        record.depth = nz
        record.layout = LAYOUT_VOLUME if nz > 1 else LAYOUT_IMAGE
        _size_check(source, record, labbyt + image_bytes,
                    f"{labbyt} header + {nx} × {ny} × {nz} × 4 data")
        return
    record.extra["spider_stack"] = "indexed" if istack < 0 else "plain"
    if istack < 0:
        record.layout = LAYOUT_STACK
        record.depth = maxim * nz if maxim > 0 else None
        record.problems.append(Finding.of(
            S_INDEXED, f"ISTACK = {istack} (indexed stack); images not counted", file=shown))
        return
    record.depth = maxim * nz
    if nz > 1:
        record.layout = LAYOUT_VOLUME
        record.extra["volume_count"] = maxim
    else:
        record.layout = LAYOUT_STACK if maxim > 1 else LAYOUT_IMAGE
    _size_check(source, record, labbyt + maxim * (labbyt + image_bytes),
                f"{labbyt} header + {maxim} × ({labbyt} header + {nx} × {ny} × {nz} × 4 data)")


def _pixel_size(h: SpiderHeader, record: FileRecord) -> None:
    value = h.word(38)
    if math.isfinite(value) and 0 < value < 1e6:
        record.pixel_width = record.pixel_height = float(f"{value:.7g}")
        return
    record.problems.append(Finding.of(
        S_PIXEL, "PIXSIZ (word 38) holds no pixel size", file=record.path))


def _size_check(source: Source, record: FileRecord, expected: int, parts: str) -> None:
    if source.compression:
        record.extra["size_check"] = f"skipped: {source.compression}-compressed"
        return
    record.extra["size_check"] = "file size"
    if source.size < expected:
        record.problems.append(Finding.of(
            S_TRUNCATED, f"file is {source.size} bytes but the header needs {expected} ({parts})",
            file=record.path))
    elif source.size > expected:
        record.problems.append(Finding.of(
            S_LARGER, f"file is {source.size} bytes but the header accounts for {expected} "
                      f"({parts})", file=record.path))
