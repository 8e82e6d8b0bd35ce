"""The header-read hot path: struct-parsed MRC headers, float32 arithmetic without numpy, plain
system-call reads, byte-ordered walks and the sequential-until-waiting default of read_all.

Each fast path is checked against the slow reference it replaced (mrcfile's dtypes, numpy's
float32 printing, os.fsencode order), so a drift in either shows up here.
"""

from __future__ import annotations

import os
import random
import struct
import sys
import threading
import time

import numpy as np
import pytest
from mrcfile.dtypes import HEADER_DTYPE
from mrcfile.utils import dtype_from_mode

from empiar_validate import formats, headers
from empiar_validate.formats import HEAD_SIZE, read_header
from empiar_validate.formats.mrc import MODE_INFO, _spacing, parse_header, shortest_f32
from empiar_validate.formats.voxel import voxel_type_of_dtype
from empiar_validate.headers import read_all, waiting_on_storage, walk_all
from empiar_validate.walk import walk

# MrcHeader field -> mrcfile header field (and element, for the cell)
FIELDS = {
    "nx": ("nx", None), "ny": ("ny", None), "nz": ("nz", None), "mode": ("mode", None),
    "mx": ("mx", None), "my": ("my", None), "mz": ("mz", None), "cell_x": ("cella", 0),
    "cell_y": ("cella", 1), "cell_z": ("cella", 2), "ispg": ("ispg", None),
    "nsymbt": ("nsymbt", None), "nversion": ("nversion", None), "mapc": ("mapc", None),
    "mapr": ("mapr", None), "maps": ("maps", None), "nlabl": ("nlabl", None),
    "origin_x": ("origin", 0), "origin_y": ("origin", 1), "origin_z": ("origin", 2),
}


@pytest.mark.parametrize("order", ["<", ">"])
def test_struct_layout_matches_mrcfile_dtype(order):
    rng = random.Random(order)
    dtype = HEADER_DTYPE.newbyteorder(order)
    for _ in range(50):
        head = bytes(rng.randrange(256) for _ in range(1024))
        ours = parse_header(head, order)
        ref = np.frombuffer(head, dtype=dtype)[0]
        for name, (field, index) in FIELDS.items():
            value = ref[field] if index is None else ref[field][index]
            got = getattr(ours, name)
            assert got == value or (np.isnan(value) and got != got), name
        assert ours.exttyp.rstrip(b"\x00") == bytes(ref["exttyp"])
        assert ours.map_id.rstrip(b"\x00") == bytes(ref["map"])
        assert ours.machst == head[212:216]
        assert (ours.imod_stamp, ours.imod_flags) == struct.unpack(order + "ii", head[152:160])
        assert ours.order == order


def test_mode_table_matches_mrcfile():
    for mode in (0, 1, 2, 4, 6, 12):
        dt = dtype_from_mode(mode)
        assert MODE_INFO[mode] == (voxel_type_of_dtype(dt), dt.itemsize * 8)
    assert MODE_INFO[3] == ("32 BIT COMPLEX", 32)
    assert MODE_INFO[101] == ("4 BIT INTEGER", 4)
    assert 5 not in MODE_INFO and 7 not in MODE_INFO


def _f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def test_shortest_f32_prints_as_numpy_does():
    rng = random.Random(7)
    values = []
    for k in range(-148, 127):  # around every power of two, where the rounding interval is lopsided
        bits = struct.unpack("<I", struct.pack("<f", 2.0**k))[0]
        values += [_f32(bits + d) for d in (-1, 0, 1)]
    values += [_f32(rng.randrange(1, 0x7F800000)) for _ in range(3000)]
    values += [float(np.float32(v)) for v in (0.83, 1.06, 0.8537755, 1e-30, 3.4e38, 4779.0)]
    for v in values:
        assert shortest_f32(v) == float(str(np.float32(v))), v


def test_spacing_is_float32_division_as_mrcfile_does():
    rng = random.Random(3)
    for _ in range(3000):
        cell = float(np.float32(rng.uniform(0.01, 1e5)))
        samples = rng.choice([1, 3, 7, 55, 4092, 5760, rng.randrange(1, 1 << 31)])
        expected = float(str(np.float32(cell) / np.float32(samples)))
        assert _spacing(cell, samples) == expected, (cell, samples)
    assert _spacing(float("nan"), 4) is None
    assert _spacing(10.0, 0) is None
    assert _spacing(-1.0, 4) is None


def test_mrc_reads_import_no_numpy(tmp_path):
    """A plain MRC header needs neither numpy nor mrcfile (cheap start-up for scan and check)."""
    head = bytearray(1024)
    head[0:16] = struct.pack("<4i", 4, 4, 1, 2)
    head[28:52] = struct.pack("<3i3f", 4, 4, 1, 3.32, 3.32, 0.83)
    head[64:76] = struct.pack("<3i", 1, 2, 3)  # mapc, mapr, maps, as every writer sets them
    head[208:216] = b"MAP DA\x00\x00"
    path = tmp_path / "x.mrc"
    path.write_bytes(bytes(head) + bytes(4 * 4 * 4))
    code = ("import sys; from empiar_validate.formats import read_header; "
            f"r = read_header({str(path)!r}); "
            "assert r.pixel_width == 0.83 and not r.problems, r; "
            "print(sorted(m for m in ('numpy', 'mrcfile') if m in sys.modules))")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_short_reads_are_completed(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_bytes(bytes(range(256)) * 64)  # 16 KiB
    real_read = os.read
    calls = []

    def dribble(fd, n):
        calls.append(n)
        return real_read(fd, min(n, 1000))  # a network file system handing out 1000 bytes

    monkeypatch.setattr(formats.os, "read", dribble)
    with open(path, "rb") as fh:
        assert formats._read_fd(fh.fileno(), 16384) == path.read_bytes()[:HEAD_SIZE]
    assert len(calls) == 5
    small = tmp_path / "small.txt"
    small.write_bytes(b"x" * 2500)
    calls.clear()
    with open(small, "rb") as fh:
        assert formats._read_fd(fh.fileno(), 2500) == b"x" * 2500
    assert len(calls) == 3  # no extra read past the end of a file smaller than the head


def test_walk_marks_regular_files_and_not_links(tmp_path):
    (tmp_path / "a.mrc").write_bytes(b"x")
    (tmp_path / "b.mrc").symlink_to(tmp_path / "a.mrc")
    (tmp_path / "gone.mrc").symlink_to(tmp_path / "nowhere")
    assert {e.rel: e.regular for e in walk(str(tmp_path))} == {
        "a.mrc": True, "b.mrc": False, "gone.mrc": False}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_regular_hint_that_went_stale_gives_the_same_findings(tmp_path):
    """A file swapped for a FIFO, removed, emptied or made unreadable after the walk: the
    open-first path must report it as the stat-first path does, and never block."""
    fifo, empty, locked = tmp_path / "f.mrc", tmp_path / "e.mrc", tmp_path / "l.mrc"
    os.mkfifo(fifo)
    empty.write_bytes(b"")
    locked.write_bytes(b"x" * 2000)
    locked.chmod(0)
    try:
        for path in (fifo, empty, locked, tmp_path / "vanished.mrc"):
            slow, fast = read_header(path, "x"), read_header(path, "x", regular=True)
            assert fast.to_dict() == slow.to_dict()
            assert fast.problems, path
    finally:
        locked.chmod(0o600)


def test_reader_modules_are_imported_once(tmp_path, monkeypatch):
    (tmp_path / "a.tif").write_bytes(b"II*\x00" + bytes(100))
    read_header(tmp_path / "a.tif")  # the module is now cached
    imports = []
    monkeypatch.setattr(formats.importlib, "import_module", lambda name: imports.append(name))
    read_header(tmp_path / "a.tif")
    assert imports == []


def test_walk_orders_by_bytes_also_for_non_ascii_names(tmp_path):
    names = [b"b", b"a", b"Z", "é".encode(), "\ue000".encode(), b"\xff", b"a0"]
    for name in names:
        with open(os.path.join(os.fsencode(tmp_path), name), "wb") as fh:
            fh.write(b"x")
    got = [os.fsencode(e.rel) for e in walk(str(tmp_path))]
    assert got == sorted(names)
    # ASCII only: the fast path gives the same byte order
    ascii_dir = tmp_path.parent / (tmp_path.name + "_ascii")
    ascii_dir.mkdir()
    for name in ("b", "B", "a_1", "a-1", "a", "_x", "0"):
        (ascii_dir / name).write_text("x")
    assert [e.rel for e in walk(str(ascii_dir))] == sorted(
        ["b", "B", "a_1", "a-1", "a", "_x", "0"], key=os.fsencode)


def test_waiting_on_storage_decision():
    assert not waiting_on_storage(wall=64 * 30e-6, cpu=64 * 28e-6, count=64)  # warm cache
    assert not waiting_on_storage(wall=64 * 90e-6, cpu=64 * 28e-6, count=64)  # busy machine
    assert waiting_on_storage(wall=64 * 2e-3, cpu=64 * 30e-6, count=64)  # network file system
    assert not waiting_on_storage(wall=64 * 80e-6, cpu=64 * 10e-6, count=64)  # fast enough


def _entries(tmp_path, n):
    for i in range(n):
        (tmp_path / f"f{i:03d}.txt").write_text("x")
    return walk_all([str(tmp_path)])


def test_default_reads_cpu_bound_headers_in_the_calling_thread(tmp_path, monkeypatch):
    threads = set()
    real = headers.record_for

    def spy(entry):
        threads.add(threading.current_thread().name)
        return real(entry)

    monkeypatch.setattr(headers, "record_for", spy)
    monkeypatch.setattr(headers, "waiting_on_storage", lambda wall, cpu, count: False)
    records = read_all(_entries(tmp_path, 150), quiet=True)
    assert [r.path for r in records] == [f"f{i:03d}.txt" for i in range(150)]
    assert threads == {threading.current_thread().name}


def test_default_moves_to_threads_when_reads_wait(tmp_path, monkeypatch):
    threads = []
    real = headers.record_for

    def slow(entry):  # a read waiting on a slow file system (sleep releases the GIL)
        time.sleep(0.002)
        threads.append(threading.current_thread().name)
        return real(entry)

    monkeypatch.setattr(headers, "record_for", slow)
    n = headers.PROBE_BATCH * 3
    records = read_all(_entries(tmp_path, n), quiet=True)
    assert [r.path for r in records] == [f"f{i:03d}.txt" for i in range(n)]
    main = threading.current_thread().name
    first = headers.PROBE_FIRST  # the first probe batch already shows the waiting
    assert threads[:first] == [main] * first
    assert main not in threads[first:]  # the rest went to the pool


def _sleepy(monkeypatch, seconds):
    """record_for waiting ``seconds`` per file, as a read on a network file system does."""
    real = headers.record_for

    def slow(entry):
        time.sleep(seconds)
        return real(entry)

    monkeypatch.setattr(headers, "record_for", slow)


def test_pool_is_sized_to_hide_the_waits(tmp_path, monkeypatch):
    _sleepy(monkeypatch, 0.002)
    stats = headers.PoolStats()
    n = 600
    records = read_all(_entries(tmp_path, n), quiet=True, stats=stats)
    assert [r.path for r in records] == [f"f{i:03d}.txt" for i in range(n)]
    assert stats.sequential == headers.PROBE_FIRST
    # 2 ms of waiting against tens of µs of Python: Little's law asks for far more threads
    # than the fixed pool this replaced
    assert stats.sizes[0] > headers.default_jobs()


def test_pool_grows_while_growing_pays(tmp_path, monkeypatch):
    _sleepy(monkeypatch, 0.002)
    monkeypatch.setattr(headers, "threads_to_hide", lambda wall, cpu: 2)  # a poor first guess
    stats = headers.PoolStats()
    entries = _entries(tmp_path, 1200)
    records = read_all(entries, quiet=True, stats=stats)
    assert [r.path for r in records] == [e.display for e in entries]
    # each doubling doubles the reads per second while they wait: the pool keeps doubling
    assert stats.sizes[:3] == [2, 4, 8]
    assert stats.threads >= 8


def test_pool_steps_back_when_threads_do_not_pay(tmp_path, monkeypatch):
    _sleepy(monkeypatch, 0.001)
    stats = headers.PoolStats()
    entries = _entries(tmp_path, 400)
    # pretend reading in the calling thread was faster than any pool can be
    records = headers._read_pooled(entries, lambda n=1: None, 4, grow=True, base_rate=1e9,
                                   stats=stats)
    assert [r.path for r in records] == [e.display for e in entries]
    assert stats.sizes == [4]
    assert stats.settled == 1


def test_threads_to_hide_is_littles_law():
    assert headers.threads_to_hide(wall=4e-3, cpu=40e-6) == 100
    assert headers.threads_to_hide(wall=1e-4, cpu=1e-4) == 2
    assert headers.threads_to_hide(wall=1.0, cpu=0.0) == headers.MAX_JOBS
    assert headers.threads_to_hide(wall=1.0, cpu=1e-6) == headers.MAX_JOBS


def test_a_failing_read_in_the_pool_is_raised_in_the_caller(tmp_path, monkeypatch):
    def broken(entry):
        raise RuntimeError("reader bug")

    monkeypatch.setattr(headers, "record_for", broken)
    with pytest.raises(RuntimeError, match="reader bug"):
        read_all(_entries(tmp_path, 50), jobs=4, quiet=True)


def test_compressed_movies_keep_every_worker_process_busy_from_the_start(tmp_path, monkeypatch):
    """A .tiff.bz2 costs seconds of CPU in a worker process: the probe (one file at a time in
    this thread) and the hill climbing (50 ms windows) would leave the workers idle."""
    from empiar_validate.formats import decompress

    for i in range(6):
        (tmp_path / f"m{i}.tiff.bz2").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    monkeypatch.setattr(decompress, "_workers", 3)
    stats = headers.PoolStats()
    records = read_all(walk_all([str(tmp_path)]), quiet=True, stats=stats)
    assert len(records) == 7
    assert stats.sequential == 0 and stats.sizes == [3]


def test_which_files_are_walked_in_worker_processes():
    from empiar_validate.formats.decompress import walked_in_workers

    assert walked_in_workers("GridSquare_1/Data/FoilHole_1_fractions.tiff.bz2")
    assert walked_in_workers("a.TIF.GZ") and walked_in_workers("a.eer.bz2")
    assert not walked_in_workers("map.mrc.gz") and not walked_in_workers("movie.tiff")
