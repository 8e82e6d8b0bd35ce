"""check: the committed XML against the data, on a dataset written by mrcfile and tifffile."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import (
    check,
    errors,
    repository_copy,
    run,
    scanned_repository,
    write_movie,
    write_mrc,
)

MOVIES = "Multi-frame movies of the pilus machine"



@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dataset + committed XML, built once; tests mutate copies."""
    return scanned_repository(tmp_path_factory.mktemp("check"))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return repository_copy(pristine, tmp_path)


def line_of(xml: Path, needle: str, after: str) -> int:
    lines = xml.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def test_unchanged_data_passes(repo):
    code, doc = check(repo)
    assert code == 0, errors(doc)
    assert doc["valid"] is True and doc["xml_valid"] is True
    statuses = {s["directory"]: s["status"] for s in doc["image_sets"]}
    assert set(statuses.values()) == {"checked"} and len(statuses) == 5


def test_removed_movie_fails_naming_the_image_set(repo):
    os.remove(repo / "data" / "movies" / "FoilHole_102_fractions.tiff")
    code, doc = check(repo)
    assert code == 1
    assert doc["valid"] is False and doc["xml_valid"] is True
    [f] = errors(doc)
    assert (f["rule"], f["image_set"], f["field"], f["expected"], f["actual"]) == (
        "C102", MOVIES, "numImagesOrTiltSeries", "3", "2")
    assert f["file"].endswith("entry.xml")
    assert f["line"] == line_of(repo / "entry.xml", "<numImagesOrTiltSeries>", "/data/movies")


def test_changed_frame_count_fails_naming_the_file(repo):
    write_movie(repo / "data" / "movies" / "FoilHole_103_fractions.tiff", frames=5)
    code, doc = check(repo)
    assert code == 1
    [f] = errors(doc)
    assert (f["rule"], f["image_set"], f["field"], f["expected"], f["actual"]) == (
        "C102", MOVIES, "framesPerImage", "6", "5")
    assert "FoilHole_103_fractions.tiff" in f["message"]
    assert f["path"] == "/entry/imageSet[2]/framesPerImage"  # sets sorted by directory


def test_uncovered_directory_is_reported(repo):
    (repo / "data" / "extra").mkdir()
    shutil.copy(repo / "data" / "micrographs" / "FoilHole_101_DW.mrc",
                repo / "data" / "extra" / "stray.mrc")
    (repo / "data" / "README.txt").write_text("notes\n", encoding="utf-8")
    code, doc = check(repo)
    assert code == 1  # an error (docs/ci.md: the drift policy)
    assert {f["rule"] for f in errors(doc)} == {"C117"}
    code, doc = check(repo, "--allow-uncovered")
    assert code == 0  # a warning where work in progress is allowed beside the data
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["C104"]["severity"] == "warning"
    assert by_rule["C104"]["file"].endswith("data/extra")
    assert "stray.mrc" in by_rule["C104"]["message"]
    assert by_rule["C105"]["severity"] == "info"


def test_missing_directory_and_changed_geometry(repo):
    shutil.rmtree(repo / "data" / "volume")
    write_mrc(repo / "data" / "micrographs" / "FoilHole_101_DW.mrc",
              np.zeros((48, 60), dtype=np.float32), 1.1)
    code, doc = check(repo)
    assert code == 1
    got = {(f["rule"], f["field"], f.get("actual")) for f in errors(doc)}
    assert ("C101", "directory", "missing") in got
    assert ("C102", "imageWidth", "60") in got


def test_exit_2_when_dir_or_xml_missing(repo):
    assert run("check", repo / "nope", "--xml", repo / "entry.xml")[0] == 2
    assert run("check", repo / "data", "--xml", repo / "nope.xml")[0] == 2


def test_malformed_xml_is_a_finding(repo):
    (repo / "entry.xml").write_text("<entry xmlns='http://pdbe.org/empiar'><admin>",
                                    encoding="utf-8")
    code, doc = check(repo)
    assert code == 1 and errors(doc)[0]["rule"] == "X001"


def test_ci_formats_name_the_image_set(repo):
    os.remove(repo / "data" / "movies" / "FoilHole_101_fractions.tiff")
    code, out = run("check", repo / "data", "--xml", repo / "entry.xml", "--format", "github",
                    "-q")
    assert code == 1
    assert "::error file=" in out and "title=C102" in out
    assert MOVIES in out and "numImagesOrTiltSeries" in out
    code, out = run("check", repo / "data", "--xml", repo / "entry.xml", "--format", "junit",
                    "-q")
    assert code == 1 and f'name="{MOVIES}"' in out and "<failure" in out


def _annex(path: Path, size: int) -> None:
    """Replace ``path`` by a git-annex link whose object is absent."""
    os.remove(path)
    os.symlink(f"../.git/annex/objects/Xx/Yy/SHA256E-s{size}--0123abcd.tiff/x", path)


def test_content_not_present_is_counted_by_name(repo):
    movies = repo / "data" / "movies"
    _annex(movies / "FoilHole_101_fractions.tiff", 18_000)
    _annex(movies / "FoilHole_102_fractions.tiff", 18_000)
    (movies / "FoilHole_103_fractions.tiff.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 18000\n"
        "  path: FoilHole_103_fractions.tiff\n", encoding="utf-8")
    os.remove(movies / "FoilHole_103_fractions.tiff")
    code, doc = check(repo)
    assert code == 0, errors(doc)
    rules = [f["rule"] for f in doc["findings"]]
    assert rules.count("F008") == 3  # two annex links and one DVC pointer: warnings
    [info] = [f for f in doc["findings"] if f["rule"] == "C106"]
    assert info["image_set"] == MOVIES and info["severity"] == "info"
    # removing one absent movie is still noticed: files are counted by name
    os.remove(movies / "FoilHole_101_fractions.tiff")
    code, doc = check(repo)
    assert code == 1 and errors(doc)[0]["actual"] == "2"


def test_scan_reports_absent_content_as_not_present(repo, tmp_path):
    movies = repo / "data" / "movies"
    for name in ("FoilHole_101_fractions.tiff", "FoilHole_102_fractions.tiff"):
        _annex(movies / name, 18_000)
    code, out = run("scan", repo / "data", "-o", tmp_path / "x.xml", "--format", "json", "-q")
    assert code == 1  # no metadata: required items missing
    doc = json.loads(out)
    absent = [f for f in doc["findings"] if f["rule"] in ("F008", "G105")]
    assert {f["severity"] for f in absent} == {"warning"} and len(absent) == 3
    movies_set = next(s for s in doc["image_sets"] if s["directory"] == "/data/movies")
    assert movies_set["numImagesOrTiltSeries"] == 3 and movies_set["framesPerImage"] == 6


def test_hand_edited_xml_values_are_each_reported(repo):
    xml = (repo / "entry.xml").read_text(encoding="utf-8")
    head, _, tail = xml.rpartition("<pixelWidth>1.1</pixelWidth>")  # the map's
    xml = head + "<pixelWidth>1.3</pixelWidth>" + tail
    edits = {
        "data/particles/particles.star": "data/particles/coords_*.star",
        "<directory>/data/tomo</directory>": "<directory>/tomo</directory>",
        "data/micrographs/*.mrc": "data/micrographs/*_DW.tif",
        "<category>reconstructed volumes</category>": "<category>class averages</category>",
    }
    for old, new in edits.items():
        assert old in xml, old
        xml = xml.replace(old, new, 1)
    xml = re.sub(r'<datasetSize units="MB">[^<]*<', '<datasetSize units="GB">999<', xml)
    (repo / "entry.xml").write_text(xml, encoding="utf-8")
    code, doc = check(repo)
    assert code == 1
    got = {f["rule"]: f for f in doc["findings"]}
    # scan recorded that the map's pixel size came from its header: a different value is an
    # error (C114); without that record it would be the warning C103 (test_check_policy.py)
    assert got["C114"]["severity"] == "error" and got["C114"]["expected"] == "1.3"
    assert got["C109"]["field"] == "pickedParticlesFilePattern"
    assert got["C107"]["severity"] == "error" and got["C107"]["expected"] == "/tomo"
    assert got["C108"]["image_set"] == "Motion-corrected micrographs"
    assert got["C112"]["expected"] == "class averages"
    assert got["C111"]["expected"] == "999 GB"
    assert "S110" in got  # the Schematron agrees the directory is wrong
    # the tilt series' files are now covered by no image set
    assert any(f["rule"] == "C117" and f["file"].endswith("data/tomo")
               for f in doc["findings"])
