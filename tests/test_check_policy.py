"""check's drift policy: strict on what scan derived from the files, lenient on what was typed.

Each drift of docs/ci.md's table is made on a copy of a dataset written by mrcfile and tifffile:
``check`` must exit 1 with a finding naming the image set and the file; unchanged data, touched
timestamps and new sidecars stay green.
"""

from __future__ import annotations

import os
import re
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
MICROGRAPHS = "Motion-corrected micrographs"



@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scanned_repository(tmp_path_factory.mktemp("policy"))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return repository_copy(pristine, tmp_path)


def the_error(doc: dict) -> dict:
    [f] = errors(doc)
    return f


def image_set_name(doc: dict, directory: str) -> str:
    return next(s["name"] for s in doc["image_sets"] if s["directory"] == directory)


def test_scan_records_provenance_and_stays_valid_and_deterministic(pristine, tmp_path):
    xml = (pristine / "entry.xml").read_text(encoding="utf-8")
    pis = re.findall(r"<\?empiar-validate ([^?]*)\?>", xml)
    assert len(pis) == xml.count("<imageSet>") > 0
    assert any("pixelWidth" in p and 'layouts="stack"' in p for p in pis)
    code, out = run("validate", pristine / "entry.xml", "--format", "json")
    assert code == 0, out
    run("scan", pristine / "data", "--metadata", pristine / "metadata.json", "-o",
        tmp_path / "again.xml", "-q")
    assert (tmp_path / "again.xml").read_bytes() == (pristine / "entry.xml").read_bytes()


def test_green_on_unchanged_touched_and_new_sidecars(repo):
    code, doc = check(repo)
    assert code == 0
    movies = next(s for s in doc["image_sets"] if s["name"] == MOVIES)
    assert "framesPerImage" in movies["derived_from_files"]  # the report says which is which
    for p in (repo / "data").rglob("*"):
        os.utime(p, (1_000_000_000, 1_000_000_000))  # touched timestamps
    movies = repo / "data" / "movies"
    (movies / "FoilHole_101_fractions.xml").write_text("<MicroscopeImage/>\n")  # EPU sidecar
    (movies / "FoilHole_101_fractions.jpg").write_bytes(b"\xff\xd8\xff\xe0thumbnail")
    (movies / "FoilHole_101_fractions.tiff.mdoc").write_text("PixelSpacing = 0.55\n")
    (repo / "data" / "micrographs" / "ctf.star").write_text("data_\n")
    code, doc = check(repo)
    assert code == 0, errors(doc)


def test_count_change_is_an_error(repo):
    os.remove(repo / "data" / "movies" / "FoilHole_102_fractions.tiff")
    code, doc = check(repo)
    f = the_error(doc)
    assert code == 1 and (f["rule"], f["image_set"], f["field"]) == (
        "C102", MOVIES, "numImagesOrTiltSeries")


def test_frames_width_height_voxel_type_changes_name_the_file(repo):
    write_movie(repo / "data" / "movies" / "FoilHole_103_fractions.tiff", frames=4)
    write_mrc(repo / "data" / "micrographs" / "FoilHole_101_DW.mrc",
              np.zeros((40, 64), dtype=np.int16), 1.1)
    code, doc = check(repo)
    assert code == 1
    got = {(f["image_set"], f["field"]): f["message"] for f in errors(doc)}
    assert "FoilHole_103_fractions.tiff" in got[(MOVIES, "framesPerImage")]
    assert "FoilHole_101_DW.mrc" in got[(MICROGRAPHS, "imageHeight")]
    assert "FoilHole_101_DW.mrc" in got[(MICROGRAPHS, "voxelType")]


def test_format_change_is_an_error(repo):
    import tifffile

    # the micrograph rewritten as a TIFF under its old name
    path = repo / "data" / "micrographs" / "FoilHole_101_DW.mrc"
    tifffile.imwrite(path, np.zeros((48, 64), dtype=np.float32))
    code, doc = check(repo)
    assert code == 1
    fields = {f.get("field"): f for f in errors(doc) if f.get("image_set") == MICROGRAPHS}
    assert "FoilHole_101_DW.mrc" in fields["dataFormat"]["message"]
    assert fields["dataFormat"]["actual"] == "TIFF"


def test_header_pixel_size_change_is_an_error_when_scan_derived_it(repo):
    path = repo / "data" / "volume" / "map.mrc"
    write_mrc(path, np.zeros((16, 16, 16), dtype=np.float32), 1.4, volume=True)
    code, doc = check(repo)
    assert code == 1
    bad = [f for f in errors(doc) if f["rule"] == "C114"]
    assert {f["field"] for f in bad} == {"pixelWidth", "pixelHeight"}
    assert all("map.mrc" in f["message"] and f["image_set"] for f in bad)


def test_without_the_record_a_pixel_size_difference_stays_a_warning(repo):
    xml = repo / "entry.xml"
    xml.write_text(re.sub(r"<\?empiar-validate [^?]*\?>\s*", "", xml.read_text()),
                   encoding="utf-8")
    write_mrc(repo / "data" / "volume" / "map.mrc", np.zeros((16, 16, 16), dtype=np.float32),
              1.4, volume=True)
    code, doc = check(repo)
    assert code == 0, errors(doc)
    assert {f["severity"] for f in doc["findings"] if f["rule"] == "C103"} == {"warning"}


def test_layout_change_is_an_error(repo):
    # the map rewritten as an image stack (MRC space group 0 instead of 1)
    write_mrc(repo / "data" / "volume" / "map.mrc", np.zeros((16, 16, 16), dtype=np.float32),
              1.1)
    code, doc = check(repo)
    assert code == 1
    [f] = [f for f in errors(doc) if f["rule"] == "C115"]
    assert "map.mrc" in f["message"] and f["actual"] == "stack" and f["image_set"]


def test_uncovered_images_are_an_error_unless_allowed(repo):
    session = repo / "data" / "session2" / "movies"
    session.mkdir(parents=True)
    write_movie(session / "FoilHole_900_fractions.tiff")
    code, doc = check(repo)
    f = the_error(doc)
    assert code == 1 and f["rule"] == "C117" and "FoilHole_900_fractions.tiff" in f["message"]
    assert f["file"].endswith("data/session2/movies")
    code, doc = check(repo, "--allow-uncovered")
    assert code == 0
    assert [f["severity"] for f in doc["findings"] if f["rule"] == "C104"] == ["warning"]


def test_same_header_different_size_is_content_changed(repo):
    movie = repo / "data" / "movies" / "FoilHole_102_fractions.tiff"
    with open(movie, "ab") as fh:
        fh.write(b"\0" * 512)  # appended after the last frame: every header value unchanged
    code, doc = check(repo)
    f = the_error(doc)
    assert code == 1 and f["rule"] == "C116" and f["image_set"] == MOVIES
    assert "FoilHole_102_fractions.tiff" in f["message"]


def test_a_truncated_file_is_its_own_error_not_also_c116(repo):
    movie = repo / "data" / "movies" / "FoilHole_102_fractions.tiff"
    data = movie.read_bytes()
    movie.write_bytes(data[: len(data) * 3 // 4])  # cut short: the reader reports it (F2xx)
    code, doc = check(repo)
    assert code == 1
    own = [f for f in errors(doc) if f["rule"].startswith("F")]
    assert own and all("FoilHole_102_fractions.tiff" in f["file"] for f in own)
    assert [f for f in doc["findings"] if f["rule"] == "C116"] == []
