"""Grouping files into image sets, on synthetic records (no files needed unless stated)."""

from __future__ import annotations

import fnmatch
import os
import time

import pytest

from empiar_validate.findings import Finding
from empiar_validate.formats import F_NOT_PRESENT
from empiar_validate.model import VARIABLE
from empiar_validate.records import FileRecord
from empiar_validate.scan import category as cat
from empiar_validate.scan.companions import (
    annex_size,
    dvc_placeholders,
    read_companions,
    read_tilt_info,
)
from empiar_validate.scan.globs import glob_match
from empiar_validate.scan.group import group_records
from empiar_validate.scan.patterns import file_pattern
from empiar_validate.scan.values import dataset_size, format_decimal, summarize


def movie(path: str, frames: int = 40, w: int = 5760, h: int = 4092, fmt: str = "TIFF",
          voxel: str = "UNSIGNED BYTE", px: float | None = 0.83) -> FileRecord:
    return FileRecord(path, format=fmt, header_format=fmt, voxel_type=voxel, width=w, height=h,
                      depth=frames, pixel_width=px, pixel_height=px, layout="stack", size=100)


def image(path: str, w: int = 4096, h: int = 4096, voxel: str = "32 BIT FLOAT",
          fmt: str = "MRC", px: float | None = 0.83) -> FileRecord:
    return FileRecord(path, format=fmt, header_format=fmt, voxel_type=voxel, width=w, height=h,
                      depth=1, pixel_width=px, pixel_height=px, layout="image", size=100)


def stack(path: str, n: int, box: int = 256, fmt: str = "MRCS") -> FileRecord:
    return FileRecord(path, format=fmt, header_format=fmt, voxel_type="32 BIT FLOAT", width=box,
                      height=box, depth=n, pixel_width=1.06, pixel_height=1.06, layout="stack",
                      size=100)


def volume(path: str, n: int = 100) -> FileRecord:
    return FileRecord(path, format="MRC", header_format="MRC", voxel_type="32 BIT FLOAT", width=n,
                      height=n, depth=n, pixel_width=1.06, pixel_height=1.06, layout="volume",
                      size=100)


def group(records, tmp_path, **kw):
    read_companions(str(tmp_path), records)  # the read stage parses companions once
    return group_records(records, **kw)


def rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def test_movies_with_named_gain_reference(tmp_path):
    recs = [movie(f"movies/FoilHole_{i}_fractions.tiff") for i in range(3)]
    recs.append(image("movies/CountRef_gain.mrc", 5760, 4092))
    g = group(recs, tmp_path)
    [s] = g.image_sets
    assert (s.category, s.num_images_or_tilt_series, s.frames_per_image) == (
        cat.MOVIES, 3, 40)
    assert s.companions == ["movies/CountRef_gain.mrc"]
    assert s.micrographs_file_pattern == "data/movies/*.tiff"
    assert rules(g.findings) == ["G107"]


def test_unnamed_float_image_beside_movies_is_a_gain_reference_in_either_orientation(tmp_path):
    recs = [movie(f"m/a{i}.tiff") for i in range(3)] + [image("m/ref.mrc", 4092, 5760)]
    [s] = group(recs, tmp_path).image_sets
    assert s.num_images_or_tilt_series == 3 and s.companions == ["m/ref.mrc"]


def test_gain_in_same_format_gets_a_tighter_pattern(tmp_path):
    recs = [movie(f"movies/FoilHole_{i}_Data_fractions.tiff") for i in range(10, 13)]
    recs.append(FileRecord("movies/gain.tiff", format="TIFF", header_format="TIFF",
                           voxel_type="32 BIT FLOAT", width=5760, height=4092, depth=1,
                           layout="image", size=10))
    [s] = group(recs, tmp_path).image_sets
    assert s.micrographs_file_pattern == "data/movies/FoilHole_*_Data_fractions.tiff"


def test_gain_only_directory_is_its_own_set(tmp_path):
    recs = [movie(f"movies/{i}.tiff") for i in range(2)] + [image("gain/gain.mrc")]
    g = group(recs, tmp_path)
    gain = next(s for s in g.image_sets if s.rel_dir == "gain")
    assert gain.category == cat.SINGLE and "Gain reference" in gain.details
    assert gain.name == "Gain reference (gain)"


def test_mixed_kinds_are_flagged_and_the_set_describes_the_largest(tmp_path):
    recs = [movie(f"movies/{i}.tiff") for i in range(5)]
    recs += [image("movies/average.mrc", 2000, 2000), image("movies/other.mrc", 2000, 2000)]
    g = group(recs, tmp_path)
    [s] = g.image_sets
    assert (s.data_format, s.num_images_or_tilt_series) == ("TIFF", 5)
    [f] = [f for f in g.findings if f.rule == "G104"]
    assert f.severity == "error" and "average.mrc" in f.message and "MRC 32 BIT FLOAT" in f.message


def test_frame_outliers_are_counted_and_flagged(tmp_path):
    recs = [movie(f"movies/{i:02d}.tiff") for i in range(9)] + [movie("movies/short.tiff", 38)]
    g = group(recs, tmp_path)
    [s] = g.image_sets
    assert (s.num_images_or_tilt_series, s.frames_per_image) == (10, 40)
    [f] = [f for f in g.findings if f.rule == "G103"]
    assert (f.expected, f.actual, f.severity) == ("40", "38", "error")
    assert "short.tiff" in f.message


def test_differing_sizes_become_variable_with_warnings(tmp_path):
    recs = [image("mics/a.mrc", 4096, 4096, px=1.0), image("mics/b.mrc", 3838, 3710, px=1.2)]
    g = group(recs, tmp_path)
    [s] = g.image_sets
    assert (s.image_width, s.image_height, s.pixel_width) == (VARIABLE, VARIABLE, VARIABLE)
    assert rules(g.findings) == ["G101", "G101", "G102"]


def test_particle_stacks_count_particles(tmp_path):
    recs = [stack("Extract/job012/a.mrcs", 120), stack("Extract/job012/b.mrcs", 80)]
    [s] = group(recs, tmp_path).image_sets
    assert (s.category, s.num_images_or_tilt_series, s.frames_per_image) == (
        cat.PARTICLES, 200, 1)
    assert s.micrographs_file_pattern is None


def test_class_averages_by_name_and_volumes_by_layout(tmp_path):
    recs = [stack("class2d/run_it025_classes.mrcs", 50), volume("maps/run_class001.mrc"),
            volume("maps/run_class002.mrc")]
    sets = {s.rel_dir: s for s in group(recs, tmp_path).image_sets}
    assert sets["class2d"].category == cat.CLASSES
    assert sets["class2d"].num_images_or_tilt_series == 50
    assert sets["maps"].category == cat.VOLUMES
    assert (sets["maps"].num_images_or_tilt_series, sets["maps"].frames_per_image) == (2, 100)


def test_file_categories():
    assert cat.file_category(movie("x/a.eer", fmt="EER")) == cat.MOVIES
    assert cat.file_category(stack("x/a.mrcs", 300)) == cat.PARTICLES  # small square stack
    assert cat.file_category(stack("x/a.mrcs", 40, box=4096)) == cat.MOVIES
    assert cat.file_category(stack("tomo/TS_03.st", 41, box=2048, fmt="MRC")) == cat.TILT
    assert cat.file_category(volume("sub/subtomo_001.mrc")) == cat.SUBTOMOGRAMS
    assert cat.file_category(image("x/a.mrc")) == cat.SINGLE


def test_tilt_series_stacks_count_series_and_check_companions(tmp_path):
    (tmp_path / "tomo").mkdir()
    (tmp_path / "tomo" / "TS_01.rawtlt").write_text("-3\n0\n3\n", encoding="utf-8")
    recs = [stack("tomo/TS_01.mrc", 41, 2048, "MRC"), stack("tomo/TS_02.mrc", 41, 2048, "MRC"),
            FileRecord("tomo/TS_01.rawtlt")]
    g = group(recs, tmp_path)
    [s] = g.image_sets
    assert (s.category, s.num_images_or_tilt_series, s.frames_per_image) == (cat.TILT, 2, 41)
    [f] = [f for f in g.findings if f.rule == "G106"]
    assert (f.expected, f.actual) == ("3", "41")


def test_tilts_stored_one_file_each_count_mdoc_series(tmp_path):
    (tmp_path / "frames").mkdir()
    for series in ("TS_1", "TS_2"):
        (tmp_path / "frames" / f"{series}.mdoc").write_text(
            "".join(f"[ZValue = {z}]\nSubFramePath = X:\\\\data\\\\{series}_{z:03d}.tif\n\n"
                    for z in range(3)), encoding="utf-8")
    recs = [movie(f"frames/{s}_{z:03d}.tif", 8) for s in ("TS_1", "TS_2") for z in range(3)]
    recs += [FileRecord("frames/TS_1.mdoc"), FileRecord("frames/TS_2.mdoc")]
    assert read_tilt_info(str(tmp_path / "frames" / "TS_1.mdoc")).tilts == 3
    [s] = group(recs, tmp_path).image_sets
    assert (s.category, s.num_images_or_tilt_series, s.frames_per_image) == (cat.TILT, 2, 8)


def test_sibling_directories_of_one_kind_merge(tmp_path):
    recs = [movie(f"movies/GridSquare_{g}/Data/FoilHole_{i}_fractions.tiff")
            for g in (1, 2) for i in range(2)]
    g = group(recs, tmp_path)
    [s] = g.image_sets
    assert s.directory == "/data/movies" and s.num_images_or_tilt_series == 4
    assert s.micrographs_file_pattern == "data/movies/*/Data/*.tiff"
    assert rules(g.findings) == ["G110"]


def test_different_siblings_and_the_root_never_merge(tmp_path):
    recs = [movie("a/1.tiff"), movie("a/2.tiff"), movie("b/1.tiff", 30), movie("b/2.tiff", 30)]
    assert len(group(recs, tmp_path).image_sets) == 2
    recs = [movie("s1/1.tiff"), movie("s2/1.tiff")]  # same kind, but their parent is the root
    assert len(group(recs, tmp_path).image_sets) == 2


def test_metadata_directories_anchor_the_grouping(tmp_path):
    recs = [movie(f"session/GridSquare_{g}/{i}.tiff") for g in (1, 2) for i in range(2)]
    recs += [movie("session/GridSquare_3/x.tiff", 20)]  # would block a plain merge
    g = group(recs, tmp_path, anchors={"session": cat.MOVIES})
    [s] = g.image_sets
    assert s.directory == "/data/session" and s.num_images_or_tilt_series == 5
    assert [f.rule for f in g.findings] == ["G103"]


def test_root_files_no_images_and_uncovered(tmp_path):
    g = group([movie("a.tiff"), movie("b.tiff"), FileRecord("README.md")], tmp_path)
    [s] = g.image_sets  # files directly in the data directory: the set is /data itself
    assert s.directory == "/data" and s.num_images_or_tilt_series == 2
    assert rules(g.findings) == []
    g = group([FileRecord("README.md"), FileRecord("docs/x.txt")], tmp_path)
    assert not g.image_sets and g.uncovered == ["README.md", "docs/x.txt"]
    assert rules(g.findings) == ["G111", "G111", "G113"]


def test_absent_content_is_counted_by_name(tmp_path):
    absent = FileRecord("movies/c.tiff", problems=[Finding.of(F_NOT_PRESENT, "absent")])
    g = group([movie("movies/a.tiff"), movie("movies/b.tiff"), absent], tmp_path)
    [s] = g.image_sets
    assert s.num_images_or_tilt_series == 3 and s.frames_per_image == 40
    [f] = [f for f in g.findings if f.rule == "G105"]
    assert f.severity == "warning" and "content not present" in f.message
    particles = [stack("particles/a.mrcs", 10),
                 FileRecord("particles/b.mrcs", problems=[Finding.of(F_NOT_PRESENT, "absent")])]
    [s] = group(particles, tmp_path).image_sets
    assert s.num_images_or_tilt_series is None  # unknown, never a partial count


def test_dvc_pointers_and_annex_links(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.mrc.dvc").write_text(
        "outs:\n- md5: abc\n  size: 1234\n  path: a.mrc\n- md5: d.dir\n  path: sub\n"
        "- path: ../../etc/passwd\n", encoding="utf-8")
    (tmp_path / "m" / "bad.dvc").write_text("outs: [\n", encoding="utf-8")
    records = [FileRecord("m/a.mrc.dvc"), FileRecord("m/bad.dvc")]
    placeholders, findings = dvc_placeholders(str(tmp_path), records, lambda r: "D/" + r)
    [p] = placeholders
    assert (p.path, p.size, p.format, p.problems[0].rule) == ("m/a.mrc", 1234, None, "F008")
    assert p.problems[0].file == "D/m/a.mrc"
    assert rules(findings) == ["G108", "G108", "G109"]
    os.symlink("../.git/annex/objects/pX/Q1/SHA256E-s987654--beef.mrc/SHA256E-s987654--beef.mrc",
               tmp_path / "m" / "b.mrc")
    assert annex_size(str(tmp_path / "m" / "b.mrc")) == 987654


@pytest.mark.parametrize(("names", "others", "expected"), [
    (["a_1.tiff", "a_2.tiff"], ["gain.mrc"], "data/d/*.tiff"),
    (["FoilHole_1_fractions.tiff", "FoilHole_22_fractions.tiff"], ["gain.tiff"],
     "data/d/FoilHole_*_fractions.tiff"),
    (["x[1].mrc"], ["y.mrc"], "data/d/x[[]1].mrc"),
    (["a.mrc", "b.mrc"], ["ab.mrc"], None),
])
def test_file_patterns(names, others, expected):
    got = file_pattern("d", [f"d/{n}" for n in names], [f"d/{o}" for o in others])
    assert got == expected
    if got:
        assert all(glob_match(got, f"data/d/{n}") for n in names)
        assert not any(glob_match(got, f"data/d/{o}") for o in others)


def test_glob_stars_do_not_cross_directories():
    assert glob_match("data/m/*.tiff", "data/m/a.tiff")
    assert not glob_match("data/m/*.tiff", "data/m/sub/a.tiff")
    assert glob_match("data/*/x?.mrc", "data/q/x1.mrc")


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("a*b*c*", "aXbYcZ", True), ("*a*a*a*", "aa", False), ("*[!a]*x*y", "bxy", True),
    ("*.t*i*q", "x.tiff", False), ("*.t*i*f", "x.tiff", True), ("*?*?*?*", "ab", False),
    ("*x[[]1]*z", "ax[1]bz", True),
])
def test_many_star_globs_use_the_linear_matcher_with_the_same_answers(pattern, name, expected):
    assert glob_match(pattern, name) is expected
    assert fnmatch.fnmatchcase(name, pattern) is expected


def test_hostile_glob_from_an_xml_cannot_hang():
    start = time.perf_counter()
    assert not glob_match("data/" + "*a" * 500 + "b", "data/" + "a" * 250)
    assert time.perf_counter() - start < 5  # hang guard only (quadratic would take minutes)


def test_number_formatting_and_dataset_size():
    assert format_decimal(1.0600000619888306) == "1.06"
    assert format_decimal(0.00001) == "0.00001"
    assert format_decimal(4000.0) == "4000"
    assert dataset_size(1_900_000_000_000) == ("1.9", "TB")
    assert dataset_size(812_400_000_000) == ("812", "GB")
    assert dataset_size(1_234_567) == ("1.23", "MB")
    assert dataset_size(10) == ("0.00001", "MB")


def test_summary_majority_and_outliers():
    recs = [movie("a", voxel="UNSIGNED BYTE"), movie("b", voxel="UNSIGNED BYTE"),
            movie("c", voxel="SIGNED BYTE")]
    s = summarize(cat.MOVIES, recs)
    assert s.voxel_type == "UNSIGNED BYTE" and s.outliers == {"voxelType": {"SIGNED BYTE": ["c"]}}


def test_gain_beside_epu_grid_squares_does_not_block_the_merge(tmp_path):
    """EPU layout: movies/gain.mrc beside movies/GridSquare_*/Data/*.tiff is one image set."""
    import mrcfile
    import numpy as np
    import tifffile

    from empiar_validate.scan import scan_dataset

    root = tmp_path / "ds"
    for g in (1, 2):
        data = root / "movies" / f"GridSquare_{g}" / "Data"
        data.mkdir(parents=True)
        for i in range(3):
            tifffile.imwrite(data / f"FoilHole_{g}{i}_fractions.tiff",
                             np.zeros((6, 32, 24), np.uint8), photometric="minisblack")
    with mrcfile.new(root / "movies" / "gain.mrc") as mrc:
        mrc.set_data(np.ones((32, 24), np.float32))
    [s] = scan_dataset(str(root), quiet=True).image_sets
    assert (s.directory, s.num_images_or_tilt_series, s.frames_per_image) == ("/data/movies", 6, 6)
    assert s.micrographs_file_pattern == "data/movies/*/Data/*.tiff"
    assert "gain.mrc" in (s.details or "")
