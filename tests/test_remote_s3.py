"""Headers read where the data live: 2,000 objects on an S3 server on the loopback interface.

The server is moto's (server mode, started by the fixture, stopped after); the client side is
the tool's own (fsspec + s3fs, endpoint from ``AWS_ENDPOINT_URL`` as a user would set it). The
server counts the bytes it serves, so the tests can show that only header bytes travel.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

pytest.importorskip("moto.server", reason="moto[server] not installed (pip install -e .[test])")
pytest.importorskip("s3fs", reason="s3fs not installed (pip install -e .[remote])")

from remote_data import build_many, upload
from s3server import S3Server, s3_server

from empiar_validate.cli import main
from empiar_validate.formats import HEAD_SIZE

pytestmark = pytest.mark.slow
BUCKET, PREFIX = "lab-data", "sessions/2026-11"
URL = f"s3://{BUCKET}/{PREFIX}"


def run(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[S3Server]:
    with s3_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def dataset(server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 image files on disk and the same files as objects under :data:`URL`."""
    root = tmp_path_factory.mktemp("many") / "data"
    files = build_many(root, 2000)
    assert len(files) == 2000
    client = server.client()
    client.create_bucket(Bucket=BUCKET)
    upload(client, BUCKET, PREFIX, root)
    return root


def test_scan_of_the_bucket_equals_scan_of_the_files_and_reads_only_headers(
        server, dataset, tmp_path):
    code_disk, out_disk, _ = run("scan", dataset, "-o", tmp_path / "disk.xml", "--format", "json",
                                 "-q")
    server.served.reset()
    code_s3, out_s3, _ = run("scan", URL, "-o", tmp_path / "s3.xml", "--format", "json", "-q")
    assert code_s3 == code_disk  # no metadata given: 1 for both (M104), the XML still written
    assert (tmp_path / "s3.xml").read_bytes() == (tmp_path / "disk.xml").read_bytes()
    disk, s3 = json.loads(out_disk), json.loads(out_s3)
    assert [s["directory"] for s in s3["image_sets"]] == [s["directory"] for s in
                                                          disk["image_sets"]]
    assert len(s3["image_sets"]) == 4
    assert s3["dataset"] == URL

    sizes = {f"/{BUCKET}/{PREFIX}/{p.relative_to(dataset).as_posix()}": p.stat().st_size
             for p in dataset.rglob("*") if p.is_file()}
    served = server.served
    assert set(served.gets_by_key) == set(sizes)  # every object read, nothing else fetched
    assert all(r and r.startswith("bytes=") for r in served.ranges)  # only ranged GETs
    for key, size in sizes.items():
        got = served.by_key[key]
        if key.endswith((".mrc", ".mrcs")):  # one request of the head, nothing more
            assert served.gets_by_key[key] == 1 and got == min(size, HEAD_SIZE), key
        else:  # TIFF IFD chain, DM tag tree: the range grows, never to the whole object
            assert got < size, (key, got, size)
    total = sum(sizes.values())
    assert served.bytes < total / 6, (served.bytes, total)


def test_inspect_of_the_bucket_equals_inspect_of_the_files(server, dataset):
    code_disk, out_disk, _ = run("inspect", dataset / "squares", dataset / "movies", "--format",
                                 "json")
    code_s3, out_s3, _ = run("inspect", f"{URL}/squares", f"{URL}/movies", "--format", "json")
    assert code_s3 == code_disk == 0
    disk, s3 = json.loads(out_disk)["files"], json.loads(out_s3)["files"]
    assert len(s3) == len(disk) == 60
    for a, b in zip(disk, s3, strict=True):
        assert b["path"].startswith(URL + "/")
        assert {**a, "path": None} == {**b, "path": None}


def test_check_against_the_bucket_finds_drift(server, dataset, tmp_path):
    xml = tmp_path / "entry.xml"
    run("scan", dataset, "-o", xml, "-q")
    code, out, _ = run("check", URL, "--xml", xml, "--format", "json", "-q")
    doc = json.loads(out)
    assert not [f for f in doc["findings"] if f["rule"].startswith("C") and
                f["severity"] == "error"]
    assert {s["status"] for s in doc["image_sets"]} == {"checked"}
    client = server.client()
    key = f"{PREFIX}/movies/FoilHole_0007_fractions.tiff"
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    client.delete_object(Bucket=BUCKET, Key=key)
    try:
        code, out, _ = run("check", URL, "--xml", xml, "--format", "json", "-q")
    finally:
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert code == 1
    drift = [f for f in json.loads(out)["findings"] if f["rule"] == "C102"]
    assert drift and drift[0]["field"] == "numImagesOrTiltSeries"
    assert drift[0]["expected"] == "40" and drift[0]["actual"] == "39"


def test_unreachable_remote_is_exit_2_without_secrets(server, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-printed")
    code, out, err = run("scan", f"s3://no-such-bucket-{os.getpid()}/x", "-o",
                         tmp_path / "x.xml")
    assert code == 2 and "no such bucket" in err
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    try:
        code, out, err = run("inspect", URL)
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
    assert code == 2 and "cannot" in err
    assert "s3cr3t" not in out + err and "Traceback" not in out + err


def test_companions_are_read_too_so_tilt_series_and_metadata_match(server, tmp_path):
    """The standard test dataset (tilt series with .mdoc/.rawtlt, a STAR file, DM3 squares):
    the scan of its S3 copy, metadata included, is the scan of the files on disk."""
    from dataset_builders import build_dataset, depositor_metadata

    root = tmp_path / "data"
    build_dataset(root, dm=True, bdv=False)
    client = server.client()
    client.create_bucket(Bucket="lab-two")
    upload(client, "lab-two", "entry", root)
    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps(depositor_metadata(dm=True, bdv=False)), encoding="utf-8")
    code_disk, _, _ = run("scan", root, "--metadata", meta, "-o", tmp_path / "disk.xml", "-q")
    code_s3, out_s3, _ = run("scan", "s3://lab-two/entry", "--metadata", meta, "-o",
                             tmp_path / "s3.xml", "-q")
    assert code_disk == code_s3 == 0, out_s3
    assert (tmp_path / "s3.xml").read_bytes() == (tmp_path / "disk.xml").read_bytes()
    code, out, _ = run("check", "s3://lab-two/entry", "--xml", tmp_path / "disk.xml", "-q")
    assert code == 0, out
