"""``check --remote``: a DVC repository whose data are not pulled, checked against its S3 remote.

The repository is made with the real ``dvc`` command (``dvc init``, ``dvc remote add``, ``dvc
add`` of image directories and a single map, ``dvc push``) against moto's S3 server on the
loopback interface; then the working-tree content and the local cache are deleted, as in a CI
clone that never ran ``dvc pull``.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

pytest.importorskip("moto.server", reason="moto[server] not installed (pip install -e .[test])")
pytest.importorskip("dvc.repo", reason="dvc not installed (pip install -e .[test])")
pytest.importorskip("dvc_s3", reason="dvc-s3 not installed (pip install -e .[remote])")

from dataset_builders import build_dataset, depositor_metadata
from s3server import S3Server, s3_server

from empiar_validate.cli import main

pytestmark = pytest.mark.slow
BUCKET = "dvc-store"
TRACKED = ("data/movies", "data/micrographs", "data/particles")
MOVIES = "Multi-frame movies of the pilus machine"


def run(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def dvc(repo: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


def unpull(repo: Path) -> None:
    """What a CI clone has: the .dvc files, no content, no cache."""
    for rel in (*TRACKED, "data/volume/map.mrc"):
        path = repo / rel
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)


@pytest.fixture(scope="module")
def server() -> Iterator[S3Server]:
    with s3_server() as srv:
        srv.client().create_bucket(Bucket=BUCKET)
        yield srv


@pytest.fixture(scope="module")
def pushed(server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DVC repository with its data pushed to the S3 remote and the committed entry XML."""
    repo = tmp_path_factory.mktemp("dvcrepo")
    build_dataset(repo / "data", dm=False, bdv=False)
    meta = repo / "metadata.json"
    meta.write_text(json.dumps(depositor_metadata(dm=False, bdv=False)), encoding="utf-8")
    code, out, err = run("scan", repo / "data", "--metadata", meta, "-o", repo / "entry.xml",
                         "-q")
    assert code == 0, out + err
    dvc(repo, "init", "--no-scm", "-q")
    dvc(repo, "remote", "add", "-d", "store", f"s3://{BUCKET}/store")
    dvc(repo, "remote", "modify", "store", "endpointurl", server.endpoint)
    dvc(repo, "add", "-q", *TRACKED, "data/volume/map.mrc")
    dvc(repo, "push", "-q")
    return repo


@pytest.fixture
def clone(pushed: Path, tmp_path: Path) -> Path:
    repo = tmp_path / "clone"
    shutil.copytree(pushed, repo)
    unpull(repo)
    return repo


def check(repo: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = run("check", repo / "data", "--xml", repo / "entry.xml", "--format",
                         "json", "-q", *extra)
    assert out, err
    return code, json.loads(out)


def test_clone_without_content_is_checked_from_the_remote(clone, server):
    code, doc = check(clone)  # without the remote: placeholders and absent directories
    assert any(f["rule"] == "G109" for f in doc["findings"])
    server.served.reset()
    code, doc = check(clone, "--remote")  # the default remote
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert code == 0, errors
    assert not any(f["rule"] in ("G109", "F008", "C106") for f in doc["findings"])
    assert {s["status"] for s in doc["image_sets"]} == {"checked"}
    movies = next(s for s in doc["image_sets"] if s["name"] == MOVIES)
    assert movies["disk"]["framesPerImage"] == 6  # read from the headers on the remote
    # only header bytes: ranged GETs of the content objects (the .dir manifests are read whole)
    served = server.served
    content = {k: n for k, n in served.by_key.items() if not k.endswith(".dir")}
    assert content
    sizes = {o["Key"]: o["Size"] for o in server.client().list_objects_v2(
        Bucket=BUCKET, Prefix="store/")["Contents"]}
    total = sum(sizes[k.removeprefix(f"/{BUCKET}/")] for k in content)
    assert sum(content.values()) < total / 2, (sum(content.values()), total)
    assert all(r is not None for k, r in zip(served.ranges_by_order, served.ranges, strict=True)
               if not k.endswith(".dir"))
    assert not (clone / "data" / "movies").exists()  # nothing pulled into the working tree


def test_drift_on_the_remote_names_image_set_and_field(pushed, tmp_path):
    repo = tmp_path / "clone"
    shutil.copytree(pushed, repo)
    # a new version of the movies directory, one movie fewer, pushed: the XML is now stale
    next(iter(sorted((repo / "data" / "movies").glob("*.tiff")))).unlink()
    dvc(repo, "add", "-q", "data/movies")
    dvc(repo, "push", "-q")
    unpull(repo)
    code, doc = check(repo, "--remote", "store")
    assert code == 1
    [f] = [f for f in doc["findings"] if f["severity"] == "error"]
    assert (f["rule"], f["image_set"], f["field"], f["expected"], f["actual"]) == (
        "C102", MOVIES, "numImagesOrTiltSeries", "3", "2")


def test_unknown_remote_is_exit_2(clone):
    code, _, err = run("check", clone / "data", "--xml", clone / "entry.xml", "--remote",
                       "nosuchremote")
    assert code == 2 and "nosuchremote" in err and "Traceback" not in err


def test_missing_objects_on_the_remote_are_findings(clone, server):
    client = server.client()
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix="store/")["Contents"]
    victim = next(o["Key"] for o in listed if not o["Key"].endswith(".dir"))
    body = client.get_object(Bucket=BUCKET, Key=victim)["Body"].read()
    client.delete_object(Bucket=BUCKET, Key=victim)
    try:
        code, doc = check(clone, "--remote")
    finally:
        client.put_object(Bucket=BUCKET, Key=victim, Body=body)
    assert code == 1
    gone = [f for f in doc["findings"] if f["rule"] == "F031"]
    assert gone and all(f["file"].startswith(str(clone / "data")) for f in gone)
