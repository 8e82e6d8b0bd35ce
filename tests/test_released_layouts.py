"""Data laid out as released entries 10511, 10318 and 10934: `check` is green against headers
carrying their published values, and `scan` derives those values (tests/released_layouts.py
builds the layouts, tests/released_headers.py holds the values)."""

from __future__ import annotations

import json
from pathlib import Path

from released_headers import ENTRY_10318, ENTRY_10511, ENTRY_10934, write_header
from released_layouts import build_10318, build_10511, build_10934

from empiar_validate.scan import scan_dataset

DERIVED = ("category", "headerFormat", "dataFormat", "numImagesOrTiltSeries", "framesPerImage",
           "voxelType", "imageWidth", "imageHeight")


def check(run_cli, data: Path, header: Path) -> tuple[int, dict[str, object]]:
    code, out, _ = run_cli("check", data, "--xml", header, "--format", "json")
    return code, json.loads(out)


def errors(doc: dict[str, object]) -> list[tuple[str, str]]:
    return [(f["rule"], f["message"]) for f in doc["findings"]  # type: ignore[index, union-attr]
            if f["severity"] == "error"]


def assert_derives(s, published: dict[str, object], fields=DERIVED) -> None:
    got = {
        "category": s.category, "headerFormat": s.header_format, "dataFormat": s.data_format,
        "numImagesOrTiltSeries": s.num_images_or_tilt_series,
        "framesPerImage": s.frames_per_image, "voxelType": s.voxel_type,
        "imageWidth": s.image_width, "imageHeight": s.image_height,
        "pixelWidth": s.pixel_width, "pixelHeight": s.pixel_height,
    }
    assert {k: got[k] for k in fields} == {k: published[k] for k in fields}


# --------------------------------------------------------------------------- 10511


def test_10511_gms_mode0_movies_in_data_itself(tmp_path, run_cli):
    data = build_10511(tmp_path)
    result = scan_dataset(str(data), quiet=True)
    [s] = result.image_sets  # the gain reference is a companion, not counted
    assert s.directory == "/data"
    assert_derives(s, ENTRY_10511, (*DERIVED, "pixelWidth", "pixelHeight"))
    assert s.micrographs_file_pattern == "data/*.mrc"
    assert "G114" not in {f.rule for f in result.findings}
    # the released header's /data, and the API's "data", are both green
    for directory in ("/data", "data", "/data/"):
        header = write_header(tmp_path / "10511.xml", {**ENTRY_10511, "directory": directory})
        code, doc = check(run_cli, data, header)
        assert (code, errors(doc)) == (0, []), directory


def test_10511_mode0_signed_reading_disagrees_with_the_released_header(tmp_path, run_cli):
    data = build_10511(tmp_path)
    header = write_header(tmp_path / "10511.xml", ENTRY_10511)
    code, out, _ = run_cli("check", data, "--xml", header, "--format", "json",
                           "--mrc-mode0", "mrc2014")
    assert code == 1
    assert [f["rule"] for f in json.loads(out)["findings"] if "but every file has SIGNED BYTE"
            in f["message"]] == ["C102"]


# --------------------------------------------------------------------------- 10318


def test_10318_smv_series_in_zips(tmp_path, run_cli):
    data = build_10318(tmp_path)
    [s] = scan_dataset(str(data), quiet=True).image_sets
    assert s.directory == "/data"
    assert_derives(s, ENTRY_10318, (*DERIVED, "pixelWidth", "pixelHeight"))
    header = write_header(tmp_path / "10318.xml", ENTRY_10318, experiment="MicroED")
    code, doc = check(run_cli, data, header)  # ENTRY_10318 spells the directory "data"
    assert (code, errors(doc)) == (0, [])
    assert not list(data.rglob("*.img"))  # nothing was extracted


def test_10318_unzipped_frames_are_not_broken_imagic(tmp_path):
    import zipfile

    data = build_10318(tmp_path)
    with zipfile.ZipFile(data / "series_1.zip") as zf:
        zf.extractall(tmp_path / "unzipped")
    result = scan_dataset(str(tmp_path / "unzipped"), quiet=True)
    assert not {f.rule for f in result.findings} & {"F501", "F006", "F007"}
    [s] = result.image_sets
    assert (s.category, s.data_format, s.num_images_or_tilt_series) == (
        "diffraction images", "SMV", 5)


# --------------------------------------------------------------------------- 10934


def test_10934_epu_bz2_movies_across_grid_squares(tmp_path, run_cli):
    data = build_10934(tmp_path, gain=False)
    [s] = scan_dataset(str(data), quiet=True).image_sets
    assert s.directory.startswith(ENTRY_10934["directory"])  # type: ignore[arg-type]
    assert_derives(s, ENTRY_10934)
    for directory in ("/data/CL44-1_session", "data/CL44-1_session", "/data/CL44-1_session/"):
        header = write_header(tmp_path / "10934.xml", {**ENTRY_10934, "directory": directory})
        code, doc = check(run_cli, data, header)
        assert (code, errors(doc)) == (0, []), directory


def test_10934_unknown_frame_count_is_not_compared(tmp_path, run_cli):
    data = build_10934(tmp_path, gain=False)
    header = write_header(tmp_path / "10934.xml", ENTRY_10934)
    code, out, _ = run_cli("check", data, "--xml", header, "--format", "json",
                           "--decompress-budget", "4K")
    doc = json.loads(out)
    assert (code, errors(doc)) == (0, [])  # 45 frames in the header, unknown on disk
    assert {f["rule"] for f in doc["findings"]} >= {"F208"}
    result = scan_dataset(str(data), quiet=True)
    [s] = result.image_sets
    assert s.category == "micrographs - multiframe" and s.frames_per_image is None


def test_10934_with_its_gain_reference_checks_green(tmp_path, run_cli):
    data = build_10934(tmp_path, gain=True)
    header = write_header(tmp_path / "10934.xml", ENTRY_10934)
    code, doc = check(run_cli, data, header)
    assert (code, errors(doc)) == (0, [])


def test_10934_gain_reference_does_not_break_the_grid_square_merge(tmp_path):
    # the grouping rule itself is issue 10 item 6 (tests/test_scan_group.py); here on 10934
    data = build_10934(tmp_path, gain=True)
    [s] = scan_dataset(str(data), quiet=True).image_sets
    assert_derives(s, ENTRY_10934)
    assert not any("gain" in r.path for r in s.files)


def test_published_other_values_are_not_compared(tmp_path, run_cli):
    # "Other" names no voxel type or category to compare the files with: warned (S127), not C102
    data = build_10511(tmp_path)
    header = write_header(tmp_path / "10511.xml",
                          {**ENTRY_10511, "voxelType": "Other", "category": "Other"})
    code, doc = check(run_cli, data, header)
    assert (code, errors(doc)) == (0, [])
    assert {f["rule"] for f in doc["findings"]} >= {"S127"}
