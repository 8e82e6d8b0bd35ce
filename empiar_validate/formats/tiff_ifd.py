"""The bounded TIFF IFD walker: page count, page shapes and the first page's tags.

The frame count of a TIFF movie is the length of its IFD chain, so the chain is walked here with
a small bounded walker (a seen-set against loops, a page cap, every offset checked against the
file size) that decodes only each IFD's entry count and its first entries (subfile type, width,
height) with ``struct.unpack_from`` on a window of the file: the dispatcher's first 4 KiB, then
windows that grow while the IFDs lie one after the other (see :meth:`ByteSource.window`), so a
movie costs a few reads, not one per frame. tifffile's own walker checks for loops only once, at
the 100th page, and parses a whole page per index.

Compressed ``.tif.bz2``/``.tiff.gz`` files are walked through
:class:`empiar_validate.formats.decompress.StreamBytes` (the same interface, ``streamed``): the
stream is decompressed forward only as far as the walker asks, within a per-file budget, and a
chain that leaves the budget ends with ``unreachable`` (frame count unknown).
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO

from empiar_validate.findings import Rule, Severity, rule

MAX_PAGES = 1 << 20  # IFDs walked per file; far above any real movie (EER: ~2000 frames)
MAX_TAGS = 4096  # entries in one IFD (tifffile uses the same bound)
MAX_VALUE_BYTES = 1 << 20  # largest tag value read (EER acquisition XML, ImageJ description)
_SPECULATIVE_READ = 1024  # bytes read per IFD in one call: the count and ~80 entries
_MAX_WINDOW = 1 << 20  # most bytes read at once when IFDs lie one after the other

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


# --- byte access -----------------------------------------------------------------------------

class ByteSource:
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
        self.fd = -1  # a seekable file's descriptor: os.pread, no seek and no buffer copy
        if limit is None:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                self.fd = fh.fileno()

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
            return self.pread(offset, n)
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
        self.win = self.pread(offset, max(n, self.win_size))
        self.win_start = offset
        return self.win, 0

    def pread(self, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset`` of a seekable file (fewer at its end), in one system call
        where the file allows (a short read is continued, as a buffered ``read`` would)."""
        if self.size is not None and offset >= self.size:
            return b""  # also for offsets no file system can seek to (a corrupt tag value)
        if self.fd < 0:
            self.fh.seek(offset)
            return self.fh.read(n)
        got = os.pread(self.fd, n, offset)
        while len(got) < n and (more := os.pread(self.fd, n - len(got), offset + len(got))):
            got += more  # each round adds a byte or stops: bounded
        return got


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
class Chain:
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


def walk(data: ByteSource, *, skim: bool = True) -> Chain:
    """Walk the IFD chain, reading each entry block once; every loop is bounded.

    ``skim=False`` turns the fast path off (every IFD walked in full): the tests compare both.
    """
    chain = Chain()
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
    seen_add = seen.add
    limit = MAX_PAGES
    fd, pread = getattr(data, "fd", -1), os.pread  # the fast path: a seekable file, read directly
    index = 0
    # The last IFD walked in full, for the fast path: its entry count, its entries up to the
    # shape tags and the tag code after them, as bytes; what its page counted as; its length.
    ref: bytes | None = None
    ref_reduced, ref_shape, ifd_len, next_at = False, (0, 0), 0, 0
    while offset:
        if ref is not None:
            # Fast path. A movie's IFDs repeat the previous IFD's entry count and shape entries
            # byte for byte (only the strip offsets after them differ), so one comparison of
            # those bytes says the page counts as the previous one did, and the next-IFD offset
            # is read without decoding an entry. Each IFD costs one pread of its own length
            # (camera software puts the IFDs between the frames) unless it lies in the last
            # window, which doubles while the IFDs lie one after the other (tifffile packs
            # them). Whatever is not such a repeat, or needs a check (seen before, out of
            # bounds, the page cap), or was read short, goes the full way below.
            start = index
            win, win_start, grow = data.win, data.win_start, data.win_size
            room = len(win) - ifd_len  # last index in the window where an IFD fits
            last = size - ifd_len  # last offset where an IFD fits in the file
            ref_len = len(ref)
            while 8 <= offset <= last and index < limit and offset not in seen:
                at = offset - win_start
                if at < 0 or at > room:
                    if 0 <= at <= len(win) + grow:
                        grow = min(grow * 2, _MAX_WINDOW)
                        win = pread(fd, max(grow, ifd_len), offset)
                    else:
                        grow = _SPECULATIVE_READ
                        win = pread(fd, ifd_len, offset)
                    win_start, at, room = offset, 0, len(win) - ifd_len
                    if room < 0:
                        break  # a short read: the full way reads on
                if win[at:at + ref_len] != ref:
                    break
                seen_add(offset)
                offset = next_struct.unpack_from(win, at + next_at)[0]
                index += 1
            data.win, data.win_start, data.win_size = win, win_start, grow
            if index > start:
                if ref_reduced:
                    chain.reduced += index - start
                else:
                    chain.pages += index - start
                    shapes[ref_shape] += index - start
            if not offset:
                break
        if index >= limit:
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
        if skim and fd >= 0:
            ifd_start = at - count_size
            # up to the entry that ended the shape scan, and that entry's tag code
            ref = bytes(buf[ifd_start:pos + (2 if pos < at + ntags * entry_size else 0)])
            ref_reduced, ref_shape = bool(subfile & 1), (width, height)
            ifd_len, next_at = count_size + block_len, count_size + block_len - off_size
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
    data: ByteSource, tags: dict[int, tuple[int, int, bytes]], bo: str, chain: Chain
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


def first_int(values: object, default: int | None = None) -> int | None:
    if isinstance(values, tuple) and values:
        v = values[0]
        return int(v) if isinstance(v, int) else default
    return default
