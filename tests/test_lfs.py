"""Git LFS pointers: a clone without LFS content is "content not present", never corrupt."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from dataset_builders import repository_copy, run, scanned_repository

from empiar_validate.formats import read_header
from empiar_validate.lfs import parse_pointer

IMAGE_SUFFIXES = (".mrc", ".mrcs", ".tiff", ".tif", ".map", ".eer")



def pointer_text(content: bytes) -> bytes:
    """A pointer exactly as ``git lfs`` writes it (``git lfs pointer --file=...``)."""
    return (b"version https://git-lfs.github.com/spec/v1\n"
            b"oid sha256:" + hashlib.sha256(content).hexdigest().encode() + b"\n"
            b"size " + str(len(content)).encode() + b"\n")


def to_pointer(path: Path) -> str:
    """Replace ``path`` by its LFS pointer (a clone with ``GIT_LFS_SKIP_SMUDGE=1``); returns
    the content's SHA-256."""
    content = path.read_bytes()
    path.write_bytes(pointer_text(content))
    return hashlib.sha256(content).hexdigest()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scanned_repository(tmp_path_factory.mktemp("lfs"))


@pytest.fixture
def clone(pristine: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the dataset where every image file is an LFS pointer; rel path -> SHA-256."""
    repository_copy(pristine, tmp_path)
    shutil.copy(pristine / "metadata.json", tmp_path / "metadata.json")
    sums = {}
    for p in sorted((tmp_path / "data").rglob("*")):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            sums[p.relative_to(tmp_path / "data").as_posix()] = to_pointer(p)
    assert len(sums) >= 8
    return tmp_path, sums


def test_pointer_is_parsed_as_the_specification_says():
    content = b"x" * 5000
    pointer, reasons = parse_pointer(pointer_text(content))
    assert reasons == [] and pointer is not None
    assert pointer.size == 5000 and pointer.sha256 == hashlib.sha256(content).hexdigest()
    _, reasons = parse_pointer(b"version https://git-lfs.github.com/spec/v1\noid md5:abc\n"
                               b"size -3\n")
    assert len(reasons) == 2 and "oid" in reasons[0] and "size" in reasons[1]
    _, reasons = parse_pointer(b"version https://git-lfs.github.com/spec/v1\n")
    assert reasons == ["no oid line", "no size line"]


def test_inspect_says_not_present_with_the_size_of_the_content(tmp_path):
    p = tmp_path / "movie.mrc"
    p.write_bytes(pointer_text(b"\0" * 123_456))
    rec = read_header(p)
    assert rec.format is None and rec.size == 123_456
    [f] = rec.problems
    assert f.rule == "F008" and "Git LFS content not present" in f.message
    code, out = run("inspect", p, "--format", "json")
    assert code == 0, out
    assert "F007" not in out and "F008" in out


def test_clone_without_lfs_content_checks_green_and_counts_by_name(clone):
    root, sums = clone
    code, out = run("check", root / "data", "--xml", root / "entry.xml", "--format", "json",
                    "-q")
    doc = json.loads(out)
    assert code == 0, [f for f in doc["findings"] if f["severity"] == "error"]
    present = [f for f in doc["findings"] if f["rule"] == "F008"]
    # every pointer is "content not present"
    named = {f["file"] for f in present}
    assert not any(f["rule"] in ("F007", "F009") for f in doc["findings"])
    assert all("Git LFS content not present" in f["message"] for f in present)
    assert len(named) >= min(len(sums), 5)
    # the file list and sizes are still compared: a removed movie is an error
    movie = next(root / "data" / rel for rel in sums if rel.startswith("movies/"))
    movie.unlink()
    code, out = run("check", root / "data", "--xml", root / "entry.xml", "--format", "json",
                    "-q")
    assert code == 1 and '"numImagesOrTiltSeries"' in out


def test_package_lists_the_pointer_sha256_without_the_content(clone, tmp_path):
    root, sums = clone
    out_dir = tmp_path / "bundle"
    code, out = run("package", root / "data", "--metadata", root / "metadata.json", "-o",
                    out_dir, "--format", "json", "-q")
    listed = {}
    for line in (out_dir / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for rel, sha in sums.items():
        assert listed[rel] == sha, rel
    md5 = {line.partition("  ")[2] for line in (out_dir / "MD5SUMS").read_text().splitlines()}
    assert md5 and not md5 & set(sums)
    doc = json.loads(out)
    assert any(f["rule"] == "P133" for f in doc["findings"])
    assert not any(f["rule"] in ("F007", "F009") for f in doc["findings"]), code


def test_bad_pointers_are_one_finding_each_and_mix_with_real_files(clone, pristine):
    root, sums = clone
    rels = sorted(sums)
    real = next(rel for rel in rels[2:] if rel.startswith("movies/"))
    shutil.copy(pristine / "data" / real, root / "data" / real)  # content of one file fetched
    bad_oid, bad_size = root / "data" / rels[0], root / "data" / rels[1]
    bad_oid.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:XYZ\n"
                        b"size 10\n")
    bad_size.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:"
                         + b"a" * 64 + b"\nsize ten\n")
    code, out = run("check", root / "data", "--xml", root / "entry.xml", "--format", "json",
                    "-q")
    doc = json.loads(out)
    assert code == 1
    assert not any(real in (f["file"] or "") for f in doc["findings"])
    bad = [f for f in doc["findings"] if f["rule"] == "F030"]
    assert sorted(Path(f["file"]).name for f in bad) == sorted([bad_oid.name, bad_size.name])
    assert "oid" in next(f for f in bad if f["file"].endswith(bad_oid.name))["message"]
