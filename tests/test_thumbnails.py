"""Thumbnails read one section with bounded memory; the entry thumbnail is a valid PNG."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from empiar_validate import thumbnails
from empiar_validate.formats import read_header
from empiar_validate.thumbnails import CountingFile, image_set_png, read_section, to_png

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "dataset"


def decode_png(data: bytes) -> np.ndarray:
    """Check a PNG's structure and CRCs and return its 8-bit grey pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (depth, colour) == (8, 0)
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, width + 1)
    assert not rows[:, 0].any()  # filter type 0 on every row
    return rows[:, 1:]


def _record(path: Path):
    rec = read_header(str(path))
    rec.path = path.name
    return rec


def test_mrc_volume_reads_the_header_and_one_section(tmp_path):
    import mrcfile

    data = np.arange(32 * 48 * 64, dtype=np.float32).reshape(32, 48, 64)
    path = tmp_path / "map.mrc"
    with mrcfile.new(path) as mrc:  # mrcfile's defaults, as other software writes them
        mrc.set_data(data)
        mrc.set_volume()
    counter: list[int] = []
    section = read_section(str(path), _record(path), counter)
    assert np.array_equal(section, data[16])
    assert counter == [1024 + 48 * 64 * 4]  # the header and exactly one section
    assert counter[0] < path.stat().st_size / 20


def test_tiff_movie_written_page_by_page_reads_one_page(tmp_path):
    import tifffile

    frames = [np.full((96, 128), i, dtype=np.uint16) for i in range(40)]
    path = tmp_path / "movie.tif"
    with tifffile.TiffWriter(path) as tif:  # camera software: one page per frame
        for frame in frames:
            tif.write(frame, photometric="minisblack", contiguous=False)
    counter: list[int] = []
    section = read_section(str(path), _record(path), counter)
    assert section is not None and section.shape == (96, 128) and int(section[0, 0]) == 20
    page = 96 * 128 * 2
    assert page <= counter[0] < page + 64 * 1024, counter
    assert counter[0] < path.stat().st_size / 10


@pytest.mark.parametrize("rel", ["lightsheet/cells.h5", "dm4/grid_square_1.dm4",
                                 "movies/FoilHole_1001_Data_fractions.tiff",
                                 "particles/particles_001.mrcs"])
def test_sample_files_give_a_section_without_reading_the_file(rel):
    path = SAMPLE / rel
    rec = read_header(str(path))
    counter: list[int] = []
    section = read_section(str(path), rec, counter)
    assert section is not None and section.ndim == 2
    section_bytes = section.size * section.dtype.itemsize
    if rec.format in ("DM3", "DM4"):  # the tag tree is walked again: what inspect reads
        from empiar_validate.formats.dmtags import parse

        fh = CountingFile(str(path))
        parse(fh, path.stat().st_size)
        assert counter[0] <= fh.bytes_read + section_bytes
        fh.close()
    elif rec.format == "BIG DATA VIEWER HDF5":  # HDF5 reads metadata and whole chunks
        assert counter[0] < path.stat().st_size
    else:
        assert counter[0] <= section_bytes + 8 * 1024
        assert counter[0] < path.stat().st_size


def test_unsupported_or_broken_files_give_no_thumbnail(tmp_path):
    bad = tmp_path / "bad.mrc"
    bad.write_bytes(b"\0" * 100)
    rec = read_header(str(bad))
    assert read_section(str(bad), rec) is None
    assert image_set_png(str(tmp_path), [rec]) is None


def test_png_is_contrast_stretched_and_scaled():
    big = np.linspace(0, 1000, 1024 * 800, dtype=np.float32).reshape(800, 1024)
    img = decode_png(to_png(big))
    assert max(img.shape) <= 256 and img.min() == 0 and img.max() == 255
    small = decode_png(to_png(np.eye(40, 30, dtype=np.int16), min_size=400))
    assert min(small.shape) >= 400


@pytest.mark.parametrize("imageset", ["/data/volume", "movies"])
def test_package_entry_thumbnail(tmp_path, run_cli, monkeypatch, imageset):
    """``package --thumbnail SET``: a PNG of at least 400 x 400, SUMMARY.md passes it, and no
    file was read beyond one section."""
    reads: list[int] = []
    real = thumbnails.read_section

    def counted(path, record, counter=None):
        out = real(path, record, reads)
        if counter is not None:
            counter.extend(reads[-1:])
        sizes.append((path, out.size * out.dtype.itemsize if out is not None else 0))
        return out

    sizes: list[tuple[str, int]] = []
    monkeypatch.setattr(thumbnails, "read_section", counted)
    out = tmp_path / "bundle"
    code, text, err = run_cli("package", SAMPLE, "--metadata", ROOT / "fixtures" / "metadata.json",
                              "-o", out, "--thumbnail", imageset, "-q")
    assert code == 0, text + err
    img = decode_png((out / "entry_thumbnail.png").read_bytes())
    assert min(img.shape) >= 400 and img.std() > 0
    assert len(reads) == 1 and reads[0] <= sizes[0][1] + 1024 + 8 * 1024
    summary = (out / "SUMMARY.md").read_text(encoding="utf-8")
    assert f"-e {out / 'entry_thumbnail.png'}" in summary


def test_package_thumbnail_of_an_unknown_set_is_a_usage_error(tmp_path, run_cli):
    code, _, err = run_cli("package", SAMPLE, "-o", tmp_path / "b", "--thumbnail", "nope")
    assert code == 2 and "no such image set" in err


def test_without_thumbnails_nothing_beyond_headers_is_read(tmp_path, run_cli, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a section was read without --thumbnails")

    monkeypatch.setattr(thumbnails, "read_section", forbidden)
    code, html, _ = run_cli("scan", SAMPLE, "--metadata", ROOT / "fixtures" / "metadata.json",
                            "-o", tmp_path / "e.xml", "--format", "html")
    assert code == 0 and "<img" not in html
