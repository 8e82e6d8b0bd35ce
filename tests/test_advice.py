"""Layout advice (names, empty files, links, size, hidden files) and the FAQ's content advice."""

from __future__ import annotations

import os

import pytest

from empiar_validate.model import ImageSet
from empiar_validate.package.advice import (
    HTTP_TARBALL_LIMIT,
    P_EMPTY,
    P_GAIN_ORIENTATION,
    P_HIDDEN,
    P_LARGE,
    P_LINK_OUTSIDE,
    P_NO_GAIN,
    P_NO_MOVIES,
    P_NO_PARTICLES,
    P_NO_STAR,
    P_UNPRINTABLE_NAME,
    P_UNSAFE_NAME,
    deposition_advice,
    is_gain_reference,
    layout_advice,
    name_problem,
)
from empiar_validate.package.inventory import inventory


def touch(root, rel: str | bytes, data: bytes = b"x") -> None:
    path = os.path.join(os.fsencode(root), os.fsencode(rel))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def advice(root) -> list[tuple[str, str | None]]:
    return sorted((f.rule, f.file) for f in layout_advice(str(root), inventory(str(root))))


@pytest.mark.parametrize(("name", "rule"), [
    ("movie_001.tif", None), ("a-b.c_d.mrc", None),
    ("with space.mrc", P_UNSAFE_NAME), ("x(1).mrc", P_UNSAFE_NAME), ("café.mrc", P_UNSAFE_NAME),
    ("a\nb", P_UNPRINTABLE_NAME), ("a\tb", P_UNPRINTABLE_NAME),
    (os.fsdecode(b"bad\xffname"), P_UNPRINTABLE_NAME),
])
def test_name_rules(name, rule):
    found = name_problem(name)
    assert (found[0] if found else None) == rule


def test_layout_findings_one_per_name(tmp_path):
    root = tmp_path / "data"
    touch(root, "good/movie_001.tif")
    touch(root, "my movies/a.tif")
    touch(root, "my movies/b c.tif")
    touch(root, "my movies/d.tif")
    touch(root, b"raw/\xffbad.mrc")
    touch(root, "raw/empty.mrc", b"")
    assert advice(root) == [
        (P_UNSAFE_NAME.id, "my movies"),  # the directory once, not once per file
        (P_UNSAFE_NAME.id, "my movies/b c.tif"),
        (P_UNPRINTABLE_NAME.id, "raw/\\xffbad.mrc"),
        (P_EMPTY.id, "raw/empty.mrc"),
    ]
    messages = {f.file: f.message for f in layout_advice(str(root), inventory(str(root)))}
    assert messages["my movies/b c.tif"] == (
        "name has characters outside A-Z a-z 0-9 . _ - (space)")  # the path is in file=
    assert messages["raw/\\xffbad.mrc"] == "name is not valid UTF-8"


def test_links_leaving_the_dataset_are_reported_once(tmp_path):
    outside = tmp_path / "elsewhere"
    touch(outside, "a.mrc")
    touch(outside, "b.mrc")
    root = tmp_path / "data"
    touch(root, "inside.mrc")
    os.symlink(outside, root / "linked_dir")
    os.symlink(outside / "a.mrc", root / "linked_file.mrc")
    os.symlink(root / "inside.mrc", root / "internal_link.mrc")
    found = [f for f in layout_advice(str(root), inventory(str(root)))
             if f.rule == P_LINK_OUTSIDE.id]
    assert sorted((f.file, f.message) for f in found) == [
        ("linked_dir", f"link to {outside}"), ("linked_file.mrc", f"link to {outside / 'a.mrc'}")]


def test_large_files_are_grouped_per_directory(tmp_path):
    root = tmp_path / "data"
    for name in ("tomo/a.mrc", "tomo/b.mrc", "small/c.mrc"):
        touch(root, name)
    for name, size in (("tomo/a.mrc", HTTP_TARBALL_LIMIT + 1), ("tomo/b.mrc", 3_200_000_000)):
        os.truncate(root / name, size)  # sparse: no disk used
    (large,) = [f for f in layout_advice(str(root), inventory(str(root))) if f.rule == P_LARGE.id]
    assert large.file == "tomo" and large.message.startswith("2 file(s) over 1.5 GB (largest "
                                                             "3.2 GB: b.mrc)")


def test_hidden_files_are_summarised(tmp_path):
    root = tmp_path / "data"
    touch(root, "ok.mrc")
    touch(root, ".DS_Store")
    touch(root, ".git/objects/ab")
    touch(root, ".git/HEAD")
    touch(root, "sub/.hidden.mrc")
    found = [(f.file, f.message) for f in layout_advice(str(root), inventory(str(root)))
             if f.rule == P_HIDDEN.id]
    assert found == [
        (".DS_Store", "hidden file is left out of the checks and checksum lists"),
        (".git", "hidden directory with 2 file(s) is left out of the checks and checksum lists"),
        ("sub/.hidden.mrc", "hidden file is left out of the checks and checksum lists"),
    ]


def test_inventory_excludes_the_bundle_directory(tmp_path):
    root = tmp_path / "data"
    touch(root, "a.mrc")
    touch(root, "bundle/SHA256SUMS")
    rels = [f.rel for f in inventory(str(root), exclude=str(root / "bundle"))]
    assert rels == ["a.mrc"]


def test_gain_reference_names():
    assert is_gain_reference("movies/CountRef_Session1.dm4")
    assert is_gain_reference("gain/20231001_gain.mrc")
    assert is_gain_reference("eer/FalconGain.gain")
    assert not is_gain_reference("movies/again.txt")
    assert not is_gain_reference("movies/FoilHole_1.tif")


# --- FAQ advice ---------------------------------------------------------------------------------

def sets(*specs: tuple[str, dict]) -> list[ImageSet]:
    return [ImageSet(name, f"/data/{name}", name, **kw) for name, kw in specs]


MOVIES = ("movies", {"category": "micrographs - multiframe", "data_format": "TIFF",
                     "voxel_type": "UNSIGNED BYTE", "frames_per_image": 40})
SINGLE = ("micrographs", {"category": "micrographs - single frame", "voxel_type": "32 BIT FLOAT"})
PARTICLES = ("particles", {"category": "picked particles - single frame - processed"})
TILTS = ("tilts", {"category": "tilt series", "frames_per_image": 1})


def faq(root, image_sets, metadata=None) -> list[str]:
    return sorted(f.rule for f in deposition_advice(image_sets, inventory(str(root)),
                                                    metadata or {}))


def test_single_particle_without_movies_particles_or_star(tmp_path):
    touch(tmp_path, "micrographs/a.mrc")
    assert faq(tmp_path, sets(SINGLE), {"experiment_type": 3}) == [
        P_NO_MOVIES.id, P_NO_PARTICLES.id, P_NO_STAR.id]


def test_uncorrected_movies_without_gain_reference(tmp_path):
    touch(tmp_path, "movies/a.tif")
    touch(tmp_path, "particles/p.mrcs")
    touch(tmp_path, "particles/particles.star")
    assert faq(tmp_path, sets(MOVIES, PARTICLES)) == [P_NO_GAIN.id]
    float_movies = ("movies", {**MOVIES[1], "voxel_type": "32 BIT FLOAT"})
    assert faq(tmp_path, sets(float_movies, PARTICLES)) == []  # gain-normalised already
    said = ("movies", {**MOVIES[1], "details": "Counts are gain-corrected by EPU."})
    assert faq(tmp_path, sets(said, PARTICLES)) == []


def test_gain_reference_needs_its_orientation_described(tmp_path):
    touch(tmp_path, "movies/a.tif")
    touch(tmp_path, "movies/CountRef_a.dm4")
    touch(tmp_path, "particles/run_data.star")
    image_sets = sets(MOVIES, PARTICLES)
    assert faq(tmp_path, image_sets) == [P_GAIN_ORIENTATION.id]
    image_sets[0].details = ("Extracted from file headers by empiar-validate: rotation 0.")
    assert faq(tmp_path, image_sets) == [P_GAIN_ORIENTATION.id]  # our own text does not count
    image_sets[0].details = "Gain reference must be flipped in Y and rotated 90° to match."
    assert faq(tmp_path, image_sets) == []


def test_tomography_is_not_asked_for_particles_or_star(tmp_path):
    touch(tmp_path, "tilts/TS_01.mrc")
    assert faq(tmp_path, sets(TILTS)) == [P_NO_MOVIES.id]


def test_other_modalities_get_no_cryo_em_advice(tmp_path):
    touch(tmp_path, "stack/slice_0001.tif")
    fib = sets(("stack", {"category": "reconstructed volumes"}))
    assert faq(tmp_path, fib, {"experiment_type": 5}) == []
    assert faq(tmp_path, fib) == []  # no metadata, nothing that looks like cryo-EM
    assert faq(tmp_path, sets(SINGLE), {"experiment_type": "5"}) == []
