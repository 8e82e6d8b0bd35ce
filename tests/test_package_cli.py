"""``empiar-validate package`` end to end: a dataset written by mrcfile and tifffile, EMPIAR's
own example metadata adapted to it, EMPIAR's deposition schema, and the real coreutils."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from importlib.resources import files

import numpy as np
import pytest

from empiar_validate.package.checksums import CACHE_NAME

jsonschema = pytest.importorskip("jsonschema")
coreutils = pytest.mark.skipif(not (shutil.which("sha256sum") and shutil.which("md5sum")),
                               reason="GNU coreutils not installed")

OLD = 1_600_000_000  # files older than the cache's 2 s "racy" window
OUTPUTS = ("entry.xml", "deposition.json", "SHA256SUMS", "MD5SUMS", "SUMMARY.md")
ENTRY = ("--accession-code", "EMPIAR-12345", "--deposition-date", "2024-01-31")

MDOC = """PixelSpacing = 0.83
Voltage = 300
[FrameSet = 0]
ExposureDose = 40
NumSubFrames = 8
ExposureTime = 2.5
"""


def make_dataset(root) -> None:
    """Movies (tifffile, with a SerialEM frame mdoc), micrographs and particles (mrcfile)."""
    import mrcfile
    import tifffile

    for sub in ("movies", "micrographs", "particles"):
        (root / sub).mkdir(parents=True)
    for i in range(3):
        tifffile.imwrite(root / "movies" / f"FoilHole_{i}.tif",
                         np.full((8, 64, 48), i, np.uint8), photometric="minisblack")
    (root / "movies" / "FoilHole_0.tif.mdoc").write_text(MDOC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(2):
            with mrcfile.new(root / "micrographs" / f"mic_{i}.mrc",
                             data=np.full((64, 48), i, np.float32)) as m:
                m.voxel_size = 1.06
        with mrcfile.new(root / "particles" / "stack.mrcs",
                         data=np.zeros((10, 16, 16), np.float32)) as m:
            m.set_image_stack()
            m.voxel_size = 1.06
    star = "data_\nloop_\n_rlnImageName\n1@stack.mrcs\n"
    (root / "particles" / "particles.star").write_text(star)
    (root / "workflow.json").write_text("{}\n")
    age(root)


def age(root) -> None:
    for dirpath, _, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(dirpath, name), (OLD, OLD))


def example_metadata() -> dict:
    """empiar-depositor's working_example.json with its image set swapped for ours."""
    path = files("empiar_depositor") / "tests" / "deposition_json" / "working_example.json"
    meta = json.loads(path.read_text())
    meta["imagesets"] = [
        {"name": "Multi-frame micrographs of the pilus machine", "directory": "/data/movies",
         "category": "('T2', '')", "pixel_width": 0.83, "pixel_height": 0.83,
         "details": "Movies are gain-corrected; the gain reference applies as is."},
        {"name": "Motion-corrected micrographs", "directory": "/data/micrographs",
         "category": "('T1', '')"},
        {"name": "Polished particles", "directory": "/data/particles",
         "category": "('T7', '')"},
    ]
    return meta


def schema_errors(doc: dict) -> list[str]:
    schema = json.loads((files("empiar_depositor") / "empiar_deposition.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in cls(schema).iter_errors(doc))


@pytest.fixture
def deposition(tmp_path):
    root = tmp_path / "dataset"
    make_dataset(root)
    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps(example_metadata(), indent=2))
    return root, meta, tmp_path / "bundle"


def package(run_cli, root, meta, out, *extra: str) -> tuple[int, dict, str]:
    code, stdout, stderr = run_cli("package", root, "--metadata", meta, "-o", out, *ENTRY,
                                   "--format", "json", "-q", *extra)
    return code, json.loads(stdout) if stdout.strip() else {}, stderr


def test_bundle_is_complete_and_deposition_json_passes_empiars_schema(run_cli, deposition):
    root, meta, out = deposition
    code, report, _ = package(run_cli, root, meta, out)
    assert sorted(os.listdir(out)) == sorted([*OUTPUTS, CACHE_NAME])
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert code == 0, errors
    doc = json.loads((out / "deposition.json").read_text())
    assert schema_errors(doc) == []

    # the metadata's fields are carried over unchanged
    expected = example_metadata()
    for key, value in expected.items():
        if key != "imagesets":
            assert doc[key] == value, key
    # codes and numbers for every image set, the numbers from the files
    by_dir = {s["directory"]: s for s in doc["imagesets"]}
    assert sorted(by_dir) == ["/data/micrographs", "/data/movies", "/data/particles"]
    got = {d: (s["category"], s["header_format"], s["data_format"], s["voxel_type"],
               s["num_images_or_tilt_series"], s["frames_per_image"], s["image_width"],
               s["image_height"], s["pixel_width"], s["pixel_height"])
           for d, s in by_dir.items()}
    assert got == {
        "/data/movies": ("('T2', '')", "('T3', '')", "('T3', '')", "('T1', '')",
                         3, 8, 48, 64, 0.83, 0.83),
        "/data/micrographs": ("('T1', '')", "('T1', '')", "('T1', '')", "('T7', '')",
                              2, 1, 48, 64, 1.06, 1.06),
        "/data/particles": ("('T7', '')", "('T2', '')", "('T2', '')", "('T7', '')",
                            10, 1, 16, 16, 1.06, 1.06),
    }
    assert by_dir["/data/movies"]["name"] == "Multi-frame micrographs of the pilus machine"
    # metadata details first, then what the .mdoc says, labelled
    assert by_dir["/data/movies"]["details"] == (
        "Movies are gain-corrected; the gain reference applies as is.\n\n"
        "Extracted from SerialEM .mdoc files by empiar-validate: 300 kV, pixel size 0.83 Å, "
        "exposure 2.5 s, 8 frames per image, dose 40 e/Å² per image, dose 5 e/Å² per frame.")
    xml = (out / "entry.xml").read_text()
    assert "Extracted from SerialEM .mdoc files by empiar-validate: 300 kV" in xml

    assert report["checksums"] == {"hashed": 9, "reused": 0}
    assert report["files"] == 9 and report["written"] == list(OUTPUTS)
    summary = (out / "SUMMARY.md").read_text()
    assert "| Multi-frame micrographs of the pilus machine | `/data/movies` | 4 |" in summary
    assert "ascp -QT -l 200M -P 33001 -L- -k3 micrographs movies particles workflow.json" in summary


@coreutils
def test_checksums_verify_and_rerun_hashes_only_what_changed(run_cli, deposition):
    root, meta, out = deposition
    assert package(run_cli, root, meta, out)[0] == 0

    def verify() -> None:
        for tool, name in (("sha256sum", "SHA256SUMS"), ("md5sum", "MD5SUMS")):
            proc = subprocess.run([tool, "--strict", "-c", str(out / name)], cwd=root,
                                  capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert proc.stdout.count(": OK") == 9

    verify()
    first = {name: (out / name).read_bytes() for name in OUTPUTS}
    code, report, _ = package(run_cli, root, meta, out)
    assert code == 0 and report["checksums"] == {"hashed": 0, "reused": 9}
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == first  # deterministic

    star = root / "particles" / "particles.star"
    star.write_text(star.read_text() + "2@stack.mrcs\n")
    os.utime(star, (OLD + 60, OLD + 60))
    code, report, _ = package(run_cli, root, meta, out)
    assert code == 0 and report["checksums"] == {"hashed": 1, "reused": 8}
    verify()
    assert (out / "SHA256SUMS").read_bytes() != first["SHA256SUMS"]


def test_bundle_inside_the_dataset_is_refused_unless_allowed(run_cli, deposition):
    root, meta, _ = deposition
    inside = root / "bundle"
    code, _, stderr = package(run_cli, root, meta, inside)
    assert code == 2 and "inside the dataset" in stderr and not inside.exists()
    assert package(run_cli, root, meta, root)[0] == 2
    code, report, _ = package(run_cli, root, meta, inside, "--allow-inside")
    assert code == 0 and report["checksums"]["hashed"] == 9
    age(root)
    code, report, _ = package(run_cli, root, meta, inside, "--allow-inside")
    assert code == 0 and report["checksums"] == {"hashed": 0, "reused": 9}
    assert b"bundle/" not in (inside / "SHA256SUMS").read_bytes()


def test_usage_errors(run_cli, deposition, tmp_path):
    root, meta, out = deposition
    assert package(run_cli, root, tmp_path / "missing.json", out)[0] == 2
    assert package(run_cli, tmp_path / "nowhere", meta, out)[0] == 2
    (tmp_path / "file").write_text("x")
    assert package(run_cli, root, meta, tmp_path / "file")[0] == 2
    assert run_cli("package", root)[0] == 2  # -o is required


def test_without_metadata_the_bundle_is_still_written(run_cli, deposition):
    root, _, out = deposition
    code, stdout, _ = run_cli("package", root, "-o", out, *ENTRY, "-q")
    assert code == 1  # the metadata's required fields are errors (M104)
    assert "P120" in stdout and "package: FAILED" in stdout
    doc = json.loads((out / "deposition.json").read_text())
    assert list(doc) == ["imagesets"] and len(doc["imagesets"]) == 3


def test_scheduler_without_distributed_is_a_usage_error(tmp_path, capsys, monkeypatch):
    from empiar_validate.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "a.txt").write_text("x")
    out = str(tmp_path / "out")
    monkeypatch.delenv("EMPIAR_VALIDATE_SCHEDULER", raising=False)
    assert main(["package", str(tmp_path / "ds"), "-o", out, "--scheduler", "tcp://h:8786"]) == 2
    err = capsys.readouterr().err
    assert "--scheduler tcp://h:8786" in err and "pip install 'empiar-validate[distributed]'" in err
    monkeypatch.setenv("EMPIAR_VALIDATE_SCHEDULER", "tcp://h:8786")
    assert main(["package", str(tmp_path / "ds"), "-o", out, "-q"]) == 2
    assert "EMPIAR_VALIDATE_SCHEDULER tcp://h:8786" in capsys.readouterr().err
    assert not os.path.exists(out)  # a usage error writes nothing
    # "local" overrides the environment and needs nothing (exit 1: findings about the data)
    assert main(["package", str(tmp_path / "ds"), "-o", out, "-q", "--scheduler", "local"]) == 1
    assert os.path.exists(os.path.join(out, "SHA256SUMS"))


def test_local_package_does_not_import_distributed(tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "a.txt").write_text("x")
    code = ("import sys; from empiar_validate.cli import main; "
            f"rc = main(['package', {str(tmp_path / 'ds')!r}, '-o', {str(tmp_path / 'o')!r}, "
            "'-q']); print('imported:', sorted({'distributed', 'dask'} & set(sys.modules)))")
    env = {k: v for k, v in os.environ.items() if k != "EMPIAR_VALIDATE_SCHEDULER"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "imported: []"
    assert os.path.exists(tmp_path / "o" / "SHA256SUMS")
