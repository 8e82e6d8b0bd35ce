"""MRC/MRCS header reader: files written by mrcfile, and hostile headers written byte by byte."""

from __future__ import annotations

import gzip
import os
import random
import time
import warnings
from pathlib import Path

import mrcfile
import numpy as np
import pytest
from mrcfile.dtypes import HEADER_DTYPE, get_ext_header_dtype

from empiar_validate.formats import read_header
from empiar_validate.formats.mrc import MAX_DIM
from empiar_validate.records import FileRecord


def rules(rec: FileRecord) -> list[str]:
    return sorted(p.rule for p in rec.problems)


def new_mrc(path: Path, data: np.ndarray, *, stack: bool = False, voxel_size: float = 1.5,
            compression: str | None = None) -> Path:
    """A real MRC file written by mrcfile."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mrcfile warns about deprecated numpy calls
        with mrcfile.new(path, data=data, compression=compression, overwrite=True) as m:
            if stack:
                m.set_image_stack()
            m.voxel_size = voxel_size
    return path


def header_bytes(nx: int = 6, ny: int = 8, nz: int = 3, mode: int = 2, *, order: str = "<",
                 stamp: bytes | None = None, map_id: bytes = b"MAP ", ispg: int = 0,
                 mxyz: tuple[int, int, int] | None = None,
                 cella: tuple[float, float, float] | None = None, nsymbt: int = 0,
                 exttyp: bytes = b"", imod_flags: int | None = None) -> bytes:
    """A 1024-byte MRC header built field by field (mrcfile's layout, our own values)."""
    h = np.zeros((), dtype=HEADER_DTYPE.newbyteorder(order))
    h["nx"], h["ny"], h["nz"], h["mode"] = nx, ny, nz, mode
    mx, my, mz = mxyz or (nx, ny, 1 if ispg == 0 else nz)
    h["mx"], h["my"], h["mz"] = mx, my, mz
    cx, cy, cz = cella or (mx * 1.5, my * 1.5, mz * 1.5)
    h["cella"]["x"], h["cella"]["y"], h["cella"]["z"] = cx, cy, cz
    h["mapc"], h["mapr"], h["maps"] = 1, 2, 3
    h["ispg"], h["nsymbt"], h["exttyp"], h["nversion"] = ispg, nsymbt, exttyp, 20140
    h["map"] = map_id
    if stamp is None:
        stamp = b"\x44\x44\x00\x00" if order == "<" else b"\x11\x11\x00\x00"
    h["machst"] = np.frombuffer(stamp, dtype="u1")
    raw = bytearray(h.tobytes())
    if imod_flags is not None:
        import struct

        raw[152:160] = struct.pack(f"{order}ii", 1146047817, imod_flags)
    return bytes(raw)


def data_size(nx: int, ny: int, nz: int, mode: int) -> int:
    if mode == 101:
        return (nx + 1) // 2 * ny * nz
    return nx * ny * nz * {0: 1, 1: 2, 2: 4, 3: 4, 4: 8, 6: 2, 12: 2}.get(mode, 4)


def write_raw(path: Path, header: bytes, body: int | bytes = 0) -> Path:
    """Header then ``body`` (bytes, or that many zero bytes)."""
    path.write_bytes(header + (body if isinstance(body, bytes) else bytes(body)))
    return path


def write_exact(path: Path, **kw: object) -> Path:
    """A header plus exactly the data (and extended header) it describes."""
    header = header_bytes(**kw)  # type: ignore[arg-type]
    h = np.frombuffer(header, dtype=HEADER_DTYPE.newbyteorder(str(kw.get("order", "<"))))[0]
    size = int(h["nsymbt"]) + data_size(int(h["nx"]), int(h["ny"]), int(h["nz"]), int(h["mode"]))
    return write_raw(path, header, size)


# --- modes -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("dtype", "mode", "expected"), [
    ("i1", 0, "UNSIGNED BYTE"),  # mrcfile writes no IMOD stamp: unsigned as IMOD reads it
    ("i2", 1, "SIGNED 16 BIT INTEGER"),
    ("f4", 2, "32 BIT FLOAT"),
    ("c8", 4, "64 BIT COMPLEX"),
    ("u2", 6, "UNSIGNED 16 BIT INTEGER"),
    ("f2", 12, "16 BIT FLOAT"),
])
def test_every_mode_mrcfile_can_write(tmp_path: Path, dtype: str, mode: int,
                                      expected: str) -> None:
    path = new_mrc(tmp_path / "a.mrcs", np.zeros((3, 8, 6), dtype=dtype), stack=True)
    rec = read_header(path)
    assert (rec.format, rec.voxel_type, rec.extra["mrc_mode"]) == ("MRCS", expected, mode)
    assert (rec.width, rec.height, rec.depth, rec.layout) == (6, 8, 3, "stack")
    assert (rec.pixel_width, rec.pixel_height) == (1.5, 1.5)
    assert rules(rec) == (["F104"] if mode == 4 else [])
    assert "pixel_depth" not in rec.extra  # frames of a stack have no section spacing


@pytest.mark.parametrize(("mode", "expected", "problems"), [
    (3, "32 BIT COMPLEX", ["F104"]),
    (101, "4 BIT INTEGER", []),
])
def test_modes_without_numpy_dtype(tmp_path: Path, mode: int, expected: str,
                                   problems: list[str]) -> None:
    rec = read_header(write_exact(tmp_path / "a.mrc", nx=5, ny=4, nz=2, mode=mode))
    assert rec.voxel_type == expected
    assert rules(rec) == problems


def test_mode_101_packs_two_voxels_per_byte_with_row_padding(tmp_path: Path) -> None:
    header = header_bytes(nx=5, ny=4, nz=2, mode=101)
    assert rules(read_header(write_raw(tmp_path / "ok.mrc", header, 3 * 4 * 2))) == []
    short = read_header(write_raw(tmp_path / "short.mrc", header, 3 * 4 * 2 - 1))
    assert rules(short) == ["F107"]


@pytest.mark.parametrize("mode", [5, 16, -1, 1 << 20])
def test_unknown_mode_is_an_error(tmp_path: Path, mode: int) -> None:
    rec = read_header(write_raw(tmp_path / "a.mrc", header_bytes(mode=mode), 4096))
    assert "F103" in rules(rec)
    assert rec.voxel_type is None and rec.width is None
    assert str(mode) in next(p.message for p in rec.problems if p.rule == "F103")


def test_mode0_as_imod_reads_it(tmp_path: Path) -> None:
    old = read_header(write_exact(tmp_path / "old.mrc", mode=0, imod_flags=0))
    new = read_header(write_exact(tmp_path / "new.mrc", mode=0, imod_flags=1))
    gms = read_header(write_exact(tmp_path / "gms.mrc", mode=0))  # no IMOD stamp at all
    assert (old.voxel_type, old.extra.get("imod_signed_bytes")) == ("UNSIGNED BYTE", False)
    assert (new.voxel_type, new.extra.get("imod_signed_bytes")) == ("SIGNED BYTE", True)
    assert (gms.voxel_type, gms.extra["mode0_reading"]) == ("UNSIGNED BYTE", "imod")
    assert "imod_signed_bytes" not in gms.extra


def test_mode0_mrc2014_reading_on_request(tmp_path: Path) -> None:
    from empiar_validate.formats import mode0

    path = write_exact(tmp_path / "gms.mrc", mode=0)
    mode0.set_mode0_reading("mrc2014")
    try:
        rec = read_header(path)
    finally:
        mode0.set_mode0_reading("imod")
    assert (rec.voxel_type, rec.extra["mode0_reading"]) == ("SIGNED BYTE", "mrc2014")
    with pytest.raises(ValueError):
        mode0.set_mode0_reading("signed")


def test_mode0_option_on_the_cli(tmp_path: Path, run_cli) -> None:
    import json

    path = write_exact(tmp_path / "gms.mrc", mode=0)
    _, out, _ = run_cli("inspect", path, "--format", "json", "--mrc-mode0", "mrc2014")
    assert json.loads(out)["files"][0]["voxel_type"] == "SIGNED BYTE"
    _, out, _ = run_cli("inspect", path, "--format", "json")  # each run starts from imod
    assert json.loads(out)["files"][0]["voxel_type"] == "UNSIGNED BYTE"


# --- stack, volume, image ----------------------------------------------------------------------

def test_volume_stack_and_image_from_mrcfile(tmp_path: Path) -> None:
    vol = read_header(new_mrc(tmp_path / "v.mrc", np.zeros((4, 8, 6), "f4")))
    assert (vol.format, vol.layout, vol.depth, vol.extra["space_group"]) == ("MRC", "volume", 4, 1)
    assert vol.extra["pixel_depth"] == 1.5
    vstack = read_header(new_mrc(tmp_path / "vs.mrc", np.zeros((2, 3, 8, 6), "f4")))
    assert (vstack.layout, vstack.depth, vstack.extra["volume_count"]) == ("volume", 6, 2)
    img = read_header(new_mrc(tmp_path / "i.mrcs", np.zeros((8, 6), "f4")))
    assert (img.format, img.header_format, img.layout, img.depth) == ("MRCS", "MRCS", "image", 1)
    stack = read_header(new_mrc(tmp_path / "particles.mrc", np.zeros((5, 8, 6), "f4"),
                                stack=True))
    assert (stack.format, stack.layout, stack.depth) == ("MRC", "stack", 5)
    assert [rules(r) for r in (vol, vstack, img, stack)] == [[], [], [], []]


@pytest.mark.parametrize(("name", "ispg", "mz", "layout"), [
    ("tomo.rec", 0, 40, "volume"),  # legacy IMOD tomogram: space group 0
    ("parts.mrcs", 1, 40, "stack"),  # stack written with a volume space group
    ("odd.mrc", 401, 7, "volume"),  # volume stack whose nz is not a multiple of mz
    ("weird.mrc", 300, 40, "volume"),  # no such space group
])
def test_space_group_disagreements_warn(tmp_path: Path, name: str, ispg: int, mz: int,
                                        layout: str) -> None:
    rec = read_header(write_exact(tmp_path / name, nz=40, ispg=ispg, mxyz=(6, 8, mz)))
    assert rec.layout == layout
    assert rules(rec) == ["F111"]


def test_crystallographic_sampling_is_a_volume_without_warning(tmp_path: Path) -> None:
    rec = read_header(write_exact(tmp_path / "x.map", nz=25, ispg=4, mxyz=(40, 12, 72),
                                  cella=(17.93, 4.71, 33.03)))
    assert (rec.layout, rec.pixel_width, rec.pixel_height) == ("volume", 0.44825, 0.3925)
    assert rules(rec) == []


# --- pixel size --------------------------------------------------------------------------------

@pytest.mark.parametrize(("mxyz", "cella"), [
    ((6, 8, 1), (0.0, 0.0, 0.0)),
    ((0, 0, 0), (9.0, 12.0, 1.5)),
    ((6, 8, 1), (-9.0, -12.0, 1.5)),
    ((6, 8, 1), (float("nan"), 12.0, 1.5)),
])
def test_unknown_pixel_size_warns(tmp_path: Path, mxyz: tuple[int, int, int],
                                  cella: tuple[float, float, float]) -> None:
    rec = read_header(write_exact(tmp_path / "a.mrc", mxyz=mxyz, cella=cella))
    assert rec.pixel_width is None
    assert rules(rec) == ["F106"]
    assert rec.width == 6  # the rest of the record is still filled


def test_pixel_size_uses_sampling_not_dimensions(tmp_path: Path) -> None:
    rec = read_header(write_exact(tmp_path / "a.mrc", nx=6, ny=8, mxyz=(3, 4, 1),
                                  cella=(3.0, 8.0, 0.0)))
    assert (rec.pixel_width, rec.pixel_height) == (1.0, 2.0)


# --- byte order and identification -------------------------------------------------------------

def test_big_endian_file_from_mrcfile(tmp_path: Path) -> None:
    rec = read_header(new_mrc(tmp_path / "be.mrc", np.zeros((3, 8, 6), ">i2")))
    assert (rec.extra["byte_order"], rec.voxel_type, rec.width, rec.height) == (
        "big", "SIGNED 16 BIT INTEGER", 6, 8)
    assert rules(rec) == []


@pytest.mark.parametrize("order", ["<", ">"])
def test_garbage_stamp_falls_back_to_the_plausible_order(tmp_path: Path, order: str) -> None:
    rec = read_header(write_exact(tmp_path / "a.mrc", order=order, stamp=b"\x99\x12\x34\x56"))
    assert rec.extra["byte_order"] == ("little" if order == "<" else "big")
    assert (rec.width, rec.height, rec.depth, rec.voxel_type) == (6, 8, 3, "32 BIT FLOAT")
    assert rules(rec) == ["F101"]
    assert "0x99 0x12 0x34 0x56" in rec.problems[0].message


def test_stamp_contradicting_the_header_warns(tmp_path: Path) -> None:
    rec = read_header(write_exact(tmp_path / "a.mrc", order="<", stamp=b"\x11\x11\x00\x00"))
    assert (rec.extra["byte_order"], rec.width) == ("little", 6)
    assert rules(rec) == ["F101"]
    assert "big-endian" in rec.problems[0].message


def test_garbage_stamp_tie_broken_by_file_size(tmp_path: Path) -> None:
    # 256 byte-swapped is 65536: both orders give valid dimensions for mode 0; the size decides.
    rec = read_header(write_exact(tmp_path / "a.mrc", nx=256, ny=256, nz=4, mode=0,
                                  order=">", stamp=b"\x00\x00\x00\x00"))
    assert (rec.extra["byte_order"], rec.width, rec.height, rec.depth) == ("big", 256, 256, 4)


def test_old_header_without_map_id(tmp_path: Path) -> None:
    rec = read_header(write_exact(tmp_path / "old.mrc", map_id=b"\x00" * 4, stamp=b"\x00" * 4))
    assert (rec.format, rec.width, rec.height, rec.depth) == ("MRC", 6, 8, 3)
    assert rules(rec) == ["F102"]
    assert "little-endian" in rec.problems[0].message


def test_random_bytes_named_mrc_are_not_an_mrc(tmp_path: Path) -> None:
    path = tmp_path / "noise.mrc"
    path.write_bytes(random.Random(7).randbytes(4096))
    rec = read_header(path)
    assert rec.format is None
    assert rules(rec) == ["F007"]


def test_truncated_header(tmp_path: Path) -> None:
    rec = read_header(write_raw(tmp_path / "cut.mrc", header_bytes()[:600]))
    assert rules(rec) == ["F100"]
    assert "600" in rec.problems[0].message


@pytest.mark.parametrize(("nx", "ny", "nz"), [
    (0, 8, 3), (-5, 8, 3), (6, 8, 1 << 30), (MAX_DIM + 1, 8, 3),
])
def test_absurd_dimensions_are_errors(tmp_path: Path, nx: int, ny: int, nz: int) -> None:
    rec = read_header(write_raw(tmp_path / "a.mrc", header_bytes(nx=nx, ny=ny, nz=nz), 4096))
    assert "F105" in rules(rec)
    assert rec.width is None


def test_huge_but_valid_dimensions_cost_nothing(tmp_path: Path) -> None:
    rec = read_header(write_raw(tmp_path / "a.mrc", header_bytes(MAX_DIM, MAX_DIM, MAX_DIM), 64))
    assert rules(rec) == ["F107"]
    message = rec.problems[0].message
    assert str(1024 + 64) in message and str(1024 + MAX_DIM**3 * 4) in message


# --- file size ---------------------------------------------------------------------------------

def test_truncated_data_gives_both_sizes(tmp_path: Path) -> None:
    path = new_mrc(tmp_path / "a.mrc", np.zeros((3, 8, 6), "f4"))
    full = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(full - 10)
    rec = read_header(path)
    assert rules(rec) == ["F107"]
    assert str(full - 10) in rec.problems[0].message and str(full) in rec.problems[0].message


def test_larger_file_warns(tmp_path: Path) -> None:
    path = new_mrc(tmp_path / "a.mrc", np.zeros((3, 8, 6), "f4"))
    with open(path, "ab") as fh:
        fh.write(b"\x00" * 7)
    rec = read_header(path)
    assert rules(rec) == ["F108"]
    assert "7 bytes extra" in rec.problems[0].message


def test_sparse_100_gb_movie_is_read_from_its_header(tmp_path: Path, record_property) -> None:
    nx = ny = 4096
    nz = 6000  # 4096 × 4096 × 6000 int8 frames: 100.7 GB
    path = tmp_path / "movie.mrcs"
    with open(path, "wb") as fh:
        fh.write(header_bytes(nx, ny, nz, mode=0, mxyz=(nx, ny, 1), cella=(nx * 0.83, ny * 0.83,
                                                                           0.83)))
        try:
            fh.truncate(1024 + nx * ny * nz)
        except OSError as exc:
            pytest.skip(f"file system cannot hold a sparse 100 GB file: {exc}")
    start = time.perf_counter()
    rec = read_header(path)
    elapsed = time.perf_counter() - start
    record_property("sparse_100gb_mrc_seconds", elapsed)
    assert (rec.format, rec.layout, rec.voxel_type) == ("MRCS", "stack", "UNSIGNED BYTE")
    assert (rec.width, rec.height, rec.depth, rec.pixel_width) == (nx, ny, nz, 0.83)
    assert rec.size == 1024 + nx * ny * nz and rules(rec) == []
    assert elapsed < 5  # a hang guard only; docs/performance.md has the measured time


# --- extended headers --------------------------------------------------------------------------

@pytest.mark.parametrize("exttyp", ["CCP4", "MRCO", "SERI", "AGAR"])
def test_extended_header_types_are_reported(tmp_path: Path, exttyp: str) -> None:
    rec = read_header(write_exact(tmp_path / "a.mrc", nsymbt=160, exttyp=exttyp.encode()))
    assert (rec.extra["extended_header_type"], rec.extra["extended_header_bytes"]) == (exttyp, 160)
    assert rules(rec) == []


def test_extended_header_past_end_of_file(tmp_path: Path) -> None:
    rec = read_header(write_raw(tmp_path / "a.mrc", header_bytes(nsymbt=1 << 30), 100))
    assert rules(rec) == ["F109"]
    negative = read_header(write_raw(tmp_path / "b.mrc", header_bytes(nsymbt=-4), 576))
    assert rules(negative) == ["F109"]


def fei_file(path: Path, exttyp: bytes, *, bitmasks: bool = True, byteorder: str = "<",
             sections: int = 2) -> Path:
    """An EPU-like movie whose FEI extended header is written by mrcfile."""
    data = np.zeros((sections, 8, 6), dtype=np.dtype("u2").newbyteorder(byteorder))
    dtype = get_ext_header_dtype(exttyp, byteorder)
    ext = np.zeros(sections, dtype=dtype)
    ext["Metadata size"] = dtype.itemsize
    ext["Metadata version"] = 0 if exttyp == b"FEI1" else 2
    ext["HT"] = 300000.0
    ext["Dose"] = 4.5e21
    ext["Pixel size X"] = ext["Pixel size Y"] = 8.3e-11
    ext["Camera name"] = b"BM-Falcon"
    ext["Microscope type"] = b"TITAN KRIOS"
    ext["Integration time"] = 2.5
    ext["Defocus"] = -1.2e-6
    if bitmasks:
        ext["Bitmask 1"] = (1 << 1) | (1 << 5) | (1 << 6) | (1 << 14) | (1 << 15) | (1 << 22)
        ext["Bitmask 2"] = (1 << 16) | (1 << 19)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.new(path, data=data, overwrite=True) as m:
            m.set_image_stack()
            m.voxel_size = 0.83
            m.header.exttyp = exttyp
            m.set_extended_header(ext)
    return path


EXPECTED_ACQUISITION = {
    "camera": "BM-Falcon", "defocus_um": -1.2, "dose_e_per_a2": 45, "exposure_time_s": 2.5,
    "microscope": "TITAN KRIOS", "pixel_size_a": 0.83, "voltage_kv": 300,
}


@pytest.mark.parametrize("exttyp", [b"FEI1", b"FEI2"])
@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_fei_acquisition_metadata(tmp_path: Path, exttyp: bytes, byteorder: str) -> None:
    rec = read_header(fei_file(tmp_path / "m.mrc", exttyp, byteorder=byteorder))
    assert rec.extra["extended_header_type"] == exttyp.decode()
    assert rec.extra["acquisition"] == EXPECTED_ACQUISITION
    assert rules(rec) == []


def test_fei_bitmask_hides_unflagged_fields(tmp_path: Path) -> None:
    path = fei_file(tmp_path / "m.mrc", b"FEI1")
    dtype = get_ext_header_dtype(b"FEI1", "<")
    offset = 1024 + dtype.fields["Bitmask 1"][1]
    with open(path, "r+b") as fh:  # clear the HT bit only
        fh.seek(offset)
        mask = int.from_bytes(fh.read(4), "little") & ~(1 << 5)
        fh.seek(offset)
        fh.write(mask.to_bytes(4, "little"))
    acquisition = read_header(path).extra["acquisition"]
    assert "voltage_kv" not in acquisition and acquisition["camera"] == "BM-Falcon"


def test_fei_without_bitmasks_reports_non_empty_values(tmp_path: Path) -> None:
    rec = read_header(fei_file(tmp_path / "m.mrc", b"FEI2", bitmasks=False))
    assert rec.extra["acquisition"] == EXPECTED_ACQUISITION


def test_fei_extended_header_too_short(tmp_path: Path) -> None:
    rec = read_header(write_exact(tmp_path / "a.mrc", nsymbt=100, exttyp=b"FEI1"))
    assert rules(rec) == ["F110"]
    assert "acquisition" not in rec.extra


# --- compression -------------------------------------------------------------------------------

@pytest.mark.parametrize(("compression", "name", "size_check"), [
    ("gzip", "v.mrc.gz", "gzip trailer (size modulo 4 GiB)"),
    ("bzip2", "v.mrc.bz2", "skipped: bzip2 stores no uncompressed size"),
    ("gzip", "v.map.gz", "gzip trailer (size modulo 4 GiB)"),
])
def test_compressed_files(tmp_path: Path, compression: str, name: str, size_check: str) -> None:
    rec = read_header(new_mrc(tmp_path / name, np.zeros((4, 8, 6), "f4"),
                              compression=compression))
    assert (rec.format, rec.layout, rec.width, rec.height, rec.depth) == ("MRC", "volume", 6, 8, 4)
    assert (rec.extra["compression"], rec.extra["size_check"]) == (compression, size_check)
    assert rules(rec) == []


def test_truncated_gzip_is_an_error(tmp_path: Path) -> None:
    data = np.random.default_rng(1).random((8, 64, 64), dtype="f4")  # does not compress much
    path = new_mrc(tmp_path / "v.mrc.gz", data, compression="gzip")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    rec = read_header(path)
    assert rec.width == 64
    assert rules(rec) == ["F112"]
    assert str(1024 + data.nbytes) in rec.problems[0].message
    path.write_bytes(raw[:60])  # not even the header survives: the dispatcher's F010
    assert rules(read_header(path)) == ["F010"]


def test_compressed_header_read_decompresses_only_the_head(tmp_path: Path,
                                                           monkeypatch) -> None:
    path = new_mrc(tmp_path / "v.mrc.gz", np.zeros((64, 64, 64), "f4"), compression="gzip")
    returned: list[int] = []
    original = gzip.GzipFile.read

    def counting_read(self, size=-1):  # type: ignore[no-untyped-def]
        out = original(self, size)
        returned.append(len(out))
        return out

    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    rec = read_header(path)
    assert rec.depth == 64 and rules(rec) == []
    assert sum(returned) <= 4096


# --- hostile input -----------------------------------------------------------------------------

def test_random_headers_never_reach_the_safety_net(tmp_path: Path) -> None:
    rng = random.Random(2024)
    path = tmp_path / "fuzz.mrc"
    for _ in range(200):
        raw = bytearray(rng.randbytes(rng.choice([1024, 1100, 4096])))
        raw[208:212] = b"MAP "
        if rng.random() < 0.5:
            raw[212:214] = rng.choice([b"\x44\x44", b"\x11\x11"])
        if rng.random() < 0.5:  # small plausible dimensions and mode, garbage elsewhere
            raw[0:16] = header_bytes(rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9),
                                     rng.choice([0, 1, 2, 3, 4, 6, 12, 101]))[:16]
        path.write_bytes(bytes(raw))
        rec = read_header(path)
        assert "F009" not in rules(rec), rec.problems
        assert rec.format == "MRC"


def test_reader_leaves_no_file_open(tmp_path: Path) -> None:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    path = new_mrc(tmp_path / "v.mrc.gz", np.zeros((2, 8, 6), "f4"), compression="gzip")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        read_header(path)
    assert len(os.listdir("/proc/self/fd")) == before


# --- header sanity (issue 12): mrcfile's validator is the reference -------------------------


@pytest.mark.parametrize(("change", "rule_id"), [
    ({"mz": 0}, "F113"),
    ({"mapc": 1, "mapr": 1, "maps": 1}, "F114"),
    ({"mapc": 3, "mapr": 3, "maps": 1}, "F114"),
    ({"nlabl": 11}, "F115"),
    ({"nlabl": -1}, "F115"),
    ({"origin": (float("nan"), 0.0, 0.0)}, "F116"),
    ({"origin": (0.0, float("inf"), 0.0)}, "F116"),
])
def test_header_sanity_warnings_agree_with_mrcfile_validator(tmp_path, change, rule_id):
    """A volume written by mrcfile, one header field then broken with mrcfile itself: our
    warning, and mrcfile's validator (where it checks the field) says invalid too."""
    import io

    import mrcfile

    path = tmp_path / "vol.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((4, 5, 6), np.float32))
        mrc.voxel_size = 1.5
    assert rules(read_header(path)) == []
    with mrcfile.open(path, "r+", permissive=True) as mrc:
        for field, value in change.items():
            if field == "origin":
                mrc.header.origin = value
            else:
                setattr(mrc.header, field, value)
    rec = read_header(path)
    assert rule_id in rules(rec) and rec.ok, rec.problems
    assert rec.width == 6 and rec.depth == 4  # the record is still read
    if rule_id in ("F114",) or change.get("nlabl", 0) < 0:
        assert not mrcfile.validate(path, print_file=io.StringIO())


def test_interop_and_fixture_headers_are_sane():
    """Files other software wrote raise none of the new warnings."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    paths = sorted((root / "fixtures" / "dataset").rglob("*.mrc*"))
    paths += sorted((root / ".interop" / "mrcfile").glob("*.map*"))
    for path in paths:
        if path.suffix == ".mdoc":
            continue
        found = {p.rule for p in read_header(path).problems}
        assert not found & {"F113", "F114", "F115", "F116"}, (path, found)
