"""HDF5 object headers read in pure Python, for the plain files libhdf5 need not be asked about.

Why: for a BigDataViewer file libhdf5 costs ~45 µs to open and close and ~20-30 µs for each
object first touched (about 200 µs for the facts the reader needs), and it runs in a worker
process because C code trusting hostile bytes can crash. The same facts sit in a few hundred
bytes of the file; read here with ``struct``, in the calling process (bad bytes raise, they
cannot crash), they cost a fraction of that.

Scope: what h5py (``libver="earliest"``, its default), pybdv and BigDataViewer's writers
produce. Everything else raises :class:`Unsupported` and the caller asks libhdf5, which then
reads and reports the file exactly as before:

- superblock version 0 or 1 at offset 0 (no user block), 8-byte addresses and lengths, base
  address 0, no driver information block, the file at least as long as its end-of-file address
  (a shorter one is truncated: libhdf5 reports it);
- version 1 object headers, their continuation blocks included, no shared messages;
- groups with a symbol table (version 1 B-tree, local heap, symbol nodes), hard links only,
  names in the order libhdf5's binary search relies on;
- the messages :mod:`empiar_validate.formats.h5messages` decodes, checked as libhdf5 checks
  them when it opens the object.

The rule is strictness: what is read here must mean to libhdf5 what it means here, because the
two readers must report a file identically (tests/test_h5meta.py holds them to it, mutated
files included). Every structure is bounded (B-tree depth and nodes, messages, continuation
blocks, heap sizes, links per group), every address is checked against the end of the file,
each link table, global heap and object's attributes is decoded once per file however many
paths lead to it, and all the reads of one file together are bounded (:data:`MAX_READ_BYTES`,
:data:`MAX_READS`): a hostile file costs bounded work here (it runs in the main process, with
no time limit) before libhdf5, in its worker, gets it. The file is opened read-only.
"""

from __future__ import annotations

import functools
import os
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from empiar_validate.formats import h5model
from empiar_validate.formats.h5messages import (
    UNDEFINED,
    Attribute,
    DType,
    Unsupported,
    attribute,
    check_layout,
    describe_dataset,
)
from empiar_validate.formats.h5model import MAX_ATTR_BYTES, Budget, DatasetInfo, Link
from empiar_validate.paths import READ_FLAGS

__all__ = ["PARSE_ERRORS", "PureHdf5", "Unsupported"]

SIGNATURE = b"\x89HDF\r\n\x1a\n"
HEAD_BYTES = 16_384  # read with the superblock: small files' metadata in one system call
MAX_BLOCKS = 64  # object header blocks (continuations) per object
MAX_MESSAGES = 4_096  # header messages per object
MAX_BLOCK_BYTES = 1 << 20  # one object header block (h5py writes a few hundred bytes)
MAX_READ_BYTES = 64 << 20  # all the reads of one file together: past this, libhdf5 decides
MAX_READS = 100_000  # and all the reads of one file, counted
MAX_BTREE_DEPTH = 16
MAX_NODES = 4_096  # B-tree nodes per group
MAX_HEAP_BYTES = 1 << 24  # local heap (link names) of one group
MAX_FREE_BLOCKS = 4_096  # free-list blocks of one local heap
MAX_GLOBAL_HEAP = 1 << 20  # global heap collection holding one string attribute
MAX_K = 1_024  # B-tree "K" of the superblock (h5py writes 4 and 16)
FREE_NULL = 1  # libhdf5's "no free block" in a local heap's free list

# Header message types (HDF5 file format specification, section IV.A.2).
NIL, DATASPACE, DATATYPE, FILL_OLD, FILL = 0x00, 0x01, 0x03, 0x04, 0x05
LAYOUT, PIPELINE, ATTRIBUTE, COMMENT = 0x08, 0x0B, 0x0C, 0x0D
CONTINUATION, SYMBOL_TABLE, MTIME = 0x10, 0x11, 0x12
# Message types read here; any other (old modification time, external files, shared types...)
# is left to libhdf5 (h5py's open decodes the time messages, and refuses a malformed one).
KNOWN = frozenset({NIL, DATASPACE, DATATYPE, FILL_OLD, FILL, LAYOUT, PIPELINE, ATTRIBUTE,
                   COMMENT, CONTINUATION, SYMBOL_TABLE, MTIME})
SINGLE = (DATASPACE, DATATYPE, FILL_OLD, FILL, LAYOUT, PIPELINE, SYMBOL_TABLE)

_SUPERBLOCK = struct.Struct("<8sBBBBBBBBHHI")
_ADDRESSES = struct.Struct("<QQQQ")
_ENTRY = struct.Struct("<QQII16s")  # name offset, header, cache type, reserved, scratch
_OH_V1 = struct.Struct("<BBHII")
_MSG = struct.Struct("<HHB3x")
_TREE = struct.Struct("<4sBBHQQ")
_SNOD = struct.Struct("<4sBBH")
_HEAP = struct.Struct("<4sB3sQQQ")
_GCOL = struct.Struct("<4sB3sQ")
_GOBJ = struct.Struct("<HH4xQ")

# Errors a hostile or odd file can raise anywhere in the parsing; each means "ask libhdf5" and
# becomes Unsupported before it leaves an Access method. PARSE_ERRORS is what callers catch.
_FOREIGN_ERRORS = (struct.error, IndexError, ValueError, KeyError, OverflowError, UnicodeError,
                   OSError, RecursionError)
PARSE_ERRORS = (*_FOREIGN_ERRORS, Unsupported)


def _unsupported(exc: BaseException) -> Unsupported:
    """The Unsupported that stands for a foreign error (its type and text kept for debugging)."""
    return Unsupported(f"{type(exc).__name__}: {exc}")


def _or_unsupported[F: Callable[..., Any]](method: F) -> F:
    """Any parse error inside ``method`` becomes :class:`Unsupported`: a ``ValueError`` or
    ``OSError`` escaping would look like libhdf5's errors, which the layout readers report as
    findings; from here it must mean "ask libhdf5" and nothing else."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except _FOREIGN_ERRORS as exc:
            raise _unsupported(exc) from exc

    return wrapper  # type: ignore[return-value]


@dataclass(slots=True)
class H5Object:
    """One object header, reduced to what the layout readers ask."""

    address: int
    is_group: bool
    shape: tuple[int, ...] | None = None  # datasets
    dtype: DType | None = None  # datasets
    symbol_table: tuple[int, int] | None = None  # groups: (B-tree, local heap)
    attributes: tuple[bytes, ...] = ()  # the attribute messages, decoded when asked
    decoded: dict[bytes, Attribute] | None = None  # ... into this, once


class PureHdf5:
    """One HDF5 file read through :class:`~empiar_validate.formats.h5model.Access` without
    libhdf5. Use as a context manager; :class:`Unsupported` from any method means "ask libhdf5".
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, READ_FLAGS)
        try:
            st = os.fstat(self._fd)
            if not stat.S_ISREG(st.st_mode):
                raise Unsupported("not a regular file")
            self._size = st.st_size
            self._head = os.pread(self._fd, min(self._size, HEAD_BYTES), 0)
            self._eof = self._head_end = len(self._head)  # until the superblock says more
            self._read_bytes = self._reads = 0
            self._objects: dict[int, H5Object] = {}
            # keyed by (B-tree, heap): many group headers may share one table
            self._tables: dict[tuple[int, int], dict[bytes, int]] = {}
            self._global_heaps: dict[int, dict[int, bytes]] = {}
            root, cached = self._superblock()
            self.root = self._object(root)
            if not self.root.is_group or (cached is not None and cached != self.root.symbol_table):
                raise Unsupported("root is not a group, or its cached symbol table differs")
        except BaseException:
            os.close(self._fd)
            raise

    def __enter__(self) -> PureHdf5:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)

    # --- Access -------------------------------------------------------------------------

    @_or_unsupported
    def list_links(self, group: Any, budget: Budget) -> tuple[list[Link], bool]:
        """All links of ``group``, sorted by name; a group larger than the budget is left to
        libhdf5 (its partial listings are what the reports show)."""
        links = self._links(group)
        if len(links) > budget.remaining:
            raise Unsupported("more links than the budget")
        budget.remaining -= len(links)
        return [Link(name, h5model.LINK_HARD) for name in sorted(links)], True

    def locate(self, root: Any, path: bytes) -> H5Object | None:
        """The object at ``path`` below ``root`` (all links are hard here), or ``None``."""
        try:  # as _or_unsupported, inline: the hottest method
            current = root
            for part in path.split(b"/"):
                if not part or part == b".":
                    continue
                if not isinstance(current, H5Object) or current.symbol_table is None:
                    return None  # not a group: nothing below it
                table = self._tables.get(current.symbol_table)
                if table is None:
                    table = self._links(current)
                address = table.get(part)
                if address is None:
                    return None
                current = self._objects.get(address) or self._object(address)
            return current if isinstance(current, H5Object) else None
        except _FOREIGN_ERRORS as exc:
            raise _unsupported(exc) from exc

    @staticmethod
    def is_group(obj: Any) -> bool:
        return isinstance(obj, H5Object) and obj.is_group

    @staticmethod
    def is_dataset(obj: Any) -> bool:
        return isinstance(obj, H5Object) and not obj.is_group

    @staticmethod
    def shape(dataset: H5Object) -> tuple[int, ...] | None:
        return dataset.shape

    @staticmethod
    def dataset_info(dataset: H5Object, shown: str) -> DatasetInfo:
        dt = dataset.dtype
        if dt is None or dt.kind not in "iuf":
            raise Unsupported("dataset type the pure reader does not map")
        return DatasetInfo(shown, dataset.shape, dt.name, dt.kind, dt.itemsize)

    @_or_unsupported
    def small_attr(self, obj: H5Object, name: str) -> object | None:
        """A scalar string attribute as h5py's reader gives it (``str``); ``None`` when absent
        or larger than :data:`MAX_ATTR_BYTES`. Every attribute of the object is decoded (once
        per object), as libhdf5 does to find one; any other kind of the one asked for is
        Unsupported, and so is a fixed-length string whose padding would matter (libhdf5 cuts
        a NUL-terminated one at its first NUL and strips a space-padded one's trailing spaces)."""
        if obj.decoded is None:
            decoded = [attribute(msg) for msg in obj.attributes]
            obj.decoded = {a.name: a for a in decoded}
            if len(obj.decoded) != len(decoded):
                raise Unsupported("repeated attribute name")
        attr = obj.decoded.get(name.encode())
        if attr is None:
            return None
        if attr.shape != ():
            raise Unsupported("attribute is not scalar")
        if attr.dtype.kind == "S":  # numpy bytes, trailing NULs dropped, decoded by small_attr
            if len(attr.data) > MAX_ATTR_BYTES:
                return None
            value = attr.data.rstrip(b"\0")
            if b"\0" in value or value.endswith(b" "):
                raise Unsupported("fixed-length string whose padding type would change it")
            return value.decode("utf-8", errors="replace")
        if attr.dtype.kind == "T":
            n, collection, index = struct.unpack_from("<IQI", attr.data)
            text = self._global_heap(collection).get(index)
            if text is None or len(text) != n or not text.isascii() or b"\0" in text:
                raise Unsupported("variable-length string")  # h5py stops at a NUL
            return text.decode("ascii")
        raise Unsupported("attribute is not a string")

    # --- file structure -----------------------------------------------------------------

    def _bytes(self, address: int, length: int) -> tuple[bytes, int]:
        """``(buffer, offset)`` holding ``length`` bytes at ``address`` of the file (up to its
        end-of-file address, as libhdf5 reads); every call counts towards :data:`MAX_READS`,
        every byte read from the file towards :data:`MAX_READ_BYTES`."""
        self._reads += 1
        if self._reads > MAX_READS:
            raise Unsupported("more structure than a plain file has")  # whatever repeats it
        end = address + length
        if end <= self._head_end and address >= 0 and length >= 0:
            return self._head, address  # the usual case: the bytes read with the superblock
        if address < 0 or length < 0 or end > self._eof:
            raise Unsupported("address beyond the end of the file")
        self._read_bytes += length
        if self._read_bytes > MAX_READ_BYTES:
            raise Unsupported("more structure than a plain file has")
        data = os.pread(self._fd, length, address)
        if len(data) != length:
            raise Unsupported("short read")
        return data, 0

    def _superblock(self) -> tuple[int, tuple[int, int] | None]:
        """Check the superblock; the root object header address and the root's cached symbol
        table (B-tree, heap), if the superblock caches one."""
        self._eof = self._size
        fields = _SUPERBLOCK.unpack_from(*self._bytes(0, _SUPERBLOCK.size))
        sig, version, free_v, root_v, res1, shared_v, offsets, lengths, res2 = fields[:9]
        self._leaf_k, self._internal_k = fields[9], fields[10]
        if sig != SIGNATURE or version not in (0, 1) or (free_v, root_v, shared_v) != (0, 0, 0):
            raise Unsupported("superblock version")
        if offsets != 8 or lengths != 8 or res1 or res2 or fields[11]:
            raise Unsupported("superblock sizes or status flags")
        if not (0 < self._leaf_k <= MAX_K and 0 < self._internal_k <= MAX_K):
            raise Unsupported("superblock B-tree K")
        at = _SUPERBLOCK.size
        if version == 1:
            storage_k, reserved = struct.unpack_from("<HH", *self._bytes(at, 4))
            if storage_k == 0 or reserved:
                raise Unsupported("superblock storage K")
            at += 4
        # The second address is the "free-space info" of versions 0 and 1 in the specification;
        # libhdf5 reads it as a superblock extension address and refuses a defined one.
        base, free_space, eof, driver = _ADDRESSES.unpack_from(*self._bytes(at, _ADDRESSES.size))
        if base != 0 or free_space != UNDEFINED or driver != UNDEFINED or eof > self._size:
            raise Unsupported("base address, free-space address, driver block or truncated file")
        self._eof = eof
        self._head_end = min(len(self._head), eof)
        _, header, cache, _, scratch = _ENTRY.unpack_from(
            *self._bytes(at + _ADDRESSES.size, _ENTRY.size))
        if cache not in (0, 1):
            raise Unsupported("root symbol table entry")
        cached = struct.unpack("<QQ", scratch) if cache == 1 else None
        return int(header), cached  # type: ignore[return-value]

    def _object(self, address: int) -> H5Object:
        """The object header at ``address`` (parsed once per file)."""
        obj = self._objects.get(address)
        if obj is None:
            obj = self._objects[address] = self._parse_object(address)
        return obj

    def _links(self, group: H5Object) -> dict[bytes, int]:
        """Name -> object header address of every link of an old-style group."""
        if group.symbol_table is None:
            raise Unsupported("group without a symbol table")
        links = self._tables.get(group.symbol_table)
        if links is None:
            links = self._tables[group.symbol_table] = self._symbol_table(*group.symbol_table)
        return links

    def _heap(self, address: int) -> tuple[bytes, int, int]:
        """The local heap's data ``(buffer, offset, size)``, its free list checked as libhdf5
        checks it when it loads the heap."""
        sig, version, reserved, size, free, data_at = _HEAP.unpack_from(
            *self._bytes(address, _HEAP.size))
        if sig != b"HEAP" or version != 0 or reserved != b"\0\0\0" or size > MAX_HEAP_BYTES:
            raise Unsupported("local heap")
        names, base = self._bytes(data_at, size)
        for _ in range(MAX_FREE_BLOCKS):
            if free == FREE_NULL:
                return names, base, size
            if free >= size or free + 16 > size:
                raise Unsupported("local heap free list")
            free_next, free_size = struct.unpack_from("<QQ", names, base + free)
            if free_next == 0 or free + free_size > size or free_size < 16:
                raise Unsupported("local heap free block")
            free = free_next
        raise Unsupported("local heap free list too long")

    def _symbol_table(self, btree: int, heap: int) -> dict[bytes, int]:
        """Walk the group's B-tree (bounded, each node once) and its symbol nodes, checking
        that every name lies between its node's keys: libhdf5 finds a name by binary search,
        so only then does a name listed here resolve there."""
        names, base, size = self._heap(heap)

        def name_at(offset: int) -> bytes:
            if offset >= size:
                raise Unsupported("name outside the local heap")
            end = names.find(b"\0", base + offset, base + size)
            if end < 0:
                raise Unsupported("unterminated name")
            return names[base + offset:end]

        two_k, node_bytes = 2 * self._internal_k, 24 + 16 * 2 * self._internal_k + 8
        out: dict[bytes, int] = {}
        pending: list[tuple[int, int | None, bytes | None, bytes | None]] = [
            (btree, None, None, None)]
        seen: set[int] = set()
        while pending:
            address, parent_level, low, high = pending.pop()
            if address in seen or len(seen) >= MAX_NODES:
                raise Unsupported("B-tree loop or too many nodes")
            seen.add(address)
            buf, at = self._bytes(address, node_bytes)  # libhdf5 reads the whole node
            sig, kind, level, used, _, _ = _TREE.unpack_from(buf, at)
            if sig != b"TREE" or kind != 0 or level >= MAX_BTREE_DEPTH or used > two_k:
                raise Unsupported("B-tree node")
            if parent_level is not None and level != parent_level - 1:
                raise Unsupported("B-tree levels")
            values = struct.unpack_from(f"<{2 * used + 1}Q", buf, at + _TREE.size)
            keys = [name_at(k) for k in values[0::2]]
            if keys != sorted(keys):
                raise Unsupported("B-tree keys out of order")
            if used and ((low is not None and keys[0] < low) or (high is not None
                         and keys[-1] > high)):
                raise Unsupported("B-tree keys outside the parent's")
            for i, child in enumerate(values[1::2]):
                if child in seen:
                    raise Unsupported("a node listed twice")
                if level:
                    pending.append((child, level, keys[i], keys[i + 1]))
                else:
                    seen.add(child)  # symbol nodes too: an empty one could repeat unnoticed
                    self._symbol_node(child, name_at, keys[i], keys[i + 1], out)
            if len(out) > h5model.MAX_OBJECTS:
                raise Unsupported("group too large")
        return out

    def _symbol_node(
        self, address: int, name_at: Callable[[int], bytes], low: bytes, high: bytes,
        out: dict[bytes, int],
    ) -> None:
        """The entries of one symbol-table node into ``out``: names strictly increasing and
        within (``low``, ``high``]; soft links are Unsupported."""
        # libhdf5 reads the whole node, whatever its count
        buf, off = self._bytes(address, _SNOD.size + 2 * self._leaf_k * _ENTRY.size)
        sig, version, reserved, count = _SNOD.unpack_from(buf, off)
        if sig != b"SNOD" or version != 1 or reserved or count > 2 * self._leaf_k:
            raise Unsupported("symbol table node")
        off += _SNOD.size
        previous = low
        for i in range(count):
            name_offset, header, cache, _, _ = _ENTRY.unpack_from(buf, off + i * _ENTRY.size)
            if cache not in (0, 1):  # 2: a soft link
                raise Unsupported("soft link or unknown cache type")
            name = name_at(name_offset)
            if not name or b"/" in name or not previous < name <= high:
                raise Unsupported("empty, odd or misplaced link name")
            previous = name
            out[name] = header

    def _parse_object(self, address: int) -> H5Object:
        """Read a version 1 object header and its continuation blocks (bounded), and check its
        messages as libhdf5 does when it opens the object."""
        version, reserved, count, _, size = _OH_V1.unpack_from(*self._bytes(address, 16))
        if version != 1 or reserved or count > MAX_MESSAGES or size % 8 or size > MAX_BLOCK_BYTES:
            raise Unsupported("object header")
        blocks = [(address + 16, size)]
        found: dict[int, bytes] = {}
        attributes: list[bytes] = []
        messages = 0
        for _ in range(MAX_BLOCKS):
            if not blocks:
                break
            start, length = blocks.pop(0)
            buf, at = self._bytes(start, length)
            end = at + length
            while at < end:
                kind, msg_size, flags = _MSG.unpack_from(buf, at)
                data = at + 8
                at = data + msg_size
                if at > end or msg_size & 7 or flags > 1 or kind not in KNOWN:
                    raise Unsupported("message size, flags or type")
                messages += 1
                if kind == NIL:
                    continue
                msg = buf[data:at]
                if kind == CONTINUATION:
                    block = struct.unpack_from("<QQ", msg)
                    if block[1] == 0 or block[1] % 8 or block[1] > MAX_BLOCK_BYTES:
                        raise Unsupported("continuation block")
                    blocks.append(block)
                elif kind == ATTRIBUTE:
                    attributes.append(msg)
                elif kind == MTIME and (msg[0] != 1 or msg[1:4] != b"\0\0\0"):
                    raise Unsupported("modification time message")
                elif kind == COMMENT and b"\0" not in msg:
                    raise Unsupported("comment message")
                elif kind in SINGLE:
                    if kind in found:
                        raise Unsupported("repeated message")
                    found[kind] = msg
        if blocks or messages != count:
            raise Unsupported("header blocks or message count")
        if SYMBOL_TABLE in found:
            if len(found) > 1:
                raise Unsupported("group with dataset messages")
            table = struct.unpack_from("<QQ", found[SYMBOL_TABLE])
            return H5Object(address, True, symbol_table=table, attributes=tuple(attributes))
        if not (DATASPACE in found and DATATYPE in found and LAYOUT in found):
            raise Unsupported("neither a group nor a dataset")
        get = found.get
        dims, max_dims, dtype = describe_dataset(
            found[DATASPACE], found[DATATYPE], get(FILL), get(FILL_OLD), get(PIPELINE))
        chunked = check_layout(found[LAYOUT], dims, max_dims, dtype.itemsize, self._eof)
        if PIPELINE in found and not chunked:
            raise Unsupported("filters on a dataset that is not chunked")
        return H5Object(address, False, shape=dims, dtype=dtype, attributes=tuple(attributes))

    def _global_heap(self, collection: int) -> dict[int, bytes]:
        """The objects of the global heap collection at ``collection`` (read once per file),
        walked as libhdf5 loads it: objects padded to 8 bytes, then one free-space object
        (index 0, its size counting its own header) or a tail too small for a header, ending
        exactly at the collection's end."""
        cached = self._global_heaps.get(collection)
        if cached is not None:
            return cached
        sig, version, reserved, size = _GCOL.unpack_from(*self._bytes(collection, _GCOL.size))
        if (sig != b"GCOL" or version != 1 or reserved != b"\0\0\0" or size > MAX_GLOBAL_HEAP
                or size < 4096):
            raise Unsupported("global heap collection")
        buf, base = self._bytes(collection, size)
        pos, end = base + _GCOL.size, base + size
        objects: dict[int, bytes] = {}
        free_space = False
        while pos < end:
            if pos + _GOBJ.size > end and not free_space:
                break  # a tail too small for an object header is the free space
            number, _, length = _GOBJ.unpack_from(buf, pos)
            need = _GOBJ.size + (length + 7 & ~7) if number else length
            if number == 0:
                if free_space:
                    raise Unsupported("bytes after the free space")
                free_space = True
            if need < _GOBJ.size or pos + need > end or number in objects:
                raise Unsupported("global heap object")
            if number:
                objects[number] = buf[pos + _GOBJ.size:pos + _GOBJ.size + length]
            pos += need
        self._global_heaps[collection] = objects
        return objects
