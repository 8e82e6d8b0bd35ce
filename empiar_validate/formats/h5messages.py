"""HDF5 object header messages decoded in pure Python, strictly.

Only the forms libhdf5 and h5py write for plain numeric datasets, groups and string attributes
are accepted, each checked the way libhdf5 checks it when it opens the object (sizes against
shapes, storage inside the file, known flags). Anything else raises :class:`Unsupported`, and
the caller asks libhdf5.

Strictness is the design: a message this module accepts must mean to libhdf5 exactly what it
means here, so that the pure reader (:mod:`empiar_validate.formats.h5meta`) never reports a
file differently from libhdf5. Rejecting a valid but unusual message costs only speed.
Each decoder gets the message's own bytes, so no read can stray into the next message.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

UNDEFINED = 0xFFFF_FFFF_FFFF_FFFF  # an undefined address, and an unlimited dimension
MAX_RANK = 32  # HDF5's H5S_MAX_RANK
MAX_FILTERS = 32  # HDF5's H5Z_MAX_NFILTERS
MAX_CHUNK_BYTES = 2**32 - 1  # libhdf5 refuses chunks of 4 GiB or more

# IEEE layouts h5py maps onto numpy floats: size -> (precision, exponent location, exponent
# size, mantissa location, mantissa size, exponent bias, sign location).
IEEE = {2: (16, 10, 5, 0, 10, 15, 15), 4: (32, 23, 8, 0, 23, 127, 31),
        8: (64, 52, 11, 0, 52, 1023, 63)}


class Unsupported(Exception):
    """The file (or the part asked for) is outside the pure reader's scope: ask libhdf5.

    Deliberately not one of :data:`~empiar_validate.formats.h5model.H5_ERRORS`, which the
    layout readers turn into findings: here nothing is reported, the whole read is redone."""


@dataclass(frozen=True, slots=True)
class DType:
    """A datatype as h5py would show it: numpy name, kind letter, element size; strings are
    kind ``S`` (fixed length) or ``T`` (variable length, in the global heap)."""

    name: str
    kind: str
    itemsize: int


@dataclass(frozen=True, slots=True)
class Attribute:
    """One decoded attribute message: its name, type, shape and raw data bytes."""

    name: bytes
    dtype: DType
    shape: tuple[int, ...]
    data: bytes


CACHED_MESSAGE_BYTES = 256  # longer messages are decoded every time, never kept
CACHED_DATASETS = 1_024

# (dataspace, datatype, fill value, old fill value, filter pipeline) message bytes -> what they
# say; see describe_dataset.
_DATASETS: dict[tuple[bytes | None, ...], tuple[tuple[int, ...], tuple[int, ...], DType]] = {}


def describe_dataset(
    space: bytes, dtype_msg: bytes, fill: bytes | None, fill_old: bytes | None,
    pipeline: bytes | None,
) -> tuple[tuple[int, ...], tuple[int, ...], DType]:
    """``(dims, max_dims, dtype)`` of a dataset from its address-free messages, each checked.

    The result depends on the message bytes alone, and files written by one program repeat the
    same messages (same shapes, types, fill values and filters) across thousands of files, so
    each distinct combination is decoded once per process: the others cost one dictionary
    lookup. Only short messages are remembered, and at most :data:`CACHED_DATASETS`
    combinations, so the memory stays small whatever the files hold."""
    key = (space, dtype_msg, fill, fill_old, pipeline)
    known = _DATASETS.get(key)
    if known is not None:
        return known
    dims, max_dims = dataspace(space)
    dtype = datatype(dtype_msg)
    if fill is not None:
        check_fill_value(fill, dtype.itemsize, old=False)
    if fill_old is not None:
        check_fill_value(fill_old, dtype.itemsize, old=True)
    if pipeline is not None:
        check_pipeline(pipeline)
    known = (dims, max_dims, dtype)
    if len(_DATASETS) < CACHED_DATASETS and all(
            m is None or len(m) <= CACHED_MESSAGE_BYTES for m in key):
        _DATASETS[key] = known
    return known


def dataspace(msg: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(dims, max_dims)`` of a scalar or simple dataspace (version 1 or 2)."""
    version, rank, flags = msg[0], msg[1], msg[2]
    if rank > MAX_RANK or flags & ~0x01:
        raise Unsupported("dataspace rank or flags")
    if version == 1:
        if msg[3] or msg[4:8] != b"\0\0\0\0":
            raise Unsupported("dataspace reserved bytes")
        at = 8
    elif version == 2:
        kind = msg[3]
        if not ((kind == 0 and rank == 0) or (kind == 1 and rank > 0)):
            raise Unsupported("null or odd dataspace")
        at = 4
    else:
        raise Unsupported("dataspace version")
    dims = struct.unpack_from(f"<{rank}Q", msg, at)
    if not flags & 0x01:
        return dims, dims
    max_dims = struct.unpack_from(f"<{rank}Q", msg, at + 8 * rank)
    if any(m != UNDEFINED and m < d for d, m in zip(dims, max_dims, strict=True)):
        raise Unsupported("dimension beyond its maximum")
    return dims, max_dims


def datatype(msg: bytes) -> DType:
    """Plain integers, IEEE floats and strings (fixed or variable length), version 1."""
    cls, version = msg[0] & 0x0F, msg[0] >> 4
    bits0, bits1, bits2 = msg[1], msg[2], msg[3]
    size = struct.unpack_from("<I", msg, 4)[0]
    if version != 1:
        raise Unsupported("datatype version")
    if cls == 0 and size in (1, 2, 4, 8) and not bits0 & ~0x09 and not bits1 and not bits2:
        offset, precision = struct.unpack_from("<HH", msg, 8)
        if offset == 0 and precision == 8 * size:
            signed = bool(bits0 & 0x08)
            return DType(f"{'int' if signed else 'uint'}{8 * size}", "i" if signed else "u", size)
    elif cls == 1 and size in IEEE and bits0 & ~0x01 == 0x20 and not bits2:
        offset, *fields = struct.unpack_from("<HHBBBBI", msg, 8)
        if offset == 0 and (*fields, bits1) == IEEE[size]:
            return DType(f"float{8 * size}", "f", size)
    elif cls == 3 and size > 0 and bits0 & 0x0F <= 2 and bits0 >> 4 <= 1 and not bits1 | bits2:
        return DType("string", "S", size)
    elif (cls == 9 and bits0 & 0x0F == 1 and bits0 >> 4 <= 2 and bits1 <= 1 and not bits2
          and msg[8] & 0x0F in (0, 3)):  # a base type that is not itself variable-length
        base = datatype(msg[8:])  # variable-length string: 8-bit characters
        if size == 16 and base.kind in "uS" and base.itemsize == 1:
            return DType("vlen string", "T", size)
    raise Unsupported("datatype outside integers, IEEE floats and strings")


def check_layout(
    msg: bytes, dims: tuple[int, ...], max_dims: tuple[int, ...], itemsize: int, eof: int,
) -> bool:
    """Check a version 3 data layout message against the dataset's shape and type, as libhdf5
    does on open; True when the layout is chunked (the only one a filter pipeline may have)."""
    version, cls = msg[0], msg[1]
    if version != 3:
        raise Unsupported("layout version")
    nbytes = math.prod(dims) * itemsize
    if cls == 0:  # compact: the data is in the message
        size = struct.unpack_from("<H", msg, 2)[0]
        if size != nbytes or 4 + size > len(msg):
            raise Unsupported("compact layout size")
        return False
    if cls == 1:  # contiguous
        address, size = struct.unpack_from("<QQ", msg, 2)
        if size != nbytes or (address != UNDEFINED and address + size > eof):
            raise Unsupported("contiguous layout size or address")
        return False
    if cls == 2:  # chunked (version 1 B-tree)
        ndims = msg[2]
        address = struct.unpack_from("<Q", msg, 3)[0]
        chunk = struct.unpack_from(f"<{ndims}I", msg, 11)
        if ndims != len(dims) + 1 or chunk[-1] != itemsize or min(chunk) == 0:
            raise Unsupported("chunk dimensions")
        if any(m != UNDEFINED and c > m for c, m in zip(chunk, max_dims, strict=False)):
            raise Unsupported("chunk larger than a fixed dimension")
        if math.prod(chunk) > MAX_CHUNK_BYTES or (address != UNDEFINED and address >= eof):
            raise Unsupported("chunk size or index address")
        return True
    raise Unsupported("layout class")


def check_fill_value(msg: bytes, itemsize: int, *, old: bool) -> None:
    """The fill value message (new, versions 1-3, or the old one): known settings, and a value,
    if any, of the element size."""
    if old:
        _fill_size(msg, 0, itemsize)
        return
    version = msg[0]
    if version in (1, 2):
        alloc, write, defined = msg[1], msg[2], msg[3]
        if not (1 <= alloc <= 3 and write <= 2 and defined <= 1):
            raise Unsupported("fill value settings")
        if version == 1 or defined:
            _fill_size(msg, 4, itemsize)
    elif version == 3:
        flags = msg[1]
        if not 1 <= flags & 0x03 <= 3 or (flags >> 2) & 0x03 > 2 or flags & 0xC0:
            raise Unsupported("fill value flags")
        if flags & 0x10 and flags & 0x20:
            raise Unsupported("fill value both undefined and given")
        if flags & 0x20:
            _fill_size(msg, 2, itemsize)
    else:
        raise Unsupported("fill value version")


def _fill_size(msg: bytes, at: int, itemsize: int) -> None:
    size = struct.unpack_from("<I", msg, at)[0]
    if size not in (0, itemsize) or at + 4 + size > len(msg):
        raise Unsupported("fill value size")


def check_pipeline(msg: bytes) -> None:
    """A filter pipeline message (versions 1 and 2) that decodes within its bytes."""
    version, count = msg[0], msg[1]
    if version not in (1, 2) or not 0 < count <= MAX_FILTERS:
        raise Unsupported("filter pipeline version or count")
    at = 8 if version == 1 else 2
    for _ in range(count):
        ident = struct.unpack_from("<H", msg, at)[0]
        if version == 1 or ident >= 256:
            name_size, flags, values = struct.unpack_from("<HHH", msg, at + 2)
            at += 8
        else:
            name_size = 0
            flags, values = struct.unpack_from("<HH", msg, at + 2)
            at += 6
        if flags & ~0x01 or (version == 1 and name_size % 8):
            raise Unsupported("filter flags or name")
        if name_size and b"\0" not in msg[at:at + name_size]:
            raise Unsupported("unterminated filter name")
        at += name_size + 4 * values + (4 if version == 1 and values % 2 else 0)
    if at > len(msg):
        raise Unsupported("filter pipeline beyond its message")


def attribute(msg: bytes) -> Attribute:
    """Decode an attribute message (versions 1-3, nothing shared) with its data."""
    version, flags, name_size, type_size, space_size = struct.unpack_from("<BBHHH", msg, 0)
    if version == 1:
        if flags:
            raise Unsupported("attribute reserved byte")
        name_at = 8
        type_at = name_at + _pad8(name_size)
        space_at = type_at + _pad8(type_size)
        data_at = space_at + _pad8(space_size)
    elif version in (2, 3):
        if flags:
            raise Unsupported("shared attribute parts")
        name_at = 8 if version == 2 else 9
        if version == 3 and msg[8] > 1:
            raise Unsupported("attribute name encoding")
        type_at = name_at + name_size
        space_at = type_at + type_size
        data_at = space_at + space_size
    else:
        raise Unsupported("attribute version")
    name = msg[name_at:name_at + name_size]
    if name_size < 2 or name[-1:] != b"\0" or b"\0" in name[:-1]:
        raise Unsupported("attribute name")
    dtype = datatype(msg[type_at:type_at + type_size])
    shape, _ = dataspace(msg[space_at:space_at + space_size])
    size = math.prod(shape) * dtype.itemsize
    if data_at + size > len(msg):
        raise Unsupported("attribute data beyond its message")
    return Attribute(name[:-1], dtype, shape, msg[data_at:data_at + size])


def _pad8(n: int) -> int:
    return (n + 7) & ~7
