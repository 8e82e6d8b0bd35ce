"""DM3/DM4 header reading, on files from tests/dmwriter.py (cross-checked with rsciio)."""

from __future__ import annotations

import gzip
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import dmwriter
from dmwriter import Typed, acquisition_tags, image_group, write_dm, write_simple

from empiar_validate.formats import dm, dmtags, read_header
from empiar_validate.records import FileRecord

VERSIONS = pytest.mark.parametrize("version", [3, 4])


def rules(record: FileRecord) -> list[str]:
    return sorted(p.rule for p in record.problems)


def read_fast(path: Path) -> FileRecord:
    t = time.perf_counter()
    rec = read_header(path)
    assert time.perf_counter() - t < 5
    return rec


# --- ordinary files ----------------------------------------------------------------------------


@VERSIONS
def test_image_with_thumbnail_and_tags(tmp_path: Path, version: int) -> None:
    p = write_simple(tmp_path / f"a.dm{version}", np.zeros((20, 30), np.float32),
                     version=version, scale=0.25, unit="nm")
    rec = read_header(p)
    assert (rec.format, rec.header_format) == (f"DM{version}", f"DM{version}")
    assert (rec.width, rec.height, rec.depth, rec.layout) == (30, 20, 1, "image")
    assert rec.voxel_type == "32 BIT FLOAT"
    assert (rec.pixel_width, rec.pixel_height) == (2.5, 2.5)
    assert rec.extra["image_index"] == 1  # the RGBA thumbnail comes first
    assert rec.extra["acquisition"] == {
        "camera": "K3", "cs_mm": 2.7, "exposure_s": 2.5, "magnification": 105000.0,
        "microscope": "Titan Krios", "voltage_kv": 300.0,
    }
    assert rec.problems == []


@VERSIONS
def test_stack_is_a_stack(tmp_path: Path, version: int) -> None:
    p = write_simple(tmp_path / f"tilt.dm{version}", np.zeros((5, 12, 10), np.int16),
                     version=version)
    rec = read_header(p)
    assert (rec.width, rec.height, rec.depth, rec.layout) == (10, 12, 5, "stack")
    assert rec.voxel_type == "SIGNED 16 BIT INTEGER"
    assert rec.extra["dimensions"] == [10, 12, 5]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [("uint8", "UNSIGNED BYTE"), ("int8", "SIGNED BYTE"), ("uint16", "UNSIGNED 16 BIT INTEGER"),
     ("int32", "SIGNED 32 BIT INTEGER"), ("uint32", "UNSIGNED 32 BIT INTEGER"),
     ("float64", "64 BIT FLOAT"), ("bool", "BIT")],
)
def test_data_types(tmp_path: Path, dtype: str, expected: str) -> None:
    p = write_simple(tmp_path / "t.dm4", np.zeros((4, 6), dtype), tags=False)
    rec = read_header(p)
    assert rec.voxel_type == expected
    assert rec.extra["dm_data_type"] == dmwriter.DATA_TYPES[dtype][0]
    assert "acquisition" not in rec.extra


@pytest.mark.parametrize(
    ("unit", "scale", "angstrom"),
    [("nm", 0.1, 1.0), ("\u00b5m", 0.001, 10.0), ("\u03bcm", 0.001, 10.0), ("um", 0.002, 20.0),
     ("\u00c5", 1.06, 1.06), ("A", 0.85, 0.85), ("pm", 50.0, 0.5), ("1/nm", 0.1, None),
     ("", 1.0, None), ("nm", -1.0, None)],
)
def test_calibration_units(tmp_path: Path, unit: str, scale: float, angstrom: float | None) -> None:
    p = write_simple(tmp_path / "u.dm3", np.zeros((4, 4), np.float32), version=3, scale=scale,
                     unit=unit)
    assert read_header(p).pixel_width == angstrom


@VERSIONS
def test_big_endian_data(tmp_path: Path, version: int) -> None:
    image = image_group(np.zeros((6, 8), np.uint16), scale=(0.5, 0.5), units=("nm", "nm"))
    p = write_dm(tmp_path / f"be.dm{version}", [image], version=version, little_endian=False)
    rec = read_header(p)
    assert (rec.width, rec.height, rec.voxel_type, rec.pixel_width) == (
        8, 6, "UNSIGNED 16 BIT INTEGER", 5.0)


def test_thumbnail_found_without_thumbnails_group(tmp_path: Path) -> None:
    p = write_dm(tmp_path / "t.dm4", [image_group(np.zeros((2, 3), np.float32))],
                 thumbnail=False)
    assert read_header(p).extra["image_index"] == 0
    # an RGBA first image, no Thumbnails group: still taken for the thumbnail
    images = [dmwriter.thumbnail_group(size=64), image_group(np.zeros((2, 3), np.float32))]
    p = write_dm(tmp_path / "u.dm4", images, thumbnail=False)
    rec = read_header(p)
    assert rec.extra["image_index"] == 1
    assert (rec.width, rec.height) == (3, 2)


def test_several_images_largest_described(tmp_path: Path) -> None:
    images = [image_group(np.zeros((4, 4), np.float32)),
              image_group(np.zeros((8, 16), np.uint16)),
              image_group(np.zeros((2, 2), np.uint8))]
    rec = read_header(write_dm(tmp_path / "m.dm4", images))
    assert rules(rec) == ["F306"]
    assert (rec.width, rec.height, rec.extra["image_index"]) == (16, 8, 2)


def test_sparse_large_file_costs_nothing(tmp_path: Path) -> None:
    """A 3.4 GB claim over a hole: the data is never read."""
    image = image_group(shape=(100, 4096, 4096), dtype="uint16", scale=(1.2, 1.2),
                        units=("\u00c5", "\u00c5"), image_tags=acquisition_tags())
    p = write_dm(tmp_path / "big.dm4", [image])
    assert p.stat().st_size > 3_000_000_000
    rec = read_fast(p)
    assert (rec.width, rec.height, rec.depth, rec.layout) == (4096, 4096, 100, "stack")
    assert rec.pixel_width == 1.2
    assert rec.extra["acquisition"]["voltage_kv"] == 300.0
    assert rec.problems == []


def test_unknown_and_colour_data_types(tmp_path: Path) -> None:
    image = image_group(np.zeros((4, 4), np.float32), data_type=99)
    rec = read_header(write_dm(tmp_path / "x.dm4", [image]))
    assert rules(rec) == ["F307"]
    assert rec.voxel_type is None
    image = image_group(np.zeros((4, 4), np.uint32), data_type=23)
    rec = read_header(write_dm(tmp_path / "rgb.dm4", [image], thumbnail=False))
    assert rules(rec) == ["F307"]
    assert rec.extra["samples_per_pixel"] == 4


def test_write_dm_accepts_an_array(tmp_path: Path) -> None:
    """The fixture dataset builder calls ``write_dm(path, array, scale=..., unit=...)``."""
    image = np.zeros((64, 72), np.uint16)
    rec = read_header(write_dm(tmp_path / "g.dm4", image, scale=(0.5, 0.5), unit="nm"))
    assert (rec.width, rec.height, rec.pixel_width, rec.pixel_height) == (72, 64, 5.0, 5.0)
    assert rec.problems == []


def test_no_image(tmp_path: Path) -> None:
    rec = read_header(write_dm(tmp_path / "none.dm4", [], thumbnail=False))
    assert rules(rec) == ["F304"]
    assert rec.format == "DM4"


# --- cross-check with rsciio -------------------------------------------------------------------


@VERSIONS
def test_writer_agrees_with_rsciio(tmp_path: Path, version: int) -> None:
    """Our writer is checked by an independent reader, so it cannot merely agree with ours."""
    from rsciio.digitalmicrograph import file_reader

    data = np.arange(3 * 5 * 7, dtype=np.float32).reshape(3, 5, 7)
    p = write_simple(tmp_path / f"x.dm{version}", data, version=version, scale=0.2,
                     unit="\u00b5m")
    (signal,) = file_reader(str(p))  # the thumbnail is excluded via Thumbnails/ImageIndex
    np.testing.assert_array_equal(signal["data"], data)
    axes = {a["name"]: a for a in signal["axes"]}
    assert axes["x"]["size"] == 7 and axes["y"]["size"] == 5
    assert axes["x"]["units"] == "\u00b5m"
    assert axes["x"]["scale"] == pytest.approx(0.2)
    tags = signal["original_metadata"]["ImageList"]
    main = tags[sorted(tags)[-1]]
    assert main["ImageTags"]["Microscope Info"]["Voltage"] == 300000.0
    assert main["ImageTags"]["Acquisition"]["Device"]["Name"] == "K3"
    rec = read_header(p)
    assert (rec.width, rec.height, rec.depth) == (axes["x"]["size"], axes["y"]["size"], 3)
    assert rec.pixel_width == pytest.approx(axes["x"]["scale"] * 1e4)


# --- hostile files -----------------------------------------------------------------------------


@VERSIONS
def test_root_tag_count_bomb(tmp_path: Path, version: int) -> None:
    p = write_simple(tmp_path / f"c.dm{version}", np.zeros((4, 4), np.float32), version=version)
    raw = bytearray(p.read_bytes())
    if version == 4:
        struct.pack_into(">q", raw, 18, 2**60)
    else:
        struct.pack_into(">i", raw, 14, 2**31 - 1)
    p.write_bytes(bytes(raw))
    rec = read_fast(p)
    assert rules(rec) == ["F302"]


@VERSIONS
def test_nesting_depth_bomb(tmp_path: Path, version: int) -> None:
    long = ">q" if version == 4 else ">i"
    head = struct.pack(">i", version) + struct.pack(long, 0) + struct.pack(">i", 1)
    head += b"\x00\x01" + struct.pack(long, 1)
    one = b"\x14\x00\x00" + (b"\x00" * 8 if version == 4 else b"") + b"\x00\x01"
    one += struct.pack(long, 1)
    p = tmp_path / f"deep.dm{version}"
    p.write_bytes(head + one * 100_000 + b"\x00" * 8)
    rec = read_fast(p)
    assert rules(rec) == ["F302"]
    assert "nested" in rec.problems[0].message


@VERSIONS
def test_truncated_file(tmp_path: Path, version: int) -> None:
    p = write_simple(tmp_path / f"t.dm{version}", np.zeros((64, 64), np.float32),
                     version=version)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    rec = read_fast(p)
    assert rules(rec) == ["F303"]


@VERSIONS
def test_array_length_past_eof(tmp_path: Path, version: int) -> None:
    p = write_simple(tmp_path / f"a.dm{version}", np.zeros((4, 4), np.float32), version=version)
    raw = bytearray(p.read_bytes())
    n = 8 if version == 4 else 4
    at = raw.index(b"Units") + 5 + (8 if version == 4 else 0) + 4 + 3 * n  # the element count
    struct.pack_into(">q" if version == 4 else ">i", raw, at, 2**40 if version == 4 else 2**30)
    p.write_bytes(bytes(raw))
    rec = read_fast(p)
    assert rules(rec) == ["F303"]


@pytest.mark.parametrize("dims", [(2**31 - 1, 2**31 - 1), (0, 4), (-3, 4)])
def test_absurd_dimensions(tmp_path: Path, dims: tuple[int, int]) -> None:
    image = image_group(np.zeros((4, 4), np.float32))
    image["ImageData"]["Dimensions"] = [Typed(d, 3) for d in dims]
    rec = read_fast(write_dm(tmp_path / "d.dm4", [image]))
    assert rules(rec) == ["F305"]
    assert rec.width is None


def test_header_byte_order_flag(tmp_path: Path) -> None:
    p = write_simple(tmp_path / "b.dm4", np.zeros((4, 4), np.float32))
    raw = bytearray(p.read_bytes())
    struct.pack_into(">i", raw, 12, 7)
    p.write_bytes(bytes(raw))
    assert rules(read_header(p)) == ["F300"]


def test_missing_delimiter_is_corrupt(tmp_path: Path) -> None:
    p = write_simple(tmp_path / "d.dm3", np.zeros((4, 4), np.float32), version=3)
    raw = p.read_bytes().replace(b"%%%%", b"%%%!", 1)
    p.write_bytes(raw)
    assert rules(read_fast(p)) == ["F301"]


@VERSIONS
def test_fuzzed_files_never_escape(tmp_path: Path, version: int) -> None:
    good = write_simple(tmp_path / f"g.dm{version}", np.zeros((8, 8), np.float32),
                        version=version).read_bytes()
    rng = np.random.default_rng(version)
    t = time.perf_counter()
    for i in range(150):
        raw = bytearray(good)
        for _ in range(4):
            raw[int(rng.integers(16, len(raw)))] = int(rng.integers(0, 256))
        p = tmp_path / f"f{i}.dm{version}"
        p.write_bytes(bytes(raw))
        rec = read_header(p)
        assert "F009" not in rules(rec), rec.problems
    assert time.perf_counter() - t < 5


# --- compressed --------------------------------------------------------------------------------


def test_gzip_dm4(tmp_path: Path) -> None:
    src = write_simple(tmp_path / "s.dm4", np.zeros((6, 5), np.uint16))
    p = tmp_path / "s.dm4.gz"
    p.write_bytes(gzip.compress(src.read_bytes()))
    rec = read_header(p)
    assert (rec.format, rec.width, rec.height, rec.pixel_width) == ("DM4", 5, 6, 15.0)
    assert rec.problems == []


def test_gzip_dm4_beyond_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dm, "STREAM_LIMIT", 2048)
    src = write_simple(tmp_path / "s.dm4", np.zeros((64, 64), np.uint16))
    p = tmp_path / "s.dm4.gz"
    p.write_bytes(gzip.compress(src.read_bytes()))
    rec = read_fast(p)
    assert rules(rec) == ["F308"]
    assert rec.format == "DM4"


def test_parser_keeps_data_unread(tmp_path: Path) -> None:
    p = write_simple(tmp_path / "s.dm4", np.zeros((2, 2), np.float32))
    with open(p, "rb") as fh:
        tree = dmtags.parse(fh, p.stat().st_size)
    data = tree.root.get("ImageList", 1, "ImageData", "Data")
    assert isinstance(data, dmtags.ArrayRef)  # even a 4-element image is never decoded
    assert (data.count, data.element_size, data.nbytes) == (4, 4, 16)


def test_corrupt_gzip_dm4(tmp_path: Path) -> None:
    src = write_simple(tmp_path / "s.dm4", np.zeros((64, 64), np.float32))
    packed = gzip.compress(src.read_bytes(), compresslevel=1)
    p = tmp_path / "s.dm4.gz"
    p.write_bytes(packed[: len(packed) // 2])
    rec = read_fast(p)
    assert not rec.ok
    assert "F009" not in rules(rec)
