"""TIFF, BigTIFF and EER header reading: real files written with tifffile, hostile ones by hand."""

from __future__ import annotations

import bz2
import gzip
import logging
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
from tiffwriters import EER_XML, write_camera_tiff, write_tifffile_pages

from empiar_validate.formats import decompress, read_header, tiff_ifd
from empiar_validate.formats.units import angstroms_per
from empiar_validate.records import FileRecord

# --- helpers -----------------------------------------------------------------------------------


def rules(record: FileRecord) -> list[str]:
    return sorted(p.rule for p in record.problems)


def patch_tag(path: Path, code: int, value: int, pages: range | None = None) -> None:
    """Overwrite an inline SHORT tag value in place (tifffile cannot write EER or, without
    imagecodecs, LZW; the header reader never decodes data, so a patched tag is a faithful
    header)."""
    with tifffile.TiffFile(path) as tif:
        offsets = [
            (tif.pages[i].tags[code].valueoffset, tif.byteorder)
            for i in (pages if pages is not None else range(len(tif.pages)))
        ]
    with open(path, "r+b") as fh:
        for offset, bo in offsets:
            fh.seek(offset)
            fh.write(struct.pack(bo + "H", value))


def raw_tiff(
    shapes: list[tuple[int, int]], *, big: bool = False, next_of: dict[int, int] | None = None,
    ntags_of: dict[int, int] | None = None, subfile: dict[int, int] | None = None,
) -> bytes:
    """A minimal TIFF built byte by byte: one IFD per (width, height), all sharing one strip.

    ``next_of`` overrides IFD i's next-IFD offset (loops, offsets past the end), ``ntags_of``
    its tag count; ``subfile`` sets NewSubfileType.
    """
    bo = "<"
    entry, count_fmt, off_fmt = (20, "Q", "Q") if big else (12, "H", "I")
    head = b"II+\x00" + struct.pack("<HHQ", 8, 0, 0) if big else b"II*\x00" + b"\x00" * 4
    strip_at = len(head)
    out = bytearray(head) + b"\x00" * 16
    ifd_size = struct.calcsize(count_fmt) + 10 * entry + struct.calcsize(off_fmt)
    first = len(out)
    for i, (w, h) in enumerate(shapes):
        tags = [
            (254, 4, (subfile or {}).get(i, 0)), (256, 4, w), (257, 4, h), (258, 3, 8),
            (259, 3, 1), (262, 3, 1), (273, 4, strip_at), (277, 3, 1), (278, 4, h),
            (279, 4, 16),
        ]
        here = len(out)
        nxt = here + ifd_size if i + 1 < len(shapes) else 0
        nxt = (next_of or {}).get(i, nxt)
        out += struct.pack(bo + count_fmt, (ntags_of or {}).get(i, len(tags)))
        for code, typ, value in tags:
            if big:
                out += struct.pack(bo + "HHQQ", code, typ, 1, value)
            else:
                packed = struct.pack(bo + ("H" if typ == 3 else "I"), value).ljust(4, b"\x00")
                out += struct.pack(bo + "HHI", code, typ, 1) + packed
        out += struct.pack(bo + off_fmt, nxt)
    if big:
        out[8:16] = struct.pack("<Q", first)
    else:
        out[4:8] = struct.pack("<I", first)
    return bytes(out)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def read_fast(path: Path) -> FileRecord:
    """Read a header and prove it took well under the hang guard."""
    t = time.perf_counter()
    rec = read_header(path)
    assert time.perf_counter() - t < 5
    return rec


# --- ordinary files ----------------------------------------------------------------------------


def test_16bit_camera_image(tmp_path: Path) -> None:
    p = tmp_path / "cam.tif"
    tifffile.imwrite(p, np.zeros((48, 64), np.uint16))
    rec = read_header(p)
    assert (rec.format, rec.header_format) == ("TIFF", "TIFF")
    assert (rec.width, rec.height, rec.depth) == (64, 48, 1)
    assert rec.voxel_type == "UNSIGNED 16 BIT INTEGER"
    assert rec.layout == "image"
    assert rec.pixel_width is None  # tifffile writes a 1 pixel/unit placeholder resolution
    assert rec.problems == []
    assert rec.extra["tiff_compression"] == "NONE"


def test_float32_gain_reference(tmp_path: Path) -> None:
    p = tmp_path / "gain.gain"
    tifffile.imwrite(p, np.ones((32, 32), np.float32))
    rec = read_header(p)
    assert rec.format == "TIFF"
    assert rec.voxel_type == "32 BIT FLOAT"
    assert rec.extra["gain_reference"] is True
    assert rec.problems == []


def test_one_bit_image(tmp_path: Path) -> None:
    p = tmp_path / "mask.tif"
    tifffile.imwrite(p, np.zeros((16, 24), bool))
    rec = read_header(p)
    assert rec.voxel_type == "BIT"
    assert (rec.width, rec.height) == (24, 16)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.int8, "SIGNED BYTE"), (np.int16, "SIGNED 16 BIT INTEGER"),
     (np.uint32, "UNSIGNED 32 BIT INTEGER"), (np.float64, "64 BIT FLOAT")],
)
def test_sample_formats(tmp_path: Path, dtype: type, expected: str) -> None:
    p = tmp_path / "x.tif"
    tifffile.imwrite(p, np.zeros((4, 4), dtype))
    assert read_header(p).voxel_type == expected


def test_tiled_bigtiff_stack(tmp_path: Path) -> None:
    p = tmp_path / "tiled.tif"
    with tifffile.TiffWriter(p, bigtiff=True) as tw:
        for _ in range(3):
            tw.write(np.zeros((64, 48), np.uint8), tile=(16, 16), compression="zlib")
    rec = read_header(p)
    assert (rec.width, rec.height, rec.depth, rec.layout) == (48, 64, 3, "stack")
    assert rec.extra["bigtiff"] is True
    assert rec.extra["tiled"] is True
    assert rec.extra["tiff_compression"] == "ADOBE_DEFLATE"
    assert rec.problems == []


def test_lzw_compression_name(tmp_path: Path) -> None:
    p = tmp_path / "lzw.tif"
    tifffile.imwrite(p, np.zeros((2, 8, 8), np.uint8))
    patch_tag(p, 259, 5)
    rec = read_header(p)
    assert rec.extra["tiff_compression"] == "LZW"
    assert rec.depth == 2


def test_movie_pages_counted(tmp_path: Path) -> None:
    p = tmp_path / "movie.tif"
    with tifffile.TiffWriter(p) as tw:
        for _ in range(7):
            tw.write(np.zeros((8, 8), np.uint16), contiguous=False)
    rec = read_header(p)
    assert (rec.depth, rec.layout) == (7, "stack")


def test_many_pages_are_cheap(tmp_path: Path) -> None:
    p = write(tmp_path, "long.tif", raw_tiff([(4096, 4096)] * 10000))
    t = time.perf_counter()
    rec = read_header(p)
    assert time.perf_counter() - t < 3  # ~0.1 s on an idle machine
    assert rec.depth == 10000
    assert rec.voxel_type == "UNSIGNED BYTE"


def test_page_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tiff_ifd, "MAX_PAGES", 10)
    rec = read_header(write(tmp_path, "cap.tif", raw_tiff([(8, 8)] * 11)))
    assert rules(rec) == ["F204"]
    assert rec.depth is None


def test_differing_shapes_warn_with_counts(tmp_path: Path) -> None:
    p = tmp_path / "mixed.tif"
    with tifffile.TiffWriter(p) as tw:
        tw.write(np.zeros((16, 16), np.uint8))
        tw.write(np.zeros((4, 4), np.uint8), subfiletype=1)  # a thumbnail: not a frame
        tw.write(np.zeros((16, 16), np.uint8))
        tw.write(np.zeros((8, 16), np.uint8))
    rec = read_header(p)
    assert rec.depth == 3
    assert rec.extra["reduced_resolution_pages"] == 1
    assert rules(rec) == ["F205"]
    assert "2 x (16 x 16), 1 x (16 x 8)" in rec.problems[0].message


def test_rgb_warns(tmp_path: Path) -> None:
    p = tmp_path / "rgb.tif"
    tifffile.imwrite(p, np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    rec = read_header(p)
    assert rules(rec) == ["F207"]
    assert rec.extra["samples_per_pixel"] == 3
    assert rec.voxel_type == "UNSIGNED BYTE"


# --- pixel size --------------------------------------------------------------------------------


def test_imagej_hyperstack(tmp_path: Path) -> None:
    p = tmp_path / "hyper.tif"
    tifffile.imwrite(
        p, np.zeros((3, 4, 2, 8, 8), np.float32), imagej=True, resolution=(10.0, 5.0),
        metadata={"axes": "TZCYX", "unit": "\\u00B5m"},
    )
    rec = read_header(p)
    assert rec.depth == 24
    assert rec.extra["imagej"] == {"channels": 2, "frames": 3, "slices": 4}
    assert (rec.pixel_width, rec.pixel_height) == (1000.0, 2000.0)  # 0.1 µm, 0.2 µm
    assert rec.extra["pixel_size_source"] == "imagej"


@pytest.mark.parametrize(
    ("unit", "angstrom"), [("nm", 5.0), ("micron", 5000.0), ("\\u00C5", 0.5)]
)
def test_imagej_units(tmp_path: Path, unit: str, angstrom: float) -> None:
    p = tmp_path / "ij.tif"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8), imagej=True, resolution=(2.0, 2.0),
                     metadata={"unit": unit})
    assert read_header(p).pixel_width == angstrom


def test_imagej_pixel_unit_is_not_physical(tmp_path: Path) -> None:
    p = tmp_path / "ij.tif"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8), imagej=True, resolution=(2.0, 2.0),
                     metadata={"unit": "pixel"})
    assert read_header(p).pixel_width is None


def test_imagej_single_ifd_large_stack(tmp_path: Path) -> None:
    """ImageJ writes stacks over 4 GiB as one IFD plus ``images=N`` in the description."""
    p = tmp_path / "big_ij.tif"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8),
                     description="ImageJ=1.54f\nimages=7\nslices=7\n", metadata=None)
    rec = read_header(p)
    assert (rec.depth, rec.layout) == (7, "stack")
    assert rec.extra["imagej_images"] == 7


@pytest.mark.parametrize(
    ("resolution", "unit", "expected"),
    [
        ((72, 72), "INCH", None),  # display default
        ((300, 300), "INCH", None),
        ((1e5, 1e5), "INCH", None),  # inch is never taken as physical
        ((72 / 2.54, 72 / 2.54), "CENTIMETER", None),  # 72 dpi written as cm
        ((1e5, 1e5), "CENTIMETER", 1000.0),  # 0.1 µm
        ((1e5, 1e5), "NONE", None),
    ],
)
def test_resolution_tags(
    tmp_path: Path, resolution: tuple[float, float], unit: str, expected: float | None
) -> None:
    p = tmp_path / "res.tif"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8), resolution=resolution, resolutionunit=unit)
    rec = read_header(p)
    assert rec.pixel_width == expected


def test_fei_metadata_pixel_size(tmp_path: Path) -> None:
    p = tmp_path / "fei.tif"
    text = "[User]\nDate=01/01/2024\n[Scan]\nPixelWidth=1.5e-09\nPixelHeight=1.6e-09\n"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8), resolution=(72, 72),
                     extratags=[(34682, 2, None, text, True)])
    rec = read_header(p)
    assert (rec.pixel_width, rec.pixel_height) == (15.0, 16.0)
    assert rec.extra["pixel_size_source"] == "fei"


def test_zeiss_sem_pixel_size(tmp_path: Path) -> None:
    p = tmp_path / "sem.tif"
    text = "\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 2.5 nm\r\nAP_WD\r\nWD = 5.0 mm\r\n"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8), extratags=[(34118, 2, None, text, True)])
    rec = read_header(p)
    assert rec.pixel_width == 25.0
    assert rec.extra["pixel_size_source"] == "zeiss_sem"


def test_corrupt_vendor_tag_is_a_finding_not_log_noise(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = tmp_path / "fei.tif"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8),
                     extratags=[(34682, 2, None, "[Scan]\nPixelWidth=1e-9\n", True)])
    raw = bytearray(p.read_bytes())
    with tifffile.TiffFile(p) as tif:
        entry = tif.pages[0].tags[34682].offset
    struct.pack_into("<I", raw, entry + 8, len(raw) + 5000)  # value offset past the end
    p.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING):
        rec = read_header(p)
    assert rules(rec) == ["F210"]
    assert rec.width == 8  # the basic header is still read
    assert not [r for r in caplog.records if r.name == "tifffile"]


def test_huge_vendor_tag_not_read(tmp_path: Path) -> None:
    p = tmp_path / "fei.tif"
    text = "[Scan]\nPixelWidth=1e-9\n" + "#" * (tiff_ifd.MAX_VALUE_BYTES + 10)
    tifffile.imwrite(p, np.zeros((8, 8), np.uint8), extratags=[(34682, 2, None, text, True)])
    rec = read_header(p)
    assert rules(rec) == ["F210"]
    assert rec.pixel_width is None
    assert rec.width == 8


def test_angstroms_per() -> None:
    assert angstroms_per("µm") == angstroms_per("μm") == angstroms_per("um") == 1e4
    assert angstroms_per("\u212b") == angstroms_per("A") == 1.0
    assert angstroms_per("pm") == 0.01
    assert angstroms_per("1/nm") is None
    assert angstroms_per(None) is None


# --- EER -----------------------------------------------------------------------------------------


# EER_XML (the Falcon 4i metadata page) comes from tests/tiffwriters.py


def write_eer(path: Path, frames: int = 5, xml: str | None = None, declared: int | None = None,
              compression: int = 65002) -> Path:
    """An EER-like file: tifffile refuses to write compression 65002, so uncompressed pages are
    written and the Compression tag of every page is patched; tag 65001 holds the XML."""
    text = (xml if xml is not None else EER_XML).format(frames=declared or frames)
    with tifffile.TiffWriter(path) as tw:
        for i in range(frames):
            tags = [(65001, 7, None, text.encode(), True)] if i == 0 else []
            tw.write(np.zeros((64, 64), np.uint8), contiguous=False, extratags=tags)
    patch_tag(path, 259, compression)
    return path


def test_eer_movie(tmp_path: Path) -> None:
    rec = read_header(write_eer(tmp_path / "movie.eer"))
    assert (rec.format, rec.header_format) == ("EER", "EER")
    assert rec.voxel_type == "BIT"
    assert (rec.width, rec.height, rec.depth, rec.layout) == (64, 64, 5, "stack")
    assert rec.extra["tiff_compression"] == "EER_V2"
    assert rec.extra["acquisition"] == {
        "camera": "Falcon 4i", "camera_serial": "1234", "dose_e_per_a2": 4.0,
        "dose_e_per_pixel": 2.25, "exposure_s": 2.5, "frames": 5, "pixel_size_a": 0.75,
    }
    assert (rec.pixel_width, rec.pixel_height) == (0.75, 0.75)
    assert rec.problems == []


def test_eer_by_compression_alone(tmp_path: Path) -> None:
    p = tmp_path / "a.eer"
    with tifffile.TiffWriter(p) as tw:
        for _ in range(2):
            tw.write(np.zeros((8, 8), np.uint8), contiguous=False)
    patch_tag(p, 259, 65001)
    rec = read_header(p)
    assert (rec.format, rec.voxel_type, rec.depth) == ("EER", "BIT", 2)
    assert "acquisition" not in rec.extra


def test_eer_frame_count_mismatch(tmp_path: Path) -> None:
    rec = read_header(write_eer(tmp_path / "short.eer", frames=3, declared=40))
    assert rules(rec) == ["F212"]
    assert "40 frames but the file has 3" in rec.problems[0].message


@pytest.mark.parametrize(
    "xml",
    ["<metadata><item name='x'>1</item>",  # unclosed
     '<metadata><!DOCTYPE m [<!ENTITY a "aaaa">]><item name="x">&a;</item></metadata>'],
)
def test_eer_bad_xml(tmp_path: Path, xml: str) -> None:
    rec = read_header(write_eer(tmp_path / "bad.eer", frames=2, xml=xml))
    assert (rec.format, rec.depth) == ("EER", 2)
    assert rules(rec) == ["F211"]
    assert "acquisition" not in rec.extra


# --- hostile files -----------------------------------------------------------------------------


def test_ifd_points_to_itself(tmp_path: Path) -> None:
    data = raw_tiff([(8, 8)])
    first = struct.unpack("<I", data[4:8])[0]
    p = write(tmp_path, "loop.tif", raw_tiff([(8, 8)], next_of={0: first}))
    rec = read_fast(p)
    assert rules(rec) == ["F201"]
    assert rec.depth is None
    assert rec.width == 8  # the first page is still described


def test_long_ifd_loop(tmp_path: Path) -> None:
    """A cycle longer than tifffile's 100-page loop check."""
    shapes = [(8, 8)] * 300
    first = struct.unpack("<I", raw_tiff(shapes)[4:8])[0]
    p = write(tmp_path, "loop.tif", raw_tiff(shapes, next_of={299: first}))
    assert rules(read_fast(p)) == ["F201"]


def test_ifd_offset_past_end(tmp_path: Path) -> None:
    p = write(tmp_path, "past.tif", raw_tiff([(8, 8)] * 2, next_of={1: 10**9}))
    rec = read_fast(p)
    assert rules(rec) == ["F202"]
    assert rec.extra["frames_at_least"] == 2


def test_first_ifd_past_end_bigtiff(tmp_path: Path) -> None:
    data = bytearray(raw_tiff([(8, 8)], big=True))
    data[8:16] = struct.pack("<Q", 2**60)
    rec = read_fast(write(tmp_path, "big.tif", bytes(data)))
    assert rules(rec) == ["F202"]
    assert rec.width is None


def test_truncated_file(tmp_path: Path) -> None:
    data = raw_tiff([(8, 8)] * 3)
    rec = read_fast(write(tmp_path, "cut.tif", data[:-20]))
    assert rules(rec) == ["F202"]


def test_absurd_tag_count(tmp_path: Path) -> None:
    rec = read_fast(write(tmp_path, "tags.tif", raw_tiff([(8, 8)], ntags_of={0: 0xFFFF})))
    assert rules(rec) == ["F203"]


def test_zero_dimensions(tmp_path: Path) -> None:
    rec = read_fast(write(tmp_path, "zero.tif", raw_tiff([(0, 8)])))
    assert "F206" in rules(rec)
    assert rec.width is None


def test_ifd_without_image_tags(tmp_path: Path) -> None:
    data = bytearray(b"II*\x00" + struct.pack("<I", 8))
    data += struct.pack("<H", 1) + struct.pack("<HHII", 40000, 3, 1, 7) + struct.pack("<I", 0)
    rec = read_fast(write(tmp_path, "odd.tif", bytes(data)))
    assert rules(rec) == ["F206"]


def test_bad_bigtiff_header(tmp_path: Path) -> None:
    data = bytearray(raw_tiff([(8, 8)], big=True))
    data[4:6] = struct.pack("<H", 4)
    rec = read_fast(write(tmp_path, "bad.tif", bytes(data)))
    assert rules(rec) == ["F200"]


def test_random_bytes_after_magic(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(20):
        data = b"II*\x00" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes()
        rec = read_fast(write(tmp_path, f"r{i}.tif", data))
        assert not [p for p in rec.problems if p.rule == "F009"]  # no stray exception


# --- compressed streams ------------------------------------------------------------------------


def test_bz2_small_stack_fully_counted(tmp_path: Path) -> None:
    src = tmp_path / "s.tif"
    tifffile.imwrite(src, np.zeros((4, 16, 16), np.uint16), photometric="minisblack")
    p = tmp_path / "FoilHole_1_fractions.tiff.bz2"
    p.write_bytes(bz2.compress(src.read_bytes()))
    rec = read_header(p)
    assert (rec.format, rec.width, rec.height, rec.depth) == ("TIFF", 16, 16, 4)
    assert rec.extra["compression"] == "bzip2"  # the dispatcher's; TIFF's own is separate
    assert rec.extra["tiff_compression"] == "NONE"
    assert rec.voxel_type == "UNSIGNED 16 BIT INTEGER"
    assert rec.problems == []


def test_gzip_chain_beyond_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decompress, "_budget", 4096)
    src = tmp_path / "m.tif"
    with tifffile.TiffWriter(src) as tw:
        for _ in range(4):
            tw.write(np.zeros((64, 64), np.uint8), contiguous=False)
    p = tmp_path / "m.tif.gz"
    p.write_bytes(gzip.compress(src.read_bytes()))
    rec = read_header(p)
    assert (rec.width, rec.height, rec.voxel_type) == (64, 64, "UNSIGNED BYTE")
    assert rec.depth is None
    assert rules(rec) == ["F208"]
    assert rec.extra["frames_at_least"] >= 1


def test_gzip_first_ifd_beyond_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decompress, "_budget", 1024)
    src = tmp_path / "late.tif"
    with tifffile.TiffWriter(src) as tw:  # libtiff-style: IFD written after the image data
        tw.write(np.zeros((64, 64), np.uint8), contiguous=False)
    data = bytearray(src.read_bytes())
    # move the IFD to the end of the file: copy it and repoint the header
    first = struct.unpack("<I", data[4:8])[0]
    ntags = struct.unpack("<H", data[first:first + 2])[0]
    block = bytes(data[first:first + 2 + 12 * ntags + 4])
    data += b"\x00" * 4096
    new = len(data)
    data += block
    data[4:8] = struct.pack("<I", new)
    p = tmp_path / "late.tif.gz"
    p.write_bytes(gzip.compress(bytes(data)))
    rec = read_header(p)
    assert rules(rec) == ["F209"]
    assert rec.width is None


def test_corrupt_gzip_stream(tmp_path: Path) -> None:
    src = tmp_path / "c.tif"
    tifffile.imwrite(src, np.zeros((3, 64, 64), np.uint8), photometric="minisblack")
    good = gzip.compress(src.read_bytes() + b"\x00" * 100000, compresslevel=1)
    p = tmp_path / "c.tif.gz"
    p.write_bytes(good[:60])  # header decompresses, the rest is cut
    rec = read_fast(p)
    assert not rec.ok
    assert "F009" not in rules(rec)


def test_compression_name_table_matches_tifffile() -> None:
    import tifffile

    from empiar_validate.formats.tiff import _COMPRESSION_NAMES

    for code, name in _COMPRESSION_NAMES.items():
        assert tifffile.COMPRESSION(code).name == name, code


def test_plain_tiff_and_dm_reads_import_neither_tifffile_nor_numpy(tmp_path: Path) -> None:
    import subprocess
    import sys

    import numpy as np
    import tifffile

    tifffile.imwrite(tmp_path / "m.tif", np.zeros((3, 8, 8), dtype=np.uint8),
                     photometric="minisblack")
    sys.path.insert(0, str(Path(__file__).parent))
    import dmwriter

    dmwriter.write_simple(tmp_path / "g.dm4", np.zeros((8, 8), dtype=np.uint16))
    code = (
        "import sys\n"
        "from empiar_validate.formats import read_header\n"
        f"for p in ({str(tmp_path / 'm.tif')!r}, {str(tmp_path / 'g.dm4')!r}):\n"
        "    assert read_header(p).format is not None\n"
        "print(sorted(m for m in ('tifffile', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# --- movies written frame by frame (camera software) ------------------------------------------


def _walk(path: Path, skim: bool = True) -> tiff_ifd.Chain:
    with open(path, "rb") as fh:
        return tiff_ifd.walk(tiff_ifd.ByteSource(fh, path.stat().st_size, None, b""), skim=skim)


def _chain_facts(chain: tiff_ifd.Chain) -> tuple[object, ...]:
    return (chain.pages, chain.reduced, dict(chain.shapes), chain.complete,
            [(r.id, m) for r, m in chain.problems], chain.first)


@pytest.mark.parametrize("big_endian", [False, True])
def test_eer_written_frame_by_frame(tmp_path: Path, big_endian: bool) -> None:
    """libtiff-style EER (strip, IFD, strip, IFD...; 64 KiB frames left as holes)."""
    path = write_camera_tiff(tmp_path / "FoilHole_1_fractions.eer", 1500, big_endian=big_endian)
    rec = read_header(path)
    assert rules(rec) == []
    assert (rec.format, rec.voxel_type, rec.width, rec.height, rec.depth) == (
        "EER", "BIT", 4096, 4096, 1500)
    assert rec.extra["acquisition"]["frames"] == 1500
    assert _chain_facts(_walk(path)) == _chain_facts(_walk(path, skim=False))


def test_tifffile_page_by_page_movie(tmp_path: Path) -> None:
    path = write_tifffile_pages(tmp_path / "movie.tif", 300, 32, 16)
    rec = read_header(path)
    assert (rec.width, rec.height, rec.depth, rec.layout, rules(rec)) == (32, 16, 300, "stack", [])
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 300


def _ifd_offsets(path: Path) -> list[int]:
    with tifffile.TiffFile(path) as tif:
        return [page.offset for page in tif.pages]


def test_fast_path_still_finds_a_loop_deep_in_the_chain(tmp_path: Path) -> None:
    path = write_camera_tiff(tmp_path / "loop.eer", 400, frame_bytes=512)
    offsets = _ifd_offsets(path)
    data = bytearray(path.read_bytes())
    nxt = offsets[350] + 2 + 12 * 10  # IFD 350's next-IFD field (10 entries)
    data[nxt:nxt + 4] = struct.pack("<I", offsets[200])
    path.write_bytes(bytes(data))
    rec = read_header(path)
    assert rules(rec) == ["F201"]
    assert f"IFD 351 points back to the IFD at byte {offsets[200]}" in rec.problems[0].message
    assert _chain_facts(_walk(path)) == _chain_facts(_walk(path, skim=False))


def test_fast_path_sees_a_changed_page_and_a_thumbnail(tmp_path: Path) -> None:
    path = write_camera_tiff(tmp_path / "mixed.tif", 100, width=64, height=64, frame_bytes=64,
                             compression=1, bits=8, xml=None)
    offsets = _ifd_offsets(path)
    data = bytearray(path.read_bytes())
    data[offsets[40] + 2 + 8:offsets[40] + 2 + 10] = struct.pack("<H", 32)  # width of page 40
    path.write_bytes(bytes(data))
    rec = read_header(path)
    assert rec.depth == 100
    assert rules(rec) == ["F205"]
    assert "99 x (64 x 64), 1 x (32 x 64)" in rec.problems[0].message
    assert _chain_facts(_walk(path)) == _chain_facts(_walk(path, skim=False))


def test_fast_path_stops_at_truncation_and_page_cap(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_camera_tiff(tmp_path / "cut.eer", 200, frame_bytes=256, sparse=False)
    offsets = _ifd_offsets(path)
    with open(path, "r+b") as fh:
        fh.truncate(offsets[150] + 20)  # in the middle of IFD 150
    rec = read_header(path)
    assert rules(rec) == ["F202"]
    assert "IFD 150" in rec.problems[0].message and rec.extra["frames_at_least"] == 150
    monkeypatch.setattr(tiff_ifd, "MAX_PAGES", 120)
    assert rules(read_header(path)) == ["F204"]


def test_fast_path_agrees_with_full_walk_on_damaged_movies(tmp_path: Path) -> None:
    """Random damage in the IFD region of frame-by-frame movies: both walks say the same."""
    import random

    rng = random.Random(8)
    clean = write_camera_tiff(tmp_path / "clean.tif", 60, width=48, height=40, frame_bytes=40,
                              compression=1, bits=8, xml=None, sparse=False).read_bytes()
    offsets = _ifd_offsets(tmp_path / "clean.tif")
    path = tmp_path / "damaged.tif"
    for _ in range(300):
        data = bytearray(clean)
        for _ in range(rng.randint(1, 4)):
            at = rng.choice(offsets) + rng.randrange(0, 2 + 12 * 10 + 4)
            data[at] = rng.randrange(256)
        path.write_bytes(bytes(data[:rng.choice([len(data), rng.randrange(8, len(data))])]))
        assert _chain_facts(_walk(path)) == _chain_facts(_walk(path, skim=False))
