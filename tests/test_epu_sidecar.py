"""EPU sessions: TIFF movies (which carry no pixel size) take it from EPU's per-image XML."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from dataset_builders import working_example
from tiffwriters import write_tifffile_pages

from empiar_validate.cli import main

# A trimmed MicroscopeImage document as EPU writes it (DataContract namespaces, metres).
SIDECAR = """<?xml version="1.0" encoding="utf-8"?>
<MicroscopeImage xmlns="http://schemas.datacontract.org/2004/07/Fei.SharedObjects" \
xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <uniqueID>0a1b2c3d-0000-4000-8000-{n:012d}</uniqueID>
  <microscopeData><acquisition><camera><Name>BM-Falcon</Name></camera></acquisition></microscopeData>
  <SpatialScale>
    <pixelSize>
      <x><numericValue>1.06E-10</numericValue>\
<unit xmlns:a="http://schemas.datacontract.org/2004/07/Fei.Types"><a:symbol>m</a:symbol></unit></x>
      <y><numericValue>1.06E-10</numericValue>\
<unit xmlns:a="http://schemas.datacontract.org/2004/07/Fei.Types"><a:symbol>m</a:symbol></unit></y>
    </pixelSize>
  </SpatialScale>
</MicroscopeImage>
"""


def run(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def epu_session(base: Path, sidecar=lambda n: SIDECAR.format(n=n)) -> Path:  # type: ignore[no-untyped-def]
    """Three movies, written page by page, each with its sidecar, in an EPU-like tree."""
    data = base / "Images-Disc1" / "GridSquare_1" / "Data"
    data.mkdir(parents=True)
    for n in range(3):
        stem = f"FoilHole_{100 + n}_Data_200_{n}_20240101_1200{n:02d}"
        write_tifffile_pages(data / f"{stem}_fractions.tiff", 4, 64, 64)
        (data / f"{stem}.xml").write_text(sidecar(n), encoding="utf-8")
    return base


def pixel_findings(report: dict) -> list[dict]:  # type: ignore[type-arg]
    return [f for f in report["findings"]
            if f["rule"] == "M104" and "pixel" in f["message"].lower()]


def test_tiff_movies_get_the_pixel_size_of_their_epu_sidecar(tmp_path: Path) -> None:
    root = epu_session(tmp_path / "session")
    out = tmp_path / "entry.xml"
    meta = working_example()  # the depositor gives no pixel size
    meta["imagesets"] = [{"name": "EPU movies", "directory": "/data/Images-Disc1/GridSquare_1/Data",
                          "category": "('T2', '')", "details": None}]
    (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    code, text, err = run("scan", root, "--metadata", tmp_path / "meta.json", "-o", out,
                          "--format", "json", "-q")
    report = json.loads(text)
    (movies,) = report["image_sets"]
    assert movies["pixelWidth"] == 1.06 and movies["pixelHeight"] == 1.06, movies
    assert "pixel_width" in movies["derived_from_headers"]
    assert not pixel_findings(report), report["findings"]
    assert "Traceback" not in err
    code, text, err = run("check", root, "--xml", out, "--format", "json", "-q")
    assert code == 0, text
    assert not [f for f in json.loads(text)["findings"] if f["severity"] == "error"]


def test_the_read_stage_names_the_source(tmp_path: Path) -> None:
    from empiar_validate.scan import read_dataset

    root = epu_session(tmp_path / "session")
    records, _ = read_dataset(str(root))
    movies = [r for r in records if r.path.endswith(".tiff")]
    assert len(movies) == 3
    for rec in movies:
        assert (rec.pixel_width, rec.pixel_height) == (1.06, 1.06)
        assert rec.extra["pixel_size_source"] == "EPU xml"
        assert rec.extra["pixel_size_sidecar"] == rec.path.rsplit("/", 1)[-1].replace(
            "_fractions.tiff", ".xml")
        assert rec.to_dict()["extra"]["pixel_size_source"] == "EPU xml"


def test_malformed_or_foreign_sidecars_are_ignored_without_a_traceback(tmp_path: Path) -> None:
    bad = [
        lambda n: SIDECAR.format(n=n)[:200],  # truncated
        lambda n: '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><MicroscopeImage/>',
        lambda n: "<Other><SpatialScale><pixelSize><x><numericValue>1e-10</numericValue>"
                  "</x></pixelSize></SpatialScale></Other>",
        lambda n: SIDECAR.format(n=n).replace("1.06E-10", "not-a-number"),
        lambda n: "\x00\xff garbage",
    ]
    for i, sidecar in enumerate(bad):
        root = epu_session(tmp_path / f"s{i}", sidecar)
        _, text, err = run("scan", root, "-o", tmp_path / f"e{i}.xml", "--format", "json", "-q")
        assert "Traceback" not in err, err
        report = json.loads(text)
        (movies,) = report["image_sets"]
        assert movies.get("pixelWidth") is None, (i, movies)
        assert pixel_findings(report), (i, report["findings"])
