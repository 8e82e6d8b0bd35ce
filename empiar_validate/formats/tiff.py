"""TIFF, BigTIFF and EER (Falcon electron-event) headers, without touching page data.

The frame count of a TIFF movie is the length of its IFD chain, so the chain is walked here with
a small bounded walker (a seen-set against loops, a page cap, every offset checked against the
file size) that decodes only each IFD's entry count and its first entries (subfile type, width,
height) with ``struct.unpack_from`` on a window of the file: the dispatcher's first 4 KiB, then
windows that grow while the IFDs lie one after the other (see :meth:`_Bytes.window`), so a movie
costs a few reads, not one per frame. tifffile's own walker checks for loops only once, at the
100th page, and parses a whole page per index; it is imported here for the first page's vendor
metadata alone (ImageJ, FEI/Thermo, Zeiss SEM), where its parsers are worth having, and for the
names of rare compression codes.

Compressed ``.tif.bz2``/``.tiff.gz`` files are read through a decompressed prefix of at most
:data:`STREAM_LIMIT` bytes: random access into a bz2 stream means decompressing everything before
the offset, so the first IFD is read when it lies within the prefix and the frame count is
reported only when the whole chain does.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import struct
import threading
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.formats.voxel import voxel_type
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, FileRecord

MAX_PAGES = 1 << 20  # IFDs walked per file; far above any real movie (EER: ~2000 frames)
MAX_TAGS = 4096  # entries in one IFD (tifffile uses the same bound)
MAX_VALUE_BYTES = 1 << 20  # largest tag value read (EER acquisition XML, ImageJ description)
STREAM_LIMIT = 16 << 20  # decompressed bytes read from a .tif.gz/.tif.bz2 at most
_SPECULATIVE_READ = 1024  # bytes read per IFD in one call: the count and ~80 entries
_MAX_WINDOW = 1 << 20  # most bytes read at once when IFDs lie one after the other
EER_COMPRESSIONS = {65000: "EER_V0", 65001: "EER_V1", 65002: "EER_V2"}

F_TIFF_HEADER = rule(
    "F200", Severity.ERROR, "TIFF file header is invalid",
    "The file is corrupt or not a TIFF; replace it with a valid copy.",
)
F_TIFF_LOOP = rule(
    "F201", Severity.ERROR, "TIFF IFD chain loops back on itself",
    "The file is corrupt; re-export it from the acquisition software.",
)
F_TIFF_OFFSET = rule(
    "F202", Severity.ERROR, "TIFF IFD offset points past the end of the file",
    "The file is truncated or corrupt; copy it again from the original.",
)
F_TIFF_IFD = rule(
    "F203", Severity.ERROR, "TIFF IFD is corrupt",
    "The file is corrupt; re-export it from the acquisition software.",
)
F_TIFF_TOO_MANY = rule(
    "F204", Severity.WARNING, "TIFF has more pages than the reader counts",
    "Check the file in its own software; split enormous stacks into several files.",
)
F_TIFF_SHAPES = rule(
    "F205", Severity.WARNING, "TIFF pages have different shapes",
    "Keep one image size per file (thumbnails and previews belong in separate files).",
)
F_TIFF_DIMENSIONS = rule(
    "F206", Severity.ERROR, "TIFF image width or height is missing or zero",
    "The file is corrupt; re-export it.",
)
F_TIFF_SAMPLES = rule(
    "F207", Severity.WARNING, "TIFF has several samples per pixel (colour or multi-channel)",
    "EMPIAR image sets are single-channel; deposit greyscale images.",
)
F_TIFF_STREAM_DEPTH = rule(
    "F208", Severity.WARNING, "frame count of a compressed TIFF not known without decompressing",
    "Give the frame count in the image set yourself, or deposit the TIFF uncompressed "
    "(TIFF's own LZW compression keeps the file small and the header readable).",
)
F_TIFF_STREAM_HEADER = rule(
    "F209", Severity.WARNING, "first IFD of a compressed TIFF lies too deep in the stream",
    "Deposit the TIFF uncompressed or with TIFF's internal compression (LZW).",
)
F_TIFF_METADATA = rule(
    "F210", Severity.WARNING, "TIFF vendor metadata could not be read",
    "The pixel size and acquisition details are not taken from the file; give them yourself.",
)
F_EER_METADATA = rule(
    "F211", Severity.WARNING, "EER acquisition metadata is malformed",
    "The file may be corrupt; check it with the Falcon/EPU software.",
)
F_EER_FRAMES = rule(
    "F212", Severity.WARNING, "EER frame count differs from its acquisition metadata",
    "The file may be truncated; copy it again from the original.",
)


# --- units -----------------------------------------------------------------------------------

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


# --- byte access -----------------------------------------------------------------------------

class _Bytes:
    """Random access to a TIFF's bytes: a seekable file, or the decompressed prefix of a stream.

    For a stream, ``read_at`` decompresses forward as far as needed, never past ``limit``;
    ``size`` is ``None`` until the end of the stream has been seen.
    """

    def __init__(
        self, fh: BinaryIO, size: int | None, limit: int | None, head: bytes = b"",
    ) -> None:
        self.fh = fh
        self.size = size
        self.limit = limit
        self.buf = bytearray()
        # a seekable file's last window read by :meth:`window`; at first the file's first bytes
        # that the dispatcher already read (a small TIFF's first IFD lies in them)
        self.win = head if limit is None else b""
        self.win_start = 0
        self.win_size = _SPECULATIVE_READ

    @property
    def streamed(self) -> bool:
        return self.limit is not None

    def beyond_reach(self, end: int) -> bool:
        """True when bytes up to ``end`` may exist but lie past the decompression limit."""
        return self.limit is not None and end > self.limit and self.size is None

    def past_end(self, end: int) -> bool:
        """True when the file is known to end before ``end``."""
        return self.size is not None and end > self.size

    def read_at(self, offset: int, n: int) -> bytes:
        if self.limit is None:
            self.fh.seek(offset)
            return self.fh.read(n)
        end = min(offset + n, self.limit)
        if end > len(self.buf) and self.size is None:
            chunk = self.fh.read(end - len(self.buf))
            self.buf += chunk
            if len(self.buf) < end:
                self.size = len(self.buf)
        return bytes(self.buf[offset:end])

    def get(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes from ``offset`` (fewer where the file or the limit ends)."""
        if self.limit is not None:
            return self.read_at(offset, n)
        buf, at = self.window(offset, n)
        return buf[at:at + n]

    def window(self, offset: int, n: int) -> tuple[bytes, int]:
        """``(buffer, index)``: the bytes from ``offset`` are ``buffer[index:]``, at least ``n``
        of them unless the file (or the decompression limit) ends first.

        A seekable file is read in windows: writers put a movie's IFDs one after the other
        (tifffile after all the pixel data), so a miss just past the last window doubles the
        next one (up to :data:`_MAX_WINDOW`), and a miss elsewhere (IFDs between the frames)
        falls back to :data:`_SPECULATIVE_READ` bytes. Pixel data is read only as far as a
        window overlaps it.
        """
        if self.limit is not None:
            return self.read_at(offset, max(n, _SPECULATIVE_READ)), 0
        start, win = self.win_start, self.win
        end = start + len(win)
        if start <= offset and offset + n <= end:
            return win, offset - start
        if start <= offset <= end + self.win_size and win:
            self.win_size = min(self.win_size * 2, _MAX_WINDOW)
        else:
            self.win_size = _SPECULATIVE_READ
        self.fh.seek(offset)
        self.win = self.fh.read(max(n, self.win_size))
        self.win_start = offset
        return self.win, 0


# --- IFD chain -------------------------------------------------------------------------------

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
               13: 4, 16: 8, 17: 8, 18: 8}
_TYPE_CODES = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 11: "f", 12: "d", 13: "I",
               16: "Q", 17: "q", 18: "Q"}
# First-IFD tags whose values are read (small numeric values, plus EER XML and the description).
_FIRST_TAGS = {254, 256, 257, 258, 259, 262, 270, 277, 282, 283, 284, 296, 322, 323, 339, 65001}
_TEXT_TAGS = {270, 65001}
_SHAPE_TAGS = (254, 256, 257)  # read inline from every IFD: subfile type, width, height


@dataclass(slots=True)
class _Chain:
    """What walking the IFD chain found."""

    bigtiff: bool = False
    byteorder: str = "<"
    first: dict[int, object] = field(default_factory=dict)
    shapes: Counter[tuple[int, int]] = field(default_factory=Counter)
    pages: int = 0  # full-resolution pages
    reduced: int = 0  # reduced-resolution pages (thumbnails, NewSubfileType bit 0)
    complete: bool = False  # the chain ended at a zero next-IFD offset
    first_extent: int = 0  # end of the first IFD's furthest out-of-line tag value
    first_sizes: dict[int, int] = field(default_factory=dict)  # tag code -> value bytes
    problems: list[tuple[Rule, str]] = field(default_factory=list)
    unreachable: bool = False  # a streamed file's chain left the decompressed prefix


def _walk(data: _Bytes) -> _Chain:
    """Walk the IFD chain, reading each entry block once; every loop is bounded."""
    chain = _Chain()
    head = data.get(0, 16)
    if len(head) < 8 or head[:2] not in (b"II", b"MM"):
        chain.problems.append((F_TIFF_HEADER, "file too short for a TIFF header"))
        return chain
    bo = "<" if head[:2] == b"II" else ">"
    chain.byteorder = bo
    version = struct.unpack(bo + "H", head[2:4])[0]
    if version == 43:
        if len(head) < 16 or struct.unpack(bo + "HH", head[4:8]) != (8, 0):
            chain.problems.append((F_TIFF_HEADER, "BigTIFF header has an invalid offset size"))
            return chain
        chain.bigtiff = True
        offset = struct.unpack(bo + "Q", head[8:16])[0]
        count_fmt, entry_size, off_fmt = "Q", 20, "Q"
    elif version == 42:
        offset = struct.unpack(bo + "I", head[4:8])[0]
        count_fmt, entry_size, off_fmt = "H", 12, "I"
    else:
        chain.problems.append((F_TIFF_HEADER, f"unknown TIFF version {version}"))
        return chain
    count_size = struct.calcsize(count_fmt)
    off_size = struct.calcsize(off_fmt)
    count_struct = struct.Struct(bo + count_fmt)
    next_struct = struct.Struct(bo + off_fmt)
    entry_struct = struct.Struct(bo + "HH" + off_fmt)  # code, type, count
    value_at = entry_size - off_size  # the inline value field of an entry
    int_structs = _inline_int_structs(bo, off_size)
    shapes = chain.shapes
    streamed, size = data.streamed, data.size  # a stream's size is known only at its end
    seen: set[int] = set()
    index = 0
    while offset:
        if index >= MAX_PAGES:
            chain.problems.append((
                F_TIFF_TOO_MANY,
                f"more than {MAX_PAGES} IFDs; the frame count was not determined",
            ))
            return chain
        if offset in seen:
            chain.problems.append((
                F_TIFF_LOOP,
                f"IFD {index} points back to the IFD at byte {offset}; the chain loops",
            ))
            return chain
        seen.add(offset)
        if offset < 8:
            chain.problems.append((F_TIFF_IFD, f"IFD {index} offset {offset} is inside the header"))
            return chain
        if streamed and data.beyond_reach(offset + count_size):
            chain.unreachable = True
            return chain
        if (data.past_end(offset + count_size) if streamed else offset + count_size > size):
            chain.problems.append((
                F_TIFF_OFFSET, f"IFD {index} offset {offset} is past the end of the file "
                f"({data.size} bytes)",
            ))
            return chain
        buf, at = data.window(offset, count_size)  # count and usually all entries at once
        if len(buf) - at < count_size:
            chain.problems.append((F_TIFF_OFFSET, f"IFD {index} at byte {offset} is truncated"))
            return chain
        ntags = count_struct.unpack_from(buf, at)[0]
        if ntags == 0 or ntags > MAX_TAGS:
            chain.problems.append((
                F_TIFF_IFD, f"IFD {index} at byte {offset} claims {ntags} tags",
            ))
            return chain
        block_len = ntags * entry_size + off_size
        if len(buf) - at < count_size + block_len:
            if data.beyond_reach(offset + count_size + block_len):
                chain.unreachable = True
                return chain
            buf, at = data.window(offset, count_size + block_len)
            if len(buf) - at < count_size + block_len:
                chain.problems.append((
                    F_TIFF_OFFSET, f"IFD {index} at byte {offset} is truncated",
                ))
                return chain
        at += count_size  # the entry block
        if index == 0:
            block = buf[at:at + block_len]
            chain.first = _first_values(data, _entries(block, ntags, bo, chain.bigtiff), bo, chain)
            if chain.problems or chain.unreachable:
                return chain
        # (NewSubfileType, ImageWidth, ImageLength), inline; entries are sorted by tag, so the
        # scan stops at the first tag past 257 (this runs once per frame of a movie)
        subfile = width = height = 0
        pos = at
        for _ in range(ntags):
            code, typ, count = entry_struct.unpack_from(buf, pos)
            if code > 257:
                break
            if code in _SHAPE_TAGS:
                value_struct = int_structs.get(typ)
                value = value_struct.unpack_from(buf, pos + value_at)[0] if (
                    value_struct is not None and count >= 1) else 0
                if code == 256:
                    width = value
                elif code == 257:
                    height = value
                else:
                    subfile = value
            pos += entry_size
        if index > 0 and subfile & 1:
            chain.reduced += 1
        else:
            chain.pages += 1
            shapes[(width, height)] += 1
        offset = next_struct.unpack_from(buf, at + block_len - off_size)[0]
        index += 1
    chain.complete = True
    return chain


def _entries(
    block: bytes, ntags: int, bo: str, big: bool
) -> dict[int, tuple[int, int, bytes]]:
    """Tag code -> (type, count, raw value field) for one IFD's entry block."""
    out: dict[int, tuple[int, int, bytes]] = {}
    fmt, size, vsize = (bo + "HHQ", 20, 8) if big else (bo + "HHI", 12, 4)
    for i in range(ntags):
        entry = block[i * size:(i + 1) * size]
        code, typ, count = struct.unpack(fmt, entry[: size - vsize])
        out.setdefault(code, (typ, count, entry[size - vsize:]))
    return out


def _inline_int_structs(bo: str, value_size: int) -> dict[int, struct.Struct]:
    """TIFF type -> struct of an integer that fits inline in a ``value_size``-byte field (the
    shape tags' values: a float, or an integer too wide for the field, reads as 0)."""
    key = (bo, value_size)
    cached = _INLINE_INT_STRUCTS.get(key)
    if cached is None:
        cached = _INLINE_INT_STRUCTS[key] = {
            typ: struct.Struct(bo + code) for typ, code in _TYPE_CODES.items()
            if code not in "fd" and _TYPE_SIZES[typ] <= value_size
        }
    return cached


_INLINE_INT_STRUCTS: dict[tuple[str, int], dict[int, struct.Struct]] = {}


def _first_values(
    data: _Bytes, tags: dict[int, tuple[int, int, bytes]], bo: str, chain: _Chain
) -> dict[int, object]:
    """Decode the first IFD's interesting tags, reading out-of-line values within bounds."""
    out: dict[int, object] = {}
    vsize = 8 if chain.bigtiff else 4
    for code, (typ, count, raw) in tags.items():
        nbytes = _TYPE_SIZES.get(typ, 1) * count
        chain.first_sizes[code] = nbytes
        if nbytes > vsize:
            pos = struct.unpack(bo + ("Q" if chain.bigtiff else "I"), raw)[0]
            chain.first_extent = max(chain.first_extent, pos + nbytes)
    for code in sorted(_FIRST_TAGS & tags.keys()):
        typ, count, raw = tags[code]
        item = _TYPE_SIZES.get(typ)
        if item is None or count == 0:
            continue
        nbytes = item * count
        limit = MAX_VALUE_BYTES if code in _TEXT_TAGS else 64 * 8
        if nbytes > limit:
            continue  # an absurd or huge value: not needed for a header question
        if nbytes <= vsize:
            value = raw[:nbytes]
        else:
            pos = struct.unpack(bo + ("Q" if chain.bigtiff else "I"), raw)[0]
            if data.beyond_reach(pos + nbytes):
                continue
            value = data.get(pos, nbytes)
            if len(value) < nbytes:
                chain.problems.append((
                    F_TIFF_OFFSET, f"tag {code} value at byte {pos} is past the end of the file",
                ))
                return out
        out[code] = _decode(value, typ, count, bo) if code not in _TEXT_TAGS else value
    return out


def _decode(value: bytes, typ: int, count: int, bo: str) -> tuple[float | int, ...]:
    """Numeric tag values as a tuple (rationals as floats, a zero denominator as nan)."""
    if typ in (5, 10):
        nums = struct.unpack(bo + ("I" if typ == 5 else "i") * (2 * count), value)
        return tuple(n / d if d else math.nan for n, d in zip(nums[::2], nums[1::2], strict=True))
    code = _TYPE_CODES.get(typ)
    if code is None:
        return tuple(value)
    return struct.unpack(bo + code * count, value)


def _first(values: object, default: int | None = None) -> int | None:
    if isinstance(values, tuple) and values:
        v = values[0]
        return int(v) if isinstance(v, int) else default
    return default


# --- reader ----------------------------------------------------------------------------------

def read(source, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    """Fill ``record`` from a TIFF/BigTIFF/EER header; every problem becomes a finding."""
    shown = record.path

    def problem(r: Rule, message: str, **kw: object) -> None:
        record.problems.append(Finding.of(r, message, file=shown, **kw))

    record.format = record.header_format = "TIFF"
    with source.open() as fh:
        if source.compression:
            data = _Bytes(fh, None, STREAM_LIMIT)
        else:
            data = _Bytes(fh, source.size, None, source.head)
        try:
            chain = _walk(data)
        except (OSError, EOFError, ValueError, struct.error, zlib.error) as exc:
            # a corrupt compressed stream raises while decompressing
            problem(F_TIFF_IFD, f"could not read the IFD chain: {type(exc).__name__}: {exc}")
            return
        for r, message in chain.problems:
            problem(r, message)
        if not chain.first:
            if chain.unreachable:
                problem(
                    F_TIFF_STREAM_HEADER,
                    f"the first IFD is not within the first {STREAM_LIMIT >> 20} MiB of the "
                    f"decompressed {source.compression} stream; header not read",
                )
            elif not chain.problems:
                problem(F_TIFF_DIMENSIONS, "the first IFD has no image tags")
            return
        _fill_basic(record, chain, source, problem)
        if data.streamed and not data.beyond_reach(chain.first_extent):
            data.read_at(chain.first_extent - 1, 1)  # tifffile reads all of page 0's tags
        meta_fh: BinaryIO = io.BytesIO(bytes(data.buf)) if data.streamed else fh
        _fill_vendor_metadata(record, chain, meta_fh, problem)


def _fill_basic(record: FileRecord, chain: _Chain, source, problem) -> None:  # type: ignore[no-untyped-def]
    """Dimensions, voxel type, compression, page count and layout from the walked chain."""
    first = chain.first
    width, height = _first(first.get(256)), _first(first.get(257))
    if not width or not height:
        problem(F_TIFF_DIMENSIONS, f"first page is {width or 0} x {height or 0} pixels")
    else:
        record.width, record.height = width, height
    spp = _first(first.get(277), 1) or 1
    bits = _first(first.get(258), 1) or 1
    sample_format = _first(first.get(339), 1) or 1
    compression = _first(first.get(259), 1) or 1
    kind = {1: "u", 2: "i", 3: "f", 5: "c", 6: "c"}.get(sample_format, "u")
    record.voxel_type = voxel_type(kind, bits)
    record.extra["tiff_compression"] = _compression_name(compression)
    if chain.bigtiff:
        record.extra["bigtiff"] = True
    if spp > 1:
        record.extra["samples_per_pixel"] = spp
        problem(F_TIFF_SAMPLES, f"{spp} samples per pixel; voxel type given per sample")
    if 322 in first:
        record.extra["tiled"] = True
    if source.ext == ".gain":
        record.extra["gain_reference"] = True
    if chain.reduced:
        record.extra["reduced_resolution_pages"] = chain.reduced
    if chain.complete:
        record.depth = chain.pages
    elif chain.unreachable:
        problem(
            F_TIFF_STREAM_DEPTH,
            f"the IFD chain continues past the first {STREAM_LIMIT >> 20} MiB of the "
            f"decompressed {source.compression} stream; at least {chain.pages} frame(s)",
        )
        record.extra["frames_at_least"] = chain.pages
    else:
        record.extra["frames_at_least"] = chain.pages
    if record.depth is not None:
        record.layout = LAYOUT_STACK if record.depth > 1 else LAYOUT_IMAGE
    elif chain.pages > 1:
        record.layout = LAYOUT_STACK
    if len(chain.shapes) > 1:
        counts = ", ".join(
            f"{n} x ({w} x {h})"
            for (w, h), n in sorted(chain.shapes.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        problem(F_TIFF_SHAPES, f"pages of {len(chain.shapes)} different shapes: {counts}")
    if compression in EER_COMPRESSIONS or _is_eer_xml(first.get(65001)):
        _fill_eer(record, chain, problem)


# tifffile.COMPRESSION names of the codes seen in microscopy, so that a plain TIFF's header read
# does not import tifffile (and numpy: ~0.2 s per process); rarer codes ask tifffile.
_COMPRESSION_NAMES = {
    1: "NONE", 2: "CCITTRLE", 3: "CCITTFAX3", 4: "CCITTFAX4", 5: "LZW", 6: "OJPEG", 7: "JPEG",
    8: "ADOBE_DEFLATE", 32773: "PACKBITS", 32946: "DEFLATE", 34712: "JPEG2000", 34887: "LERC",
    34925: "LZMA", 34933: "PNG", 50000: "ZSTD", 50001: "WEBP", 50002: "JPEGXL",
}


def _compression_name(code: int) -> str:
    if code in EER_COMPRESSIONS:
        return EER_COMPRESSIONS[code]
    name = _COMPRESSION_NAMES.get(code)
    if name is not None:
        return name
    import tifffile

    try:
        return str(tifffile.COMPRESSION(code).name)
    except ValueError:
        return str(code)


# --- EER -------------------------------------------------------------------------------------

def _is_eer_xml(value: object) -> bool:
    return isinstance(value, bytes) and value.lstrip()[:10] == b"<metadata>"


def _fill_eer(record: FileRecord, chain: _Chain, problem) -> None:  # type: ignore[no-untyped-def]
    """EER: format, voxel type BIT (electron events), and the acquisition XML of tag 65001."""
    record.format = record.header_format = "EER"
    # EMPIAR added EER and the voxel type BIT together (schema 0.46): an EER frame records
    # single electron events, whatever container bits the TIFF tags claim.
    record.voxel_type = "BIT"
    record.layout = LAYOUT_STACK
    xml = chain.first.get(65001)
    if not _is_eer_xml(xml):
        return
    items = _eer_items(xml, problem)  # type: ignore[arg-type]
    if not items:
        return
    acq: dict[str, object] = {}
    pixel_m = _eer_number(items, "sensorPixelSize.width", "m")
    pixel_h_m = _eer_number(items, "sensorPixelSize.height", "m")
    if pixel_m and pixel_m > 0:
        acq["pixel_size_a"] = _round(pixel_m * 1e10)
        record.pixel_width = acq["pixel_size_a"]  # type: ignore[assignment]
        record.pixel_height = _round((pixel_h_m if pixel_h_m and pixel_h_m > 0 else pixel_m) * 1e10)
        record.extra["pixel_size_source"] = "eer"
    exposure = _eer_number(items, "exposureTime", "s")
    if exposure is not None:
        acq["exposure_s"] = exposure
    frames = _eer_number(items, "numberOfFrames", None)
    if frames is not None and frames == int(frames):
        acq["frames"] = int(frames)
        if record.depth is not None and int(frames) != record.depth:
            problem(
                F_EER_FRAMES,
                f"the metadata says {int(frames)} frames but the file has {record.depth}",
            )
    dose = _eer_number(items, "totalDose", None)
    dose_unit = items.get("totalDose", ("", None))[1]
    if dose is not None:
        unit = (dose_unit or "").replace(" ", "").lower()
        if "pixel" in unit or unit in ("e", "e-", ""):
            acq["dose_e_per_pixel"] = dose
            if pixel_m and pixel_h_m:
                acq["dose_e_per_a2"] = _round(dose / (pixel_m * 1e10 * pixel_h_m * 1e10))
            elif pixel_m:
                acq["dose_e_per_a2"] = _round(dose / (pixel_m * 1e10) ** 2)
        elif "å" in unit or "a^2" in unit or "a2" in unit:
            acq["dose_e_per_a2"] = dose
    rate = _eer_number(items, "meanDoseRate", None)
    if rate is not None:
        acq["dose_rate_e_per_pixel_per_s"] = rate
    camera = items.get("commercialName", items.get("cameraName", ("", None)))[0]
    if camera:
        acq["camera"] = camera
    serial = items.get("serialNumber", ("", None))[0]
    if serial:
        acq["camera_serial"] = serial
    if acq:
        record.extra["acquisition"] = acq


def _eer_items(xml: bytes, problem) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """``<item name=.. unit=..>value</item>`` entries; no DTDs or entities are accepted."""
    from xml.etree import ElementTree

    if b"<!" in xml:
        problem(F_EER_METADATA, "acquisition XML contains a DTD or entity declaration; ignored")
        return {}
    try:
        root = ElementTree.fromstring(xml.rstrip(b"\x00"))
    except ElementTree.ParseError as exc:
        problem(F_EER_METADATA, f"acquisition XML does not parse: {exc}")
        return {}
    out: dict[str, tuple[str, str | None]] = {}
    for item in root.iter("item"):
        name = item.get("name")
        text = (item.text or "").strip()
        if name and text:
            out[name] = (text, item.get("unit"))
    return out


def _eer_number(
    items: dict[str, tuple[str, str | None]], name: str, unit: str | None
) -> float | None:
    """A finite number, only when its unit is the one expected (or absent)."""
    text, got = items.get(name, ("", None))
    value = math.nan
    with contextlib.suppress(ValueError):
        value = float(text)
    if not math.isfinite(value):
        return None
    if unit is not None and got is not None and got.strip() != unit:
        return None
    return value


def _round(value: float) -> float:
    """Round away binary noise (1e-10 * 1.06e10 = 1.0600000000000001) for stable output."""
    return float(f"{value:.6g}")


# --- pixel size and vendor metadata ------------------------------------------------------------

_DISPLAY_DPI = (72.0, 96.0, 150.0, 300.0, 600.0)


class _CaptureTifffileLog(logging.Filter):
    """Swallow tifffile's log records emitted by the current thread while capturing them.

    Header reads run in a thread pool; a per-thread list keeps other threads' logging intact.
    """

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        sink = getattr(self.local, "sink", None)
        if sink is None:
            return True
        if record.levelno >= logging.ERROR:
            sink.append(record.getMessage())
        return False


_LOG_FILTER = _CaptureTifffileLog()
_FILTER_LOCK = threading.Lock()


def _install_filter() -> None:
    with _FILTER_LOCK:
        log = logging.getLogger("tifffile")
        if _LOG_FILTER not in log.filters:
            log.addFilter(_LOG_FILTER)


_VENDOR_TAGS = (34118, 34680, 34682)  # CZ_SEM, FEI_SFEG, FEI_HELIOS


def _fill_vendor_metadata(record: FileRecord, chain: _Chain, fh: BinaryIO, problem) -> None:  # type: ignore[no-untyped-def]
    """Pixel size where it is physical, plus ImageJ stack facts, from the first page.

    tifffile is opened only when the first page has metadata it can parse for us (ImageJ
    description, FEI or Zeiss tags), and not when such a tag is absurdly large.
    """
    if record.extra.get("pixel_size_source") == "eer":
        return
    desc = chain.first.get(270)
    vendor = [c for c in _VENDOR_TAGS if c in chain.first_sizes]
    if not vendor and not (isinstance(desc, bytes) and desc.startswith(b"ImageJ=")):
        size = _resolution_cm_pixel_size(chain.first)
        if size is not None:
            record.pixel_width, record.pixel_height = (_round(v) for v in size)
            record.extra["pixel_size_source"] = "resolution"
        return
    huge = [c for c in vendor if chain.first_sizes[c] > MAX_VALUE_BYTES]
    if huge:
        problem(F_TIFF_METADATA, f"vendor tag {huge[0]} holds {chain.first_sizes[huge[0]]} "
                f"bytes; not read")
        return
    import tifffile

    _install_filter()
    sink: list[str] = []
    _LOG_FILTER.local.sink = sink
    try:
        # is_* flags off: these make tifffile load every page up front
        fh.seek(0)  # tifffile takes the current position as the start of the TIFF
        with tifffile.TiffFile(
            fh, is_lsm=False, is_scanimage=False, is_ndpi=False, is_mmstack=False,
        ) as tif:
            fei, sem, imagej = tif.fei_metadata, tif.sem_metadata, tif.imagej_metadata
    except Exception as exc:  # tifffile raises many types for corrupt tags
        problem(F_TIFF_METADATA, f"tifffile: {type(exc).__name__}: {exc}")
        return
    finally:
        _LOG_FILTER.local.sink = None
    if sink:
        problem(F_TIFF_METADATA, f"tifffile: {sink[0][:200]}")
    if imagej:
        _imagej_stack(record, imagej)
    size = _fei_pixel_size(fei) or _sem_pixel_size(sem)
    source = "fei" if fei and size else "zeiss_sem" if size else None
    if size is None and imagej:
        size = _resolution_pixel_size(chain.first, angstroms_per(imagej.get("unit")))
        source = "imagej" if size else None
    if size is None:
        size = _resolution_cm_pixel_size(chain.first)
        source = "resolution" if size else None
    if size is not None:
        record.pixel_width, record.pixel_height = (_round(v) for v in size)
        record.extra["pixel_size_source"] = source


def _imagej_stack(record: FileRecord, meta: dict[str, object]) -> None:
    """ImageJ hyperstack sizes; a >4 GiB ImageJ stack stores one IFD and ``images=N``."""
    dims = {k: v for k in ("channels", "slices", "frames") if isinstance(v := meta.get(k), int)}
    if dims:
        record.extra["imagej"] = dims
    images = meta.get("images")
    if isinstance(images, int) and record.depth == 1 and images > 1:
        record.depth = images
        record.layout = LAYOUT_STACK
        record.extra["imagej_images"] = images


def _fei_pixel_size(meta: object) -> tuple[float, float] | None:
    """FEI/Thermo SEM/FIB ``[Scan] PixelWidth`` (metres)."""
    if not isinstance(meta, dict):
        return None
    for section in ("Scan", "EScan", "IScan"):
        sec = meta.get(section)
        if not isinstance(sec, dict):
            continue
        w, h = sec.get("PixelWidth"), sec.get("PixelHeight", sec.get("PixelWidth"))
        if _positive(w) and _positive(h):
            return float(w) * 1e10, float(h) * 1e10  # type: ignore[arg-type]
    return None


def _sem_pixel_size(meta: object) -> tuple[float, float] | None:
    """Zeiss SEM ``ap_image_pixel_size`` = ('Image Pixel Size', value, unit)."""
    if not isinstance(meta, dict):
        return None
    for key in ("ap_image_pixel_size", "ap_pixel_size"):
        entry = meta.get(key)
        if isinstance(entry, tuple) and len(entry) == 3 and _positive(entry[1]):
            scale = angstroms_per(entry[2])
            if scale:
                return float(entry[1]) * scale, float(entry[1]) * scale
    return None


def _resolution_pixel_size(
    first: dict[int, object], angstroms_per_unit: float | None
) -> tuple[float, float] | None:
    """Pixel size from X/YResolution (pixels per unit) in a physical unit."""
    if not angstroms_per_unit:
        return None
    xres, yres = first.get(282), first.get(283)
    x = xres[0] if isinstance(xres, tuple) and xres else None
    y = yres[0] if isinstance(yres, tuple) and yres else x
    if not _positive(x) or not _positive(y) or x == 1.0:
        return None  # no tag, or tifffile's 1 pixel per unit placeholder
    return angstroms_per_unit / x, angstroms_per_unit / y  # type: ignore[operator]


def _resolution_cm_pixel_size(first: dict[int, object]) -> tuple[float, float] | None:
    """ResolutionUnit centimetre, unless the value is a display dpi in disguise.

    Inch and no-unit resolutions are never physical here: they are display defaults (72, 96 or
    300 dpi) written by every image library.
    """
    if _first(first.get(296), 2) != 3:
        return None
    xres = first.get(282)
    x = xres[0] if isinstance(xres, tuple) and xres else None
    if _positive(x) and any(abs(x * 2.54 - dpi) < 0.01 for dpi in _DISPLAY_DPI):  # type: ignore[operator]
        return None
    return _resolution_pixel_size(first, 1e8)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0

