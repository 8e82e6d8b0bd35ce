"""The pure-Python HDF5 reader (formats/h5meta.py) and the in-process BigDataViewer path built on
it (formats/bdv_fast.py), held against libhdf5: the same record and findings for every file it
reads, the record untouched for every file it leaves to libhdf5, bounded work on hostile bytes,
and no h5py import for the files it covers."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from bdvwriters import write_bdv, write_xml
from fuzzing import FIXTURES, RUNS, budgeted, examples
from hypothesis import given
from hypothesis import strategies as st

from empiar_validate.formats import bdv_fast, h5meta, hdf5, isolation
from empiar_validate.formats.base import Source
from empiar_validate.records import FileRecord

ONE = {0: ((5, 6, 8), "uint16")}


def _bdv(path: Path, setups: dict = ONE, **kw: object) -> None:
    write_bdv(path, setups, **kw)
    sizes = {sid: " ".join(map(str, reversed(shape))) for sid, (shape, _) in setups.items()}
    write_xml(path.with_suffix(".xml"), path.name, sizes)


def _edit(path: Path, change: Callable[[h5py.File], None], **kw: object) -> None:
    _bdv(path, **kw)
    with h5py.File(path, "a") as f:
        change(f)


def _pybdv(path: Path) -> None:
    import pybdv

    vol = np.arange(5 * 6 * 8, dtype="uint16").reshape(5, 6, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for setup, tp in ((0, 0), (1, 0), (0, 1), (1, 1)):
            pybdv.make_bdv(vol, str(path), downscale_factors=[[1, 2, 2]],
                           resolution=[1.0, 0.5, 0.25], unit="micrometer", setup_id=setup,
                           timepoint=tp)


def _fresh(path: Path, build: Callable[[h5py.File], None], **kw: object) -> None:
    _bdv(path)
    with h5py.File(path, "w", **kw) as f:
        build(f)


def _minimal(f: h5py.File) -> None:
    f["s00/resolutions"] = np.ones((1, 3))
    f["s00/subdivisions"] = np.ones((1, 3), "int32")
    f.create_dataset("t00000/s00/0/cells", shape=(5, 6, 8), dtype="int16")


def _cells_gzip(f: h5py.File) -> None:
    del f["t00000/s00/0/cells"]
    f.create_dataset("t00000/s00/0/cells", data=np.zeros((5, 6, 8), "int16"),
                     compression="gzip", chunks=(2, 2, 2))


def _many_attributes(f: h5py.File) -> None:
    for i in range(30):  # more than the first header block holds: continuation blocks
        f["s00"].attrs[f"a{i:02d}"] = np.arange(20.0)
    f["s00"].attrs["dataType"] = "int16"


def _scalar_resolutions(f: h5py.File) -> None:
    del f["s00/resolutions"]
    f["s00/resolutions"] = 1.0


def _setup_is_dataset(f: h5py.File) -> None:
    f["s00"] = np.ones(3)
    f["s01/resolutions"] = np.ones((1, 3))
    f["s01/subdivisions"] = np.ones((1, 3))
    f.create_dataset("t00000/s01/0/cells", shape=(5, 6, 8), dtype="int16")


def _cells_is_group(f: h5py.File) -> None:
    del f["t00000/s00/0/cells"]
    f.create_group("t00000/s00/0/cells")


def _timepoint_is_dataset(f: h5py.File) -> None:
    del f["t00000"]
    f["t00000"] = np.zeros(2)


TWO = {0: ((3, 4, 5), "DT"), 1: ((2, 2, 2), "int16")}

# name -> (writer, does the pure reader cover it?)
CASES: dict[str, tuple[Callable[[Path], None], bool]] = {
    "pybdv": (_pybdv, True),
    "legacy int16": (lambda p: _bdv(p), True),
    "dataType vlen string": (lambda p: _bdv(p, data_type="uint16"), True),
    "dataType fixed string": (lambda p: _bdv(p, data_type=np.bytes_("uint16")), True),
    "dataType disagrees": (lambda p: _bdv(p, data_type=np.bytes_("uint8")), True),
    **{
        f"cells {dt}": (lambda p, dt=dt: _bdv(
            p, {k: (s, dt if t == "DT" else t) for k, (s, t) in TWO.items()}, levels=2), True)
        for dt in ("float32", "float64", "<f2", ">f4", "int8", "uint32", "int64", ">u2")
    },
    "300 timepoints": (lambda p: _bdv(p, timepoints=range(300)), True),
    "4 levels": (lambda p: _bdv(p, {0: ((16, 16, 16), "int16")}, levels=4), True),
    "resolutions rows differ": (lambda p: _bdv(p, levels=2, res_rows=3), True),
    "no subdivisions": (lambda p: _bdv(p, subdivisions=False), True),
    "continuation blocks": (lambda p: _edit(p, _many_attributes), True),
    "scalar resolutions": (lambda p: _edit(p, _scalar_resolutions), True),
    "setup is a dataset": (lambda p: _fresh(p, _setup_is_dataset), True),
    "cells is a group": (lambda p: _edit(p, _cells_is_group), True),
    "timepoint is a dataset": (lambda p: _edit(p, _timepoint_is_dataset, timepoints=(0, 1)), True),
    "gzip-compressed cells": (lambda p: _edit(p, _cells_gzip), True),
    # left to libhdf5
    "libver latest": (lambda p: _fresh(p, _minimal, libver="latest"), False),
    "creation order tracked": (lambda p: _fresh(p, _minimal, track_order=True), False),
    "soft link": (lambda p: _edit(p, lambda f: f.__setitem__(
        "t00000/s00/1", h5py.SoftLink("/t00000/s00/0"))), False),
    "external link": (lambda p: _edit(p, lambda f: f.__setitem__(
        "t00000/s01", h5py.ExternalLink("other.h5", "/x"))), False),
    "dataType array": (lambda p: _edit(p, lambda f: f["s00"].attrs.__setitem__(
        "dataType", np.array([b"uint16"]))), False),
    "dataType number": (lambda p: _edit(p, lambda f: f["s00"].attrs.__setitem__(
        "dataType", 3)), False),
    "user block": (lambda p: _fresh(p, _minimal, userblock_size=512), False),
    "not BigDataViewer": (lambda p: _fresh(p, lambda f: f.__setitem__(
        "data", np.zeros((4, 4)))), False),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("h5meta")
    for i, (write, _) in enumerate(CASES.values()):
        write(folder / f"c{i:02d}.h5")
    return folder


def _path(corpus: Path, name: str) -> str:
    return str(corpus / f"c{list(CASES).index(name):02d}.h5")


def _source(path: str) -> Source:
    return Source(path, b"", 0, None, ".h5")


def _libhdf5(path: str) -> FileRecord:
    record = FileRecord(path=path)
    hdf5.read(_source(path), record)
    return record


def _pure(path: str) -> tuple[bool, FileRecord]:
    record = FileRecord(path=path)
    return bdv_fast.read_fast(_source(path), record), record


@pytest.mark.parametrize("name", CASES)
def test_pure_reader_agrees_with_libhdf5(corpus: Path, name: str) -> None:
    path = _path(corpus, name)
    covered, record = _pure(path)
    assert covered is CASES[name][1]
    if covered:
        assert record.to_dict() == _libhdf5(path).to_dict()
        assert record.format == "BIG DATA VIEWER HDF5"
    else:
        assert record.to_dict() == FileRecord(path=path).to_dict(), "record touched"


def test_bounds_are_what_end_the_read(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The continuation and B-tree cases really exercise those structures: lowering the bound
    makes the pure reader give the file to libhdf5."""
    monkeypatch.setattr(h5meta, "MAX_BLOCKS", 1)
    assert _pure(_path(corpus, "continuation blocks"))[0] is False
    assert _pure(_path(corpus, "legacy int16"))[0] is True
    monkeypatch.undo()
    monkeypatch.setattr(h5meta, "MAX_BTREE_DEPTH", 1)
    assert _pure(_path(corpus, "300 timepoints"))[0] is False
    assert _pure(_path(corpus, "legacy int16"))[0] is True


def _root_btree(data: bytes) -> int:
    """The root group's B-tree address, from the superblock's root symbol table entry."""
    return struct.unpack_from("<Q", data, 24 + 32 + 24)[0]


def test_btree_loop_and_out_of_file_address_end_quickly(corpus: Path, tmp_path: Path) -> None:
    data = bytearray(Path(_path(corpus, "300 timepoints")).read_bytes())
    node = _root_btree(data)
    assert data[node:node + 4] == b"TREE" and data[node + 5] >= 1  # an internal node
    looped = bytearray(data)
    struct.pack_into("<Q", looped, node + 24 + 8, node)  # first child: the node itself
    far = bytearray(data)
    struct.pack_into("<Q", far, node + 24 + 8, len(data) + 4096)
    for label, content in (("loop", looped), ("far", far)):
        path = tmp_path / f"{label}.h5"
        path.write_bytes(bytes(content))
        assert _pure(str(path)) == (False, FileRecord(path=str(path)))


def test_truncated_or_empty_file_is_left_to_libhdf5(corpus: Path, tmp_path: Path) -> None:
    data = Path(_path(corpus, "legacy int16")).read_bytes()
    for size in (0, 8, 100, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{size}.h5"
        path.write_bytes(data[:size])
        assert _pure(str(path))[0] is False


def test_inspect_of_plain_bigdataviewer_files_never_imports_h5py(corpus: Path) -> None:
    """The point of the pure reader: no libhdf5, no worker process, for the common files."""
    code = (
        "import sys\n"
        "from empiar_validate.formats import read_header\n"
        f"rec = read_header({_path(corpus, 'pybdv')!r})\n"
        "assert rec.format == 'BIG DATA VIEWER HDF5' and rec.ok, rec\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'h5py'))\n"
    )
    env = {**os.environ, "EMPIAR_VALIDATE_ISOLATION": "on"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip() == "[]"


# --- fuzz: mutated BigDataViewer files, pure reader against libhdf5 in a worker -------------

SEED = FIXTURES / "dataset" / "lightsheet"


def _metadata_offsets(path: Path) -> list[int]:
    """Every byte offset the pure reader reads in ``path`` (its superblock, object headers,
    B-tree nodes, heaps): where a mutation can change what it reports."""
    read: list[tuple[int, int]] = []
    original = h5meta.PureHdf5._bytes

    def logged(self: h5meta.PureHdf5, address: int, length: int) -> tuple[bytes, int]:
        read.append((address, length))
        return original(self, address, length)

    h5meta.PureHdf5._bytes = logged  # type: ignore[method-assign]
    try:
        assert _pure(str(path))[0]
    finally:
        h5meta.PureHdf5._bytes = original  # type: ignore[method-assign]
    return sorted({a + i for a, n in read if n <= 4096 for i in range(n)})


_SEEDS: list[tuple[Path, list[int]]] = []


def _seeds() -> list[tuple[Path, list[int]]]:
    """Seed files (built once) and the offsets the reader reads in each: pybdv's chunked
    cells, contiguous datasets with a variable-length dataType string, and a root group whose
    B-tree has several symbol nodes."""
    if not _SEEDS:
        folder = Path(tempfile.mkdtemp(prefix="ev-h5meta-seeds-"))
        shutil.copy(SEED / "cells.h5", folder / "pybdv.h5")
        shutil.copy(SEED / "cells.xml", folder / "pybdv.xml")
        _bdv(folder / "vlen.h5", data_type="uint16", levels=2)
        _bdv(folder / "timepoints.h5", timepoints=range(40))
        for name in ("pybdv", "vlen", "timepoints"):
            path = folder / f"{name}.h5"
            _SEEDS.append((path, _metadata_offsets(path)))
    return _SEEDS


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[Path, bytes]:
    """A seed with one to three bytes or words replaced where the reader looks."""
    path, offsets = draw(st.sampled_from(_seeds()))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(offsets))
        if draw(st.booleans()):
            data[at] ^= 1 << draw(st.integers(0, 7))
        else:
            data[at:at + 4] = struct.pack("<I", draw(st.sampled_from(
                (0, 1, 2, 8, 16, 0xFF, 4096, 0xFFFFFFFF))))
    return path, bytes(data)


@examples(60)
@given(case=st.deferred(_mutated))
def test_fuzz_pure_reader_agrees_with_libhdf5(case: tuple[Path, bytes]) -> None:
    RUNS[0] += 1
    seed, data = case
    folder = Path(tempfile.mkdtemp(prefix="ev-h5meta-"))
    try:
        path = folder / seed.name
        path.write_bytes(data)
        shutil.copy(seed.with_suffix(".xml"), path.with_suffix(".xml"))
        covered, record = _pure(str(path))
        if not covered:
            assert record.to_dict() == FileRecord(path=str(path)).to_dict()
            return
        # libhdf5 in a worker process: a mutated file may crash it (finding F014)
        other = isolation.read_isolated("hdf5", _source(str(path)), FileRecord(path=str(path)))
        assert record.to_dict() == other.to_dict()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


test_fuzz_pure_reader_agrees_with_libhdf5 = budgeted(test_fuzz_pure_reader_agrees_with_libhdf5)


# --- each check of libhdf5's the pure reader mirrors, with a file that needs it -------------


def _messages(data: bytes, address: int) -> list[tuple[int, int, int]]:
    """``(type, offset of its data, size)`` of each message of the version 1 object header at
    ``address`` (continuation blocks followed)."""
    out, blocks = [], [(address + 16, struct.unpack_from("<I", data, address + 8)[0])]
    while blocks:
        start, length = blocks.pop(0)
        at = start
        while at < start + length:
            kind, size = struct.unpack_from("<HH", data, at)
            out.append((kind, at + 8, size))
            if kind == 0x10:
                blocks.append(struct.unpack_from("<QQ", data, at + 8))
            at += 8 + size
    return out


def _message(data: bytes, address: int, kind: int) -> int:
    return next(at for k, at, _ in _messages(data, address) if k == kind)


def _address(path: Path, name: bytes) -> int:
    with h5meta.PureHdf5(str(path)) as f:
        obj = f.locate(f.root, name)
        assert obj is not None, name
        return obj.address


def _heap(data: bytes) -> int:
    """The root group's local heap address (superblock root entry's scratch pad)."""
    return struct.unpack_from("<Q", data, 24 + 32 + 24 + 8)[0]


def _set(data: bytearray, at: int, fmt: str, value: int) -> bytearray:
    struct.pack_into(fmt, data, at, value)
    return data


def _contiguous_size(path: Path, data: bytearray) -> bytearray:
    layout = _message(data, _address(path, b"s00/resolutions"), 0x08)
    return _set(data, layout + 10, "<Q", struct.unpack_from("<Q", data, layout + 10)[0] + 8)


def _chunk_element_size(path: Path, data: bytearray) -> bytearray:
    layout = _message(data, _address(path, b"t00000/s00/0/cells"), 0x08)
    return _set(data, layout + 11 + 4 * data[layout + 2] - 4, "<I", 1)


def _message_count(path: Path, data: bytearray) -> bytearray:
    cells = _address(path, b"t00000/s00/0/cells")
    return _set(data, cells + 2, "<H", struct.unpack_from("<H", data, cells + 2)[0] - 1)


def _old_time_message(path: Path, data: bytearray) -> bytearray:
    cells = _address(path, b"t00000/s00/0/cells")
    nil = next(at for k, at, _ in _messages(data, cells) if k == 0)
    return _set(data, nil - 8, "<H", 0x0E)


def _name_order(path: Path, data: bytearray) -> bytearray:
    names = struct.unpack_from("<Q", data, _heap(data) + 24)[0]
    at = data.index(b"s00\0", names)
    data[at] = ord("u")  # "u00" sorts after "t00000" but stays first: binary search misses it
    return data


def _free_list(path: Path, data: bytearray) -> bytearray:
    heap = _heap(data)
    return _set(data, heap + 16, "<Q", struct.unpack_from("<Q", data, heap + 8)[0] + 8)


def _vlen_string_nul(path: Path, data: bytearray) -> bytearray:
    at = data.index(b"uint16")
    data[at + 2] = 0  # h5py reads "ui"
    return data


def _free_space_not_last(path: Path, data: bytearray) -> bytearray:
    heap = data.index(b"GCOL")
    free = heap + 16 + 16 + 8  # after the one 6-character string (padded to 8)
    assert struct.unpack_from("<H", data, free)[0] == 0
    return _set(data, free + 8, "<Q", struct.unpack_from("<Q", data, free + 8)[0] - 8)


# name -> (corpus case, mutation)
LIBHDF5_CHECKS: dict[str, tuple[str, Callable[[Path, bytearray], bytearray]]] = {
    "superblock status flags": ("legacy int16", lambda p, d: _set(d, 20, "<I", 1)),
    "superblock extension address": ("legacy int16", lambda p, d: _set(d, 32, "<Q", 96)),
    "contiguous storage size": ("legacy int16", _contiguous_size),
    "chunk element size": ("pybdv", _chunk_element_size),
    "message count": ("pybdv", _message_count),
    "old modification time": ("pybdv", _old_time_message),
    "link names out of order": ("legacy int16", _name_order),
    "local heap free list": ("legacy int16", _free_list),
    "NUL in a variable-length string": ("dataType vlen string", _vlen_string_nul),
    "global heap free space not last": ("dataType vlen string", _free_space_not_last),
}


@pytest.mark.parametrize("name", LIBHDF5_CHECKS)
def test_what_libhdf5_refuses_or_reads_otherwise_is_left_to_it(
    corpus: Path, tmp_path: Path, name: str,
) -> None:
    """Each mutation changes libhdf5's report of the file; the pure reader must not report it
    (it gives the file to libhdf5), or the two readers would disagree."""
    case, mutate = LIBHDF5_CHECKS[name]
    original = Path(_path(corpus, case))
    path = tmp_path / original.name
    path.write_bytes(bytes(mutate(original, bytearray(original.read_bytes()))))
    shutil.copy(original.with_suffix(".xml"), path.with_suffix(".xml"))
    assert _pure(str(path)) == (False, FileRecord(path=str(path)))
    before = tmp_path / "before" / original.name
    before.parent.mkdir()
    shutil.copy(original, before)
    shutil.copy(original.with_suffix(".xml"), before.with_suffix(".xml"))
    clean = _libhdf5(str(before)).to_dict()
    mutated = isolation.read_isolated("hdf5", _source(str(path)), FileRecord(path=str(path)))
    mutated_doc = mutated.to_dict()
    clean["path"] = mutated_doc["path"]
    assert mutated_doc != clean, "libhdf5 reads the mutated file as the original"


def test_hostile_lengths_are_refused_before_any_large_read(corpus: Path, tmp_path: Path) -> None:
    """A continuation block claiming 8 GiB in a (sparse) 16 GiB file: the reader refuses it
    instead of reading it; libhdf5 gets the file."""
    original = Path(_path(corpus, "continuation blocks"))
    data = bytearray(original.read_bytes())
    s00 = _address(original, b"s00")
    at = _message(data, s00, 0x10)
    struct.pack_into("<Q", data, at + 8, 8 << 30)
    struct.pack_into("<Q", data, 24 + 16, 16 << 30)  # the superblock's end of file
    path = tmp_path / "huge.h5"
    with open(path, "wb") as out:
        out.write(bytes(data))
        out.truncate(16 << 30)  # sparse: no disk used
    original_pread = os.pread
    asked: list[int] = []

    def pread(fd: int, n: int, offset: int) -> bytes:
        asked.append(n)
        return original_pread(fd, n, offset)

    mp = pytest.MonkeyPatch()
    mp.setattr(h5meta.os, "pread", pread)
    try:
        assert _pure(str(path))[0] is False
    finally:
        mp.undo()
    assert max(asked) <= h5meta.HEAD_BYTES


def test_nested_variable_length_types_are_refused_without_recursion() -> None:
    from empiar_validate.formats import h5messages

    vlen = bytes([0x19, 0x01, 0x00, 0x00]) + struct.pack("<I", 16)
    with pytest.raises(h5messages.Unsupported):
        h5messages.datatype(vlen * 5000)  # a vlen of a vlen of ... would recurse 5,000 deep
    char = bytes([0x10, 0x00, 0x00, 0x00]) + struct.pack("<IHH", 1, 0, 8)
    assert h5messages.datatype(vlen + char).kind == "T"


# --- found in review: padding of fixed-length strings, and work that repeats ----------------


def _data_type_attribute(path: Path, value: bytes, pad: int) -> None:
    """A BigDataViewer file whose /s00@dataType is a fixed-length string of padding ``pad``,
    written through h5py's low-level API (as other writers may store it)."""
    _bdv(path)
    with h5py.File(path, "a") as f:
        tid = h5py.h5t.C_S1.copy()
        tid.set_size(len(value))
        tid.set_strpad(pad)
        space = h5py.h5s.create(h5py.h5s.SCALAR)
        aid = h5py.h5a.create(f["s00"].id, b"dataType", tid, space)
        aid.write(np.array(value, dtype=f"S{len(value)}"), mtype=tid)


@pytest.mark.parametrize(("value", "pad", "covered"), [
    (b"uint16\0\0", h5py.h5t.STR_NULLPAD, True),
    (b"uint16\0\0", h5py.h5t.STR_NULLTERM, True),
    (b"uint16", h5py.h5t.STR_SPACEPAD, True),
    (b"uint16  ", h5py.h5t.STR_SPACEPAD, False),  # libhdf5 strips the spaces
    (b"uint16\0xy", h5py.h5t.STR_NULLTERM, False),  # libhdf5 stops at the first NUL
    (b"\0uint16", h5py.h5t.STR_NULLPAD, False),
])
def test_fixed_length_strings_whose_padding_matters_are_left_to_libhdf5(
    tmp_path: Path, value: bytes, pad: int, covered: bool,
) -> None:
    path = tmp_path / "padded.h5"
    _data_type_attribute(path, value, pad)
    got, record = _pure(str(path))
    assert got is covered
    if covered:
        assert record.to_dict() == _libhdf5(str(path)).to_dict()
        assert record.extra["bdv_data_type"] == "uint16"


def _counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[object]:
    """Record the first argument of every call of ``owner.name``."""
    calls: list[object] = []
    original = getattr(owner, name)

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(args[1] if len(args) > 1 else args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def test_a_group_linked_under_many_names_is_decoded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One setup group with 50 attributes hard-linked as s00...s39: its attributes are decoded
    once, not once per name (40 x 51 decodes would let a hostile file cost minutes)."""
    path = tmp_path / "linked.h5"
    _bdv(path)
    with h5py.File(path, "a") as f:
        for i in range(50):
            f["s00"].attrs[f"a{i:02d}"] = i
        f["s00"].attrs["dataType"] = "uint16"
        for i in range(1, 40):
            f[f"s{i:02d}"] = f["s00"]
    decoded = _counting(monkeypatch, h5meta, "attribute")
    got, record = _pure(str(path))
    assert got and record.to_dict() == _libhdf5(str(path)).to_dict()
    assert len(decoded) == 51


def test_a_link_table_shared_by_many_groups_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 setup groups whose symbol table messages all point at the root's B-tree and heap
    (hand-made): the table is walked once, and the record is still libhdf5's."""
    path = tmp_path / "shared.h5"

    def setups_sharing_the_roots_datasets(f: h5py.File) -> None:
        f["resolutions"] = np.ones((1, 3))  # found in every setup once they share the table
        f["subdivisions"] = np.ones((1, 3))
        f.create_dataset("t00000/s00/0/cells", shape=(5, 6, 8), dtype="uint16")
        for i in range(40):
            f.create_group(f"s{i:02d}")

    _fresh(path, setups_sharing_the_roots_datasets)
    data = bytearray(path.read_bytes())
    root_table = struct.unpack_from("<QQ", data, 24 + 32 + 24)
    for i in range(40):
        at = _message(data, _address(path, f"s{i:02d}".encode()), 0x11)
        struct.pack_into("<QQ", data, at, *root_table)
    path.write_bytes(bytes(data))
    walked = _counting(monkeypatch, h5meta.PureHdf5, "_symbol_table")
    got, record = _pure(str(path))
    assert got and record.to_dict() == _libhdf5(str(path)).to_dict()
    assert len(walked) <= 4  # the root's (shared), t00000, t00000/s00, t00000/s00/0


def test_all_the_reads_of_a_file_are_bounded(
    corpus: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _path(corpus, "pybdv")
    assert _pure(path)[0] is True
    monkeypatch.setattr(h5meta, "MAX_READS", 10)
    assert _pure(path) == (False, FileRecord(path=path))
    monkeypatch.undo()
    monkeypatch.setattr(h5meta, "MAX_READ_BYTES", 1024)
    assert _pure(path) == (False, FileRecord(path=path))
