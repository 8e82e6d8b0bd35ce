"""Real layouts (tests/layouts.py): the image sets a depositor would write, and check green."""

from __future__ import annotations

import json
from pathlib import Path

import layouts
import numpy as np
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


def test_fib_sem_slices_are_one_volume_and_empiars_counting_is_accepted(tmp_path, run_cli):
    root = layouts.fib_sem(tmp_path / "vem", slices=12, z_nm=10.0)
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    [s] = report["image_sets"]
    assert (s["category"], s["numImagesOrTiltSeries"], s["framesPerImage"]) == (
        "reconstructed volumes", 1, 12)
    assert "z spacing 10 nm" in s["details"] and "z spacing" in " ".join(s["category_evidence"])
    assert check_rules(run_cli, root, xml) == []
    # EMPIAR counted 13192's slices as N images of one frame: check and metadata accept it
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace("<numImagesOrTiltSeries>1<", "<numImagesOrTiltSeries>12<")
                   .replace("<framesPerImage>12<", "<framesPerImage>1<"), encoding="utf-8")
    assert check_rules(run_cli, root, xml) == []
    meta = write_meta(tmp_path / "m.json", [{
        "directory": "/data/fibsem", "category": "('T13', '')", "num_images_or_tilt_series": 12,
        "frames_per_image": 1}])
    _, report = scan_json(run_cli, root, tmp_path / "e2.xml", "--metadata", meta)
    assert not {"M106", "M110"} & set(rules(report))
    [s] = report["image_sets"]
    assert (s["numImagesOrTiltSeries"], s["framesPerImage"]) == (12, 1)


def test_numbered_micrographs_without_volume_evidence_stay_micrographs(tmp_path, run_cli):
    for i in range(10):
        layouts.mrc_image(tmp_path / "ds" / "mics" / f"mic_{i:03d}.mrc",
                          np.zeros((16, 16), np.float32))
    _, report = scan_json(run_cli, tmp_path / "ds", tmp_path / "e.xml")
    [s] = report["image_sets"]
    assert (s["category"], s["numImagesOrTiltSeries"]) == ("micrographs - single frame", 10)


def test_tilt_series_of_different_lengths_are_written_not_refused(tmp_path, run_cli):
    root = layouts.serialem_stacks(tmp_path / "et", tilts=(41, 37, 35))
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    [s] = report["image_sets"]
    assert (s["category"], s["numImagesOrTiltSeries"], s["framesPerImage"]) == (
        "tilt series", 3, 41)
    assert "35 to 41 tilts" in s["details"]
    assert "G116" in rules(report) and "G103" not in rules(report)
    assert check_rules(run_cli, root, xml) == []
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace("<framesPerImage>41<", "<framesPerImage>37<"), encoding="utf-8")
    assert check_rules(run_cli, root, xml) == []  # any count the series span
    xml.write_text(text.replace("<framesPerImage>41<", "<framesPerImage>50<"), encoding="utf-8")
    assert "C102" in check_rules(run_cli, root, xml)


def test_serialem_per_tilt_frame_movies_count_the_series_the_mdocs_name(tmp_path, run_cli):
    root = layouts.serialem_tomo(tmp_path / "et", tilts=(5, 7, 6, 5))
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    [s] = report["image_sets"]
    assert (s["category"], s["numImagesOrTiltSeries"], s["framesPerImage"], s["files"]) == (
        "tilt series", 4, 10, 23)
    assert check_rules(run_cli, root, xml) == []


def test_relion_project_by_products_left_out_once_and_particles_get_their_star(
        tmp_path, run_cli):
    root = layouts.relion(tmp_path / "relion")
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    found = sets(report)
    assert sorted(found) == ["/data/Extract/job007/Movies", "/data/MotionCorr/job002/Movies",
                             "/data/Movies"]
    assert [f["rule"] for f in report["findings"]].count("G117") == 1
    assert "S122" not in rules(report)  # scan's own output passes its own Schematron
    particles = found["/data/Extract/job007/Movies"]
    # the STAR file above the stacks is no pattern (a pattern starts with the set's directory,
    # S122): it is a file outside every image set, as in check (C105)
    assert not particles["pickedParticlesFilePattern"]
    assert "G111" in rules(report)
    assert particles["numImagesOrTiltSeries"] == 15
    assert found["/data/Movies"]["category"] == MULTIFRAME
    assert check_rules(run_cli, root, xml) == ["C105"]
    # a STAR file inside the stacks' directory is their pattern
    star = root / "Extract" / "job007" / "particles.star"
    star.rename(root / "Extract" / "job007" / "Movies" / "particles.star")
    _, report = scan_json(run_cli, root, tmp_path / "e1.xml")
    assert sets(report)["/data/Extract/job007/Movies"]["pickedParticlesFilePattern"] == (
        "data/Extract/job007/Movies/particles.star")
    assert not {"S122", "G111"} & set(rules(report))
    assert check_rules(run_cli, root, tmp_path / "e1.xml") == []
    # naming the by-products' directory in the metadata includes them
    meta = write_meta(tmp_path / "m.json", [{"directory": "/data/CtfFind/job003/Movies"}])
    _, report = scan_json(run_cli, root, tmp_path / "e2.xml", "--metadata", meta)
    assert "/data/CtfFind/job003/Movies" in sets(report) and "G117" not in rules(report)


def test_entry_root_and_its_data_directory_give_the_same_xml_and_check_is_green(
        tmp_path, run_cli):
    entry = layouts.entry_root(tmp_path)  # EMPIAR-10999/data/...
    layouts.relion(entry / "data")
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    _, report = scan_json(run_cli, entry, a)
    scan_json(run_cli, entry / "data", b)
    assert a.read_bytes() == b.read_bytes()
    assert "/data/data" not in a.read_text(encoding="utf-8") and "G118" in rules(report)
    header = entry / "EMPIAR-10999.xml"  # the header EMPIAR publishes beside data/
    header.write_bytes(a.read_bytes())
    # infos: the entry root is seen; particles.star lies above the stacks' directory
    assert check_rules(run_cli, entry, header) == ["C105", "G118"]


def test_a_directory_matching_nothing_names_the_one_that_does_and_nothing_cascades(
        tmp_path, run_cli):
    root = layouts.relion(tmp_path / "relion")
    meta = write_meta(tmp_path / "m.json", [{"directory": "/data/movies",
                                             "category": "('T2', '')", "pixel_width": 0.83,
                                             "pixel_height": 0.83}])
    _, report = scan_json(run_cli, root, tmp_path / "e.xml", "--metadata", meta)
    [mismatch] = [f for f in report["findings"] if f["rule"] == "M108"]
    assert "'/data/Movies' does (the case differs)" in mismatch["message"]
    about_movies = [f for f in report["findings"] if f["rule"] in ("M104", "M109")
                    and f.get("image_set") in ("/data/movies", "Micrographs - multiframe (Movies)")]
    assert about_movies == []  # the missing pixel size only follows from the mismatch


def _xmipp_spider_stack(path: Path, n: int = 5, size: int = 32) -> Path:
    """A SPIDER stack as Xmipp writes it (``.stk``): an overall header with ISTACK 2 and
    MAXIM n, then each image with its own header (IMGNUM 1..n), little-endian float32."""
    lenbyt = size * 4
    labrec = -(-1024 // lenbyt)
    labbyt = labrec * lenbyt

    def header(istack: int, maxim: int, imgnum: int) -> bytes:
        h = np.zeros(labbyt // 4, np.float32)
        h[[0, 1, 2, 4, 11, 12, 20, 21, 22, 23, 25, 26]] = (
            1, size, labrec + size, 1, size, labrec, 1, labbyt, lenbyt, istack, maxim, imgnum)
        return h.tobytes()

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(header(2, n, 0))
        for i in range(n):
            fh.write(header(0, 0, i + 1) + np.zeros((size, size), np.float32).tobytes())
    return path


def test_inspect_names_files_as_typed_and_gives_every_named_file_a_record(
        tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for d in ("a", "b"):
        layouts.mrc_image(tmp_path / d / "map.mrc", np.zeros((8, 8), np.float32))
    _xmipp_spider_stack(tmp_path / "c" / "images.stk")
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    _, out, _ = run_cli("inspect", "a", "b", "c", "notes.txt", "--format", "json")
    paths = [f["path"] for f in json.loads(out)["files"]]
    assert paths == ["a/map.mrc", "b/map.mrc", "c/images.stk", "notes.txt"]
    stk = json.loads(out)["files"][2]
    assert (stk["format"], stk["depth"], stk["layout"]) == ("SPIDER", 5, "stack")
    _, text, _ = run_cli("inspect", "a", "b", "c", "notes.txt")
    assert "a/map.mrc:" in text and "b/map.mrc:" in text and "c/images.stk: SPIDER" in text
    assert "notes.txt: not an image file" in text
    absolute = str(tmp_path / "a")
    _, out, _ = run_cli("inspect", absolute, "--format", "json")
    assert [f["path"] for f in json.loads(out)["files"]] == [f"{absolute}/map.mrc"]


def test_bigdataviewer_pair_is_one_volume_and_check_is_green(tmp_path, run_cli):
    root = layouts.bdv(tmp_path / "lsm")
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    [s] = report["image_sets"]
    assert (s["category"], s["headerFormat"], s["dataFormat"], s["numImagesOrTiltSeries"],
            s["framesPerImage"], s["imageWidth"], s["imageHeight"]) == (
        "reconstructed volumes", "XML", "BIG DATA VIEWER HDF5", 1, 16, 32, 32)
    assert check_rules(run_cli, root, xml) == []


def test_a_misspelt_directory_is_one_m108_naming_the_right_one_and_exits_1(tmp_path, run_cli):
    root = layouts.relion(tmp_path / "relion")
    meta = write_meta(tmp_path / "m.json", [{"directory": "/data/movis",
                                             "category": "('T2', '')"}])
    code, report = scan_json(run_cli, root, tmp_path / "e.xml", "--metadata", meta)
    assert code == 1  # the typo is still an error
    # the entry-level M104s (title, authors: this metadata gives none) are not about the typo
    errors = [f for f in report["findings"] if f["severity"] == "error"
              and (f["rule"] != "M104" or f.get("image_set"))]
    assert [f["rule"] for f in errors] == ["M108"]  # nothing that only follows from the typo
    assert "'/data/Movies' does (the spelling differs)" in errors[0]["message"]


def test_power_spectra_beside_the_micrographs_are_left_out_by_check_as_by_scan(
        tmp_path, run_cli):
    root = tmp_path / "relion"
    for i in range(2):  # CTFFIND run in place: mov_0_PS.mrc beside mov_0.mrc
        layouts.mrc_image(root / "MotionCorr" / "job002" / "Movies" / f"mov_{i}.mrc",
                          np.zeros((64, 64), np.float32))
        layouts.mrc_image(root / "MotionCorr" / "job002" / "Movies" / f"mov_{i}_PS.mrc",
                          np.zeros((32, 32), np.float32))
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, root, xml)
    [s] = report["image_sets"]
    assert s["numImagesOrTiltSeries"] == 2 and "G117" in rules(report)
    assert check_rules(run_cli, root, xml) == []  # was C102 (4 images on disk), imageWidth...


def test_a_truncated_mrc_among_movies_is_reported_once_by_its_own_error(tmp_path, run_cli):
    movies = tmp_path / "ds" / "movies"
    for i in range(3):
        layouts.mrc_movie(movies / f"m{i}.mrc", shape=(10, 64, 64), mode=0)
    (movies / "trunc.mrc").write_bytes((movies / "m0.mrc").read_bytes()[:500])
    xml = tmp_path / "e.xml"
    _, report = scan_json(run_cli, tmp_path / "ds", xml)
    [s] = report["image_sets"]
    assert s["numImagesOrTiltSeries"] == 3
    assert [r for r in rules(report) if r[0] in "FG" and r not in ("G107",)] == ["F100"]
    assert [r for r in check_rules(run_cli, tmp_path / "ds", xml) if r[0] in "CG"] == []
