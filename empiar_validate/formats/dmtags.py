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
            else:
                node = next((v for n, v in node.entries if n == key), None)
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
    """Reads with bounds; ``limited`` means ``size`` is a decompression budget, not the file's
    real size (a compressed stream's size is unknown until it has been decompressed)."""

    def __init__(self, fh: BinaryIO, size: int, limited: bool) -> None:
        self.fh = fh
        self.size = size
        self.limited = limited
        self.tags = 0

    def past_end(self, message: str) -> DMError:
        return DMError(message, "beyond_limit" if self.limited else "truncated")

    def read(self, n: int) -> bytes:
        at = self.fh.tell()
        if at + n > self.size:
            raise self.past_end(f"file ends inside a tag at byte {at}")
        data = self.fh.read(n)
        if len(data) < n:
            raise DMError(f"file ends inside a tag at byte {at}", "truncated")
        return data

    def skip(self, n: int) -> None:
        end = self.fh.tell() + n
        if end > self.size:
            raise self.past_end(f"a tag value of {n} bytes runs past the end of the file")
        self.fh.seek(end)


def parse(fh: BinaryIO, size: int, *, limited: bool = False) -> DMTree:
    """Parse the whole tag tree of an open DM3/DM4 file of ``size`` bytes, seeking past arrays.

    ``limited``: ``fh`` is a decompressing stream and ``size`` the most it may decompress.
    """
    r = _Reader(fh, size, limited)
    fh.seek(0)
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


class _Parser:
    def __init__(self, r: _Reader, version: int, order: str) -> None:
        self.r = r
        self.dm4 = version == 4
        self.long = ">q" if self.dm4 else ">i"
        self.long_size = 8 if self.dm4 else 4
        self.order = order

    def long_value(self) -> int:
        return int(struct.unpack(self.long, self.r.read(self.long_size))[0])

    def group_body(self, depth: int) -> Group:
        """``sorted (u1), open (u1), count`` then the entries."""
        if depth > MAX_DEPTH:
            raise DMError(f"tag groups nested deeper than {MAX_DEPTH}", "bounds")
        self.r.read(2)
        count = self.long_value()
        remaining = self.r.size - self.r.fh.tell()
        # every entry takes at least 3 bytes (kind, name length), so a larger count is a lie
        if count < 0 or count > MAX_TAGS or (count * 3 > remaining and not self.r.limited):
            raise DMError(
                f"a tag group claims {count} entries but only {remaining} bytes remain",
                "bounds",
            )
        group = Group()
        for _ in range(count):
            self.r.tags += 1
            if self.r.tags > MAX_TAGS:
                raise DMError(f"more than {MAX_TAGS} tags", "bounds")
            kind, name_len = struct.unpack(">BH", self.r.read(3))
            name = self.r.read(name_len).decode("latin-1")
            if kind == 0:
                break  # end-of-file marker reached early: keep what was read
            if self.dm4:
                self.r.read(8)  # entry size; recomputed from the type description instead
            if kind == 20:
                group.entries.append((name, self.group_body(depth + 1)))
            elif kind == 21:
                group.entries.append((name, self.data(keep_ref=name == "Data")))
            else:
                raise DMError(f"unknown tag kind {kind} at byte {self.r.fh.tell() - 3}")
        return group

    def data(self, *, keep_ref: bool = False) -> object:
        """``"%%%%"``, info count, info, value; ``keep_ref``: never read an array (image data)."""
        if self.r.read(4) != b"%%%%":
            raise DMError(f"missing %%%% delimiter at byte {self.r.fh.tell() - 4}")
        ninfo = self.long_value()
        if not 1 <= ninfo <= MAX_INFO:
            raise DMError(f"a tag's type description has {ninfo} entries", "bounds")
        info = [self.long_value() for _ in range(ninfo)]
        return self.value(info, keep_ref)

    def value(self, info: list[int], keep_ref: bool = False) -> object:
        code = info[0]
        if code in SIMPLE and len(info) == 1:
            fmt, size = SIMPLE[code]
            return struct.unpack(self.order + fmt, self.r.read(size))[0]
        if code == STRING and len(info) == 2:
            n = info[1]
            if n < 0 or n * 2 > self.r.size:
                raise DMError(f"a string claims {n} characters", "bounds")
            if n <= MAX_TEXT:
                enc = "utf-16-le" if self.order == "<" else "utf-16-be"
                return self.r.read(2 * n).decode(enc, errors="replace")
            self.r.skip(2 * n)
            return None
        if code == STRUCT:
            fields = self.struct_fields(info, 1)
            return tuple(self.simple(f) for f in fields)
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

    def simple(self, code: int) -> object:
        fmt, size = SIMPLE[code]
        return struct.unpack(self.order + fmt, self.r.read(size))[0]

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
        offset = self.r.fh.tell()
        if count < 0:
            raise DMError(f"an array claims {count} elements", "bounds")
        if count * size > self.r.size - offset:
            raise self.r.past_end(
                f"an array of {count} elements of {size} bytes at byte {offset} runs past the end "
                f"of the file ({self.r.size} bytes)"
            )
        if keep_ref:
            self.r.skip(count * size)
            return ArrayRef(offset, count, element, size)
        if element == 4 and count <= MAX_TEXT:  # arrays of UTF-16 code units are DM's text
            enc = "utf-16-le" if self.order == "<" else "utf-16-be"
            return self.r.read(2 * count).decode(enc, errors="replace")
        if count <= SMALL_ARRAY and size > 0:
            raw = self.r.read(count * size)
            values = struct.unpack(self.order + fmt * count, raw)
            if element == STRUCT:
                n = len(fmt)
                return tuple(values[i:i + n] for i in range(0, len(values), n))
            return values
        self.r.skip(count * size)
        return ArrayRef(offset, count, element, size)
