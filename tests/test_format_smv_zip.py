"""SMV diffraction frames and ZIP archives of frames (one series each), headers only."""

from __future__ import annotations

import zipfile

import pytest
from smvfiles import smv_bytes, write_series_zip, write_smv_adsc, write_smv_fabio

from empiar_validate.formats import read_header


def rules(record):
    return [p.rule for p in record.problems]


def test_adsc_frame_is_read_from_its_text_header(tmp_path):
    rec = read_header(write_smv_adsc(tmp_path / "f_00001.img", width=48, height=40))
    assert (rec.format, rec.header_format, rec.voxel_type) == (
        "SMV", "SMV", "UNSIGNED 16 BIT INTEGER")
    assert (rec.width, rec.height, rec.depth, rec.pixel_width) == (48, 40, 1, 51.0)
    assert rec.extra["byte_order"] == "little" and rec.extra["header_bytes"] == 512
    assert rec.problems == []


def test_fabio_frame_is_read(tmp_path):
    rec = read_header(write_smv_fabio(tmp_path / "x.img", width=32, height=24))
    assert (rec.format, rec.voxel_type, rec.width, rec.height) == (
        "SMV", "UNSIGNED 16 BIT INTEGER", 32, 24)
    assert rec.pixel_width == pytest.approx(0.028)
    assert rec.problems == []


def test_unzipped_smv_img_is_not_a_broken_imagic_pair(tmp_path):
    rec = read_header(write_smv_adsc(tmp_path / "lonely.img"))
    assert rec.format == "SMV"
    assert not {"F501", "F006", "F007"} & set(rules(rec))


@pytest.mark.parametrize("kind, voxel", [
    ("signed_short", "SIGNED 16 BIT INTEGER"), ("unsigned_int", "UNSIGNED 32 BIT INTEGER"),
    ("float", "32 BIT FLOAT"),
])
def test_types_and_big_endian(tmp_path, kind, voxel):
    rec = read_header(write_smv_adsc(tmp_path / "f.smv", kind=kind, order="big_endian"))
    assert (rec.voxel_type, rec.extra["byte_order"]) == (voxel, "big")


def test_truncated_frame_and_missing_pixel_size(tmp_path):
    data = smv_bytes(width=64, height=64, pixel=None)
    (tmp_path / "cut.img").write_bytes(data[:1000])
    rec = read_header(tmp_path / "cut.img")
    assert set(rules(rec)) == {"F702", "F703"}


def test_unknown_type_and_header_without_end(tmp_path):
    rec = read_header(write_smv_adsc(tmp_path / "t.img", kind="complex"))
    assert "F701" in rules(rec)
    (tmp_path / "open.img").write_bytes(b"{\nHEADER_BYTES=  512;\nSIZE1=4;\n" + b" " * 600)
    assert rules(read_header(tmp_path / "open.img")) == ["F700"]


def test_gzipped_smv_frame(tmp_path):
    import gzip

    (tmp_path / "f.img.gz").write_bytes(gzip.compress(smv_bytes(width=20, height=10)))
    rec = read_header(tmp_path / "f.img.gz")
    assert (rec.format, rec.width, rec.height, rec.problems) == ("SMV", 20, 10, [])


def test_zip_series_is_one_image_from_its_first_member(tmp_path):
    path = write_series_zip(tmp_path / "series1.zip", frames=7, prefix="series1", width=40,
                            height=30)
    rec = read_header(path)
    assert (rec.format, rec.header_format, rec.voxel_type) == (
        "SMV", "SMV", "UNSIGNED 16 BIT INTEGER")
    assert (rec.width, rec.height, rec.depth, rec.pixel_width) == (40, 30, 1, 51.0)
    assert rec.extra["series_frames"] == 7
    assert rec.extra["first_member"] == "series1/series1_00001.img"
    assert rec.problems == []
    assert list(tmp_path.iterdir()) == [path]  # nothing extracted


def test_zip_reads_only_the_first_member(tmp_path, monkeypatch):
    path = write_series_zip(tmp_path / "s.zip", frames=4, prefix="s")
    opened = []
    original = zipfile.ZipFile.open

    def spy(self, name, *a, **kw):
        opened.append(getattr(name, "filename", name))
        return original(self, name, *a, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    read_header(path)
    assert set(opened) == {"s/s_00001.img"}


def test_zip_of_other_files_is_not_an_image(tmp_path):
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as zf:
        zf.writestr("README.txt", "hello")
    rec = read_header(tmp_path / "notes.zip")
    assert rec.format is None and rec.problems == []


def test_corrupt_encrypted_and_mixed_archives(tmp_path):
    data = write_series_zip(tmp_path / "ok.zip", frames=3).read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    assert rules(read_header(tmp_path / "cut.zip")) == ["F710"]
    with zipfile.ZipFile(tmp_path / "mixed.zip", "w") as zf:
        zf.writestr("a.img", smv_bytes())
        zf.writestr("b.smv", smv_bytes())
    assert rules(read_header(tmp_path / "mixed.zip")) == ["F712"]
    # the encryption flag of the first member (zipfile cannot write encrypted archives)
    raw = bytearray(data)
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = raw.find(sig)
        flag_at = at + (6 if sig == b"PK\x03\x04" else 8)
        raw[flag_at] |= 1
    (tmp_path / "locked.zip").write_bytes(bytes(raw))
    assert rules(read_header(tmp_path / "locked.zip")) == ["F711"]


def test_zip_with_unreadable_first_member(tmp_path):
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        zf.writestr("x/a.img", b"not an smv frame and not imagic either" * 40)
    rec = read_header(tmp_path / "bad.zip")
    assert rec.format is None or rules(rec)


def write_cbf_fabio(path, width=40, height=30, dtype="int32"):
    """A PILATUS-style mini-CBF written by fabio (byte-offset compressed)."""
    import numpy as np
    from fabio.cbfimage import CbfImage

    header = {"_array_data.header_convention": "PILATUS_1.2",
              "_array_data.header_contents": "# Detector: PILATUS 6M\r\n"
                                             "# Pixel_size 172e-6 m x 172e-6 m\r\n"
                                             "# Exposure_time 0.1 s"}
    data = (np.arange(width * height) % 50).astype(dtype).reshape(height, width)
    CbfImage(data=data, header=header).write(str(path))
    return path


def test_cbf_frame_written_by_fabio(tmp_path):
    rec = read_header(write_cbf_fabio(tmp_path / "frame_0001.cbf"))
    assert (rec.format, rec.voxel_type, rec.width, rec.height, rec.depth) == (
        "CBF", "SIGNED 32 BIT INTEGER", 40, 30, 1)
    assert rec.pixel_width == pytest.approx(1.72e6)  # 172 µm in Å
    assert rec.problems == []


def test_cbf_without_dimensions_or_with_an_odd_type(tmp_path):
    (tmp_path / "bad.cbf").write_bytes(b"###CBF: VERSION 1.5\ndata_x\n" + b" " * 100)
    assert rules(read_header(tmp_path / "bad.cbf")) == ["F720"]
    data = write_cbf_fabio(tmp_path / "t.cbf").read_bytes().replace(
        b'"signed 32-bit integer"', b'"signed 64-bit integer"')
    (tmp_path / "t.cbf").write_bytes(data)
    assert rules(read_header(tmp_path / "t.cbf")) == ["F721"]


def test_cbf_series_is_guessed_as_diffraction_images(tmp_path):
    from empiar_validate.scan import scan_dataset

    (tmp_path / "run1").mkdir()
    for i in range(3):
        write_cbf_fabio(tmp_path / "run1" / f"frame_{i:04d}.cbf")
    [s] = scan_dataset(str(tmp_path), quiet=True).image_sets
    assert (s.category, s.data_format, s.num_images_or_tilt_series) == (
        "diffraction images", "CBF", 3)
