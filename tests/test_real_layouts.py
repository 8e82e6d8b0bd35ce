"""Real layouts (tests/layouts.py): the image sets a depositor would write, and check green."""

from __future__ import annotations

import json
from pathlib import Path

import layouts
import pytest

MULTIFRAME = "micrographs - multiframe"


def scan_json(run_cli, root: Path, xml: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = run_cli("scan", root, "-o", xml, "--format", "json", "-q", *extra)
    assert not err
    return code, json.loads(out)


def sets(report: dict) -> dict[str, dict]:
    return {s["directory"]: s for s in report["image_sets"]}


def rules(report: dict) -> list[str]:
    return sorted(f["rule"] for f in report["findings"])


def check_rules(run_cli, root: Path, xml: Path) -> list[str]:
    """Rules of check's findings about the data (the XSD's complaints about the missing
    metadata, S/X/M rules, are not what these tests look at)."""
    _, out, _ = run_cli("check", root, "--xml", xml, "--format", "json", "-q")
    return sorted(f["rule"] for f in json.loads(out)["findings"]
                  if f["rule"][0] in "CGF")


def write_meta(path: Path, imagesets: list[dict]) -> Path:
    path.write_text(json.dumps({"imagesets": imagesets}), encoding="utf-8")
    return path


def test_epu_gain_in_one_grid_square_neither_stops_the_merge_nor_joins_the_movies(
        tmp_path, run_cli):
    root = layouts.epu_tiff(tmp_path / "epu", squares=3, holes=2, gain_in_square=1)
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    [s] = report["image_sets"]
    assert (s["directory"], s["category"], s["numImagesOrTiltSeries"], s["framesPerImage"]) == (
        "/data/Images-Disc1", MULTIFRAME, 6, 10)
    assert s["files"] == 6 and any(c.endswith("gain_20230101.mrc") for c in s["companions"])
    assert "G107" in rules(report) and "G110" in rules(report)
    assert check_rules(run_cli, root, xml) == []


def test_mrc_movies_with_space_group_1_are_movies_and_a_root_gain_is_their_companion(
        tmp_path, run_cli):
    root = layouts.epu_mrc(tmp_path / "epu")
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    [s] = report["image_sets"]  # no image set for the gain at /data, no G114
    assert (s["category"], s["numImagesOrTiltSeries"], s["framesPerImage"], s["imageWidth"],
            s["voxelType"]) == (MULTIFRAME, 4, 40, 4096, "SIGNED 16 BIT INTEGER")
    evidence = " ".join(s["category_evidence"])
    assert "space group 1 says volume" in evidence and "fractions" in evidence
    assert "gain.mrc" in s["companions"]
    assert "G114" not in rules(report) and "G107" in rules(report)
    assert check_rules(run_cli, root, xml) == []


def test_shape_and_voxel_type_alone_make_an_unnamed_integer_stack_a_movie(tmp_path, run_cli):
    layouts.mrc_movie(tmp_path / "ds" / "session1" / "a.mrc")
    layouts.mrc_movie(tmp_path / "ds" / "session1" / "b.mrc")
    # a float map of the same depth is a map: the evidence is the voxel type and the shape
    layouts.mrc_movie(tmp_path / "ds" / "maps" / "m.mrc", shape=(256, 256, 256), mode=2)
    _, report = scan_json(run_cli, tmp_path / "ds", tmp_path / "e.xml")
    found = {d: s["category"] for d, s in sets(report).items()}
    assert found == {"/data/session1": MULTIFRAME, "/data/maps": "reconstructed volumes"}


@pytest.mark.parametrize(("code", "warned"), [("T2", False), ("T7", True)])
def test_metadata_category_wins_and_is_questioned_only_when_it_contradicts(
        tmp_path, run_cli, code, warned):
    root = layouts.epu_mrc(tmp_path / "epu")
    meta = write_meta(tmp_path / "m.json", [{"directory": "/data/Images-Disc1",
                                             "category": f"('{code}', '')"}])
    _, report = scan_json(run_cli, root, tmp_path / "e.xml", "--metadata", meta)
    assert ("M110" in rules(report)) is warned
    [s] = report["image_sets"]
    assert s["category_evidence"][0] == "given in the metadata"
