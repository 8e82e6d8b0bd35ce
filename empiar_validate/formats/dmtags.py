"""A bounded parser for the DigitalMicrograph (DM3/DM4) tag tree that never reads pixel data.

A DM file is one tree of named tags; the pixel data is just the value of the ``Data`` tag of an
image, an array whose size is in its type description. The parser records large arrays as
:class:`ArrayRef` (offset, byte count) and seeks past them, so a header read costs the size of
the tags, not of the image. Every count in the file is checked before it is trusted: nesting
depth, tags per file, info lengths, struct fields and array sizes are bounded, and an offset or
size past the end of the file stops the parse with a :class:`DMError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_DEPTH = 48  # nesting of tag groups (real files: < 10)
MAX_TAGS = 200_000  # tag entries per file (real files: a few thousand)
MAX_INFO = 64  # entries of one type description (a struct of 30 fields needs 63)
MAX_TEXT = 4096  # longest string or small array decoded (units, names); longer ones are skipped
SMALL_ARRAY = 256  # arrays of at most this many elements are decoded into tuples
FIRST_CHUNK = 16 << 10  # bytes of the file read at once at first (the whole tree of small files)
MAX_CHUNK = 1 << 20  # ... doubling per refill up to this (a tag tree is typically < 100 kB)

# Tag element types: code -> (struct format, size)
SIMPLE: dict[int, tuple[str, int]] = {
    2: ("h", 2), 3: ("i", 4), 4: ("H", 2), 5: ("I", 4), 6: ("f", 4), 7: ("d", 8), 8: ("?", 1),
    9: ("b", 1), 10: ("B", 1), 11: ("q", 8), 12: ("Q", 8),
}
STRUCT, STRING, ARRAY = 15, 18, 20


class DMError(Exception):
    """Why the tag tree could not be read; ``kind`` is one of :data:`ERROR_KINDS`."""

    def __init__(self, message: str, kind: str = "corrupt") -> None:
        super().__init__(message)
        self.kind = kind


# header: bad version or byte order; corrupt: malformed tags; bounds: a count or nesting
# beyond the limits; truncated: a value runs past the end of the file; beyond_limit: past the
# part of a compressed stream the caller allowed to be decompressed.
ERROR_KINDS = ("header", "corrupt", "bounds", "truncated", "beyond_limit")


@dataclass(frozen=True, slots=True)
class ArrayRef:
    """An array left unread: ``count`` elements of ``element_size`` bytes at ``offset``."""

    offset: int
    count: int
    element_type: int
    element_size: int

    @property
    def nbytes(self) -> int:
        return self.count * self.element_size


@dataclass(slots=True)
class Group:
    """A tag group: entries in file order (names may be empty or repeated)."""

    entries: list[tuple[str, object]] = field(default_factory=list)

    def get(self, *path: str | int) -> object:
        """The value at ``path``; a str selects by name, an int by position. ``None`` if absent."""
        node: object = self
        for key in path:
            if not isinstance(node, Group):
                return None
            if isinstance(key, int):
                node = node.entries[key][1] if 0 <= key < len(node.entries) else None
                continue
            for name, value in node.entries:  # the first entry of that name (a loop, not a
                if name == key:  # generator: this runs ~20 times per file)
                    node = value
                    break
            else:
                return None
        return node

    def groups(self) -> list[Group]:
        return [v for _, v in self.entries if isinstance(v, Group)]


@dataclass(slots=True)
class DMTree:
    """The parsed header: version (3 or 4), data byte order, and the root group."""

    version: int
    little_endian: bool
    root: Group
    root_length: int


class _Reader:
    """Reads with bounds from an in-memory window of the file, refilled forward in chunks.

    The tags are parsed from ``buf`` with ``struct.unpack_from`` (one Python call per value
    instead of a ``tell`` and a ``read``). A refill reads at least ``chunk`` bytes, doubling from
    :data:`FIRST_CHUNK` up to :data:`MAX_CHUNK`, and never past ``size``; an array that is
    skipped (image data) is seeked over, never read. Reads only move forward, so a
    decompressing stream never rewinds. ``limited`` means ``size`` is a decompression budget, not
    the file's real size (a compressed stream's size is unknown until it has been decompressed).
    """

    def __init__(self, fh: BinaryIO, size: int, limited: bool) -> None:
        self.fh = fh
        self.size = size
        self.limited = limited
        self.tags = 0
        self.buf = b""
        self.start = 0  # file offset of buf[0]
        self.pos = 0  # file offset of the next byte to parse
        self.fpos = fh.tell()  # where fh stands
        self.chunk = FIRST_CHUNK

    def past_end(self, message: str) -> DMError:
        return DMError(message, "beyond_limit" if self.limited else "truncated")

    def take(self, n: int) -> int:
        """Consume ``n`` bytes; their index in :attr:`buf` (valid until the next ``take``).

        Call it before reading ``self.buf``: a refill replaces the buffer.
        """
        off = self.pos - self.start
        if off + n > len(self.buf):
            off = self._fill(n)
        self.pos += n
        return off

    def _fill(self, n: int) -> int:
        """Make ``buf`` hold ``n`` bytes from ``pos``, keeping the unread tail of the window."""
        at = self.pos
        if at + n > self.size:
            raise self.past_end(f"file ends inside a tag at byte {at}")
        buf_end = self.start + len(self.buf)
        if self.start <= at <= buf_end:
            keep, read_from = self.buf[at - self.start:], buf_end
        else:
            keep, read_from = b"", at
        if self.fpos != read_from:
            self.fh.seek(read_from)
            self.fpos = self.fh.tell()
            if self.fpos != read_from:  # a decompressing stream ended before the seek target
                at = self.fpos
        want = min(max(n - len(keep), self.chunk), self.size - read_from)
        self.chunk = min(self.chunk * 2, MAX_CHUNK)
        data = self.fh.read(want)
        self.fpos += len(data)
        self.buf = keep + data if keep else data
        self.start = self.pos
        if len(self.buf) < n:
            raise DMError(f"file ends inside a tag at byte {at}", "truncated")
        return 0

    def read(self, n: int) -> bytes:
        off = self.take(n)
        return self.buf[off:off + n]

    def skip(self, n: int) -> None:
        end = self.pos + n
        if end > self.size:
            raise self.past_end(f"a tag value of {n} bytes runs past the end of the file")
        self.pos = end


def parse(fh: BinaryIO, size: int, *, limited: bool = False) -> DMTree:
    """Parse the whole tag tree of an open DM3/DM4 file of ``size`` bytes, seeking past arrays.

    ``limited``: ``fh`` is a decompressing stream and ``size`` the most it may decompress.
    """
    fh.seek(0)
    r = _Reader(fh, size, limited)
    head = r.read(4)
    version = struct.unpack(">i", head)[0]
    if version not in (3, 4):
        raise DMError(f"unknown DM version {version}", "header")
    long_fmt = ">q" if version == 4 else ">i"
    long_size = 8 if version == 4 else 4
    root_length = struct.unpack(long_fmt, r.read(long_size))[0]
    order = struct.unpack(">i", r.read(4))[0]
    if order not in (0, 1):
        raise DMError(f"byte order flag is {order}, not 0 or 1", "header")
    p = _Parser(r, version, "<" if order else ">")
    root = p.group_body(depth=0)
    return DMTree(version, bool(order), root, root_length)


_KIND_NAME = struct.Struct(">BH")
_SIMPLE_LE = {code: struct.Struct("<" + fmt) for code, (fmt, _) in SIMPLE.items()}
_SIMPLE_BE = {code: struct.Struct(">" + fmt) for code, (fmt, _) in SIMPLE.items()}


class _Parser:
    def __init__(self, r: _Reader, version: int, order: str) -> None:
        self.r = r
        self.dm4 = version == 4
        self.long = ">q" if self.dm4 else ">i"
        self.long_struct = struct.Struct(self.long)
        self.long_pair = struct.Struct(self.long + self.long[1])
        self.long_size = 8 if self.dm4 else 4
        self.order = order
        self.simple_structs = _SIMPLE_LE if order == "<" else _SIMPLE_BE
        self.text_encoding = "utf-16-le" if order == "<" else "utf-16-be"

    def long_value(self) -> int:
        r = self.r
        off = r.take(self.long_size)  # before r.buf: a refill replaces the buffer
        return int(self.long_struct.unpack_from(r.buf, off)[0])

    def longs(self, k: int) -> list[int]:
        """``k`` longs in one unpack when the window holds them; one by one otherwise, so a
        truncated file is reported at the same byte as a value-by-value read would."""
        r = self.r
        n = k * self.long_size
        off = r.pos - r.start
        if off + n <= len(r.buf):
            r.pos += n
            return list(struct.unpack_from(f"{self.long[0]}{k}{self.long[1]}", r.buf, off))
        return [self.long_value() for _ in range(k)]

    def group_body(self, depth: int) -> Group:
        """``sorted (u1), open (u1), count`` then the entries."""
        if depth > MAX_DEPTH:
            raise DMError(f"tag groups nested deeper than {MAX_DEPTH}", "bounds")
        r = self.r
        off = r.pos - r.start
        if off + 2 + self.long_size <= len(r.buf):  # in the window: one unpack
            count = self.long_struct.unpack_from(r.buf, off + 2)[0]
            r.pos += 2 + self.long_size
        else:
            r.take(2)
            count = self.long_value()
        remaining = r.size - r.pos
        # every entry takes at least 3 bytes (kind, name length), so a larger count is a lie
        if count < 0 or count > MAX_TAGS or (count * 3 > remaining and not r.limited):
            raise DMError(
                f"a tag group claims {count} entries but only {remaining} bytes remain",
                "bounds",
            )
        group = Group()
        entries = group.entries
        dm4 = self.dm4
        fast = self.fast_entry
        for _ in range(count):
            r.tags += 1
            if r.tags > MAX_TAGS:
                raise DMError(f"more than {MAX_TAGS} tags", "bounds")
            entry = fast()
            if entry is not None:
                entries.append(entry)
                continue
            buf, off = r.buf, r.pos - r.start
            if off + 3 <= len(buf):  # a group's header in the window: no take() per field
                kind, name_len = _KIND_NAME.unpack_from(buf, off)
                header = 3 + name_len + (8 if dm4 else 0)
                if kind == 20 and off + header <= len(buf):
                    r.pos += header
                    name = buf[off + 3:off + 3 + name_len].decode("latin-1")
                    entries.append((name, self.group_body(depth + 1)))
                    continue
            off = r.take(3)
            kind, name_len = _KIND_NAME.unpack_from(r.buf, off)
            off = r.take(name_len)
            name = r.buf[off:off + name_len].decode("latin-1")
            if kind == 0:
                break  # end-of-file marker reached early: keep what was read
            if dm4:
                r.take(8)  # entry size; recomputed from the type description instead
            if kind == 20:
                entries.append((name, self.group_body(depth + 1)))
            elif kind == 21:
                entries.append((name, self.data(keep_ref=name == "Data")))
            else:
                raise DMError(f"unknown tag kind {kind} at byte {r.pos - 3}")
        return group

    def fast_entry(self) -> tuple[str, object] | None:
        """The next entry when it is a plain value (a number, a short text or a small array)
        lying wholly in the window: parsed in one go and consumed. ``None`` (nothing consumed)
        for anything else, which the general path then reads, with its checks and errors.
        """
        r = self.r
        buf = r.buf
        off = r.pos - r.start
        end = len(buf)
        if off + 3 > end:
            return None
        kind, name_len = _KIND_NAME.unpack_from(buf, off)
        at = off + 3 + name_len + (8 if self.dm4 else 0)  # "%%%%"
        ls = self.long_size
        if kind != 21 or at + 4 + 2 * ls > end or buf[at:at + 4] != b"%%%%":
            return None
        ninfo, code = self.long_pair.unpack_from(buf, at + 4)
        at += 4 + 2 * ls
        if ninfo == 1:
            s = self.simple_structs.get(code)
            if s is None or at + s.size > end:
                return None
            value = s.unpack_from(buf, at)[0]
            at += s.size
        elif ninfo == 3 and code == ARRAY:
            if at + 2 * ls > end:
                return None
            element, count = self.long_pair.unpack_from(buf, at)
            at += 2 * ls
            spec = SIMPLE.get(element)
            if spec is None or count < 0:
                return None
            nbytes = count * spec[1]
            if at + nbytes > end or buf[off + 3:off + 3 + name_len] == b"Data":
                return None
            if element == 4 and count <= MAX_TEXT:
                value = buf[at:at + nbytes].decode(self.text_encoding, errors="replace")
            elif count <= SMALL_ARRAY:
                value = struct.unpack_from(f"{self.order}{count}{spec[0]}", buf, at)
            else:
                return None
            at += nbytes
        else:
            return None
        r.pos += at - off
        return buf[off + 3:off + 3 + name_len].decode("latin-1"), value

    def data(self, *, keep_ref: bool = False) -> object:
        """``"%%%%"``, info count, info, value; ``keep_ref``: never read an array (image data)."""
        r = self.r
        off = r.take(4)
        if r.buf[off:off + 4] != b"%%%%":
            raise DMError(f"missing %%%% delimiter at byte {r.pos - 4}")
        ninfo = self.long_value()
        if not 1 <= ninfo <= MAX_INFO:
            raise DMError(f"a tag's type description has {ninfo} entries", "bounds")
        info = self.longs(ninfo)
        code = info[0]
        if ninfo == 1 and code in SIMPLE:  # the common case: one number
            s = self.simple_structs[code]
            off = r.take(s.size)
            return s.unpack_from(r.buf, off)[0]
        return self.value(info, keep_ref)

    def value(self, info: list[int], keep_ref: bool = False) -> object:
        code = info[0]
        if code in SIMPLE and len(info) == 1:
            return self.simple(code)
        if code == STRING and len(info) == 2:
            n = info[1]
            if n < 0 or n * 2 > self.r.size:
                raise DMError(f"a string claims {n} characters", "bounds")
            if n <= MAX_TEXT:
                return self.r.read(2 * n).decode(self.text_encoding, errors="replace")
            self.r.skip(2 * n)
            return None
        if code == STRUCT:
            fields = self.struct_fields(info, 1)
            return self.struct_value(fields)
        if code == ARRAY and len(info) >= 3:
            return self.array(info, keep_ref)
        raise DMError(f"unsupported tag type description {info[:8]}")

    def struct_fields(self, info: list[int], at: int) -> list[int]:
        """Field types of a struct described from ``info[at]`` (name length, count, pairs)."""
        if len(info) < at + 2:
            raise DMError("truncated struct description")
        nfields = info[at + 1]
        if nfields < 0 or len(info) < at + 2 + 2 * nfields:
            raise DMError(f"a struct claims {nfields} fields", "bounds")
        fields = [info[at + 3 + 2 * i] for i in range(nfields)]
        if any(f not in SIMPLE for f in fields):
            raise DMError(f"unsupported struct field types {fields}")
        return fields

    def struct_value(self, fields: list[int]) -> tuple[object, ...]:
        """One struct: all fields in one unpack when the window holds them, else field by
        field (so a truncated file is reported at the field where it ends)."""
        r = self.r
        size = sum(SIMPLE[f][1] for f in fields)
        off = r.pos - r.start
        if off + size <= len(r.buf):
            r.pos += size
            fmt = self.order + "".join(SIMPLE[f][0] for f in fields)
            return struct.unpack_from(fmt, r.buf, off)
        return tuple(self.simple(f) for f in fields)

    def simple(self, code: int) -> object:
        s = self.simple_structs[code]
        off = self.r.take(s.size)
        return s.unpack_from(self.r.buf, off)[0]

    def array(self, info: list[int], keep_ref: bool) -> object:
        element = info[1]
        if element in SIMPLE and len(info) == 3:
            fmt, size = SIMPLE[element]
        elif element == STRUCT:
            fields = self.struct_fields(info, 2)
            fmt = "".join(SIMPLE[f][0] for f in fields)
            size = sum(SIMPLE[f][1] for f in fields)
            if len(info) != 2 + 2 + 2 * len(fields) + 1:
                raise DMError(f"malformed struct-array description {info[:8]}")
        else:
            raise DMError(f"unsupported array element type {element}")
        count = info[-1]
        r = self.r
        offset = r.pos
        if count < 0:
            raise DMError(f"an array claims {count} elements", "bounds")
        if count * size > r.size - offset:
            raise r.past_end(
                f"an array of {count} elements of {size} bytes at byte {offset} runs past the end "
                f"of the file ({r.size} bytes)"
            )
        if keep_ref:
            r.skip(count * size)
            return ArrayRef(offset, count, element, size)
        if element == 4 and count <= MAX_TEXT:  # arrays of UTF-16 code units are DM's text
            return r.read(2 * count).decode(self.text_encoding, errors="replace")
        if count <= SMALL_ARRAY and size > 0:
            off = r.take(count * size)
            values = struct.unpack_from(self.order + fmt * count, r.buf, off)
            if element == STRUCT:
                n = len(fmt)
                return tuple(values[i:i + n] for i in range(0, len(values), n))
            return values
        r.skip(count * size)
        return ArrayRef(offset, count, element, size)
