"""Issue 12's six defects, each from its minimal input, and the same classes elsewhere: a
finding naming the file, never a traceback, and the rest of the directory still reported."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from dataset_builders import write_mrc

from empiar_validate.decompress import DECOMPRESSION_ERRORS
from empiar_validate.scan import metaparse
from empiar_validate.textsafe import json_text, visible_text

DAMAGED_GZIP = b"\x1f\x8b\x08\x00" + b"garbage" * 8  # a partly downloaded .mrc.gz


def _dataset(root: Path) -> Path:
    import numpy as np

    (root / "mics").mkdir(parents=True)
    write_mrc(root / "mics" / "good.mrc", np.zeros((8, 8), np.float32), 1.0)
    return root


def _cli(*args: object) -> subprocess.CompletedProcess[str]:
    """The installed command in a subprocess: a real stdout, as a user or CI sees it."""
    return subprocess.run([sys.executable, "-m", "empiar_validate", *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", errors="strict",
                          timeout=120)


# --- 1. damaged gzip stream ----------------------------------------------------------------


@pytest.mark.parametrize("data", [
    DAMAGED_GZIP,
    gzip.compress(bytes(range(256)) * 64)[:60],  # truncated: EOFError
    bytes.fromhex("1f8b0800") + bytes(20),  # zlib.error: invalid block type
    b"BZh9" + b"\xff" * 40,  # bzip2: OSError
])
def test_damaged_compressed_file_is_one_finding_and_the_rest_is_reported(tmp_path, data) -> None:
    root = _dataset(tmp_path / "ds")
    (root / "mics" / "partial.mrc.gz").write_bytes(data)
    run = _cli("inspect", "--format", "json", root)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    # inspect names files under the path as given (here absolute): key them relative to it
    files = {os.path.relpath(f["path"], root): f for f in json.loads(run.stdout)["files"]}
    assert [p["rule"] for p in files["mics/partial.mrc.gz"]["problems"]] == ["F010"]
    assert files["mics/good.mrc"]["problems"] == []
    out = tmp_path / "entry.xml"
    run = _cli("scan", root, "-o", out, "--format", "json", "-q")
    assert "Traceback" not in run.stderr, run.stderr
    doc = json.loads(run.stdout)
    assert any(f["rule"] == "F010" and f["file"].endswith("partial.mrc.gz")
               for f in doc["findings"])
    assert b"/data/mics" in out.read_bytes()  # the XML is written, with the good file's set


def _lzma(data: bytes) -> bytes:
    import io

    with lzma.LZMAFile(io.BytesIO(data)) as fh:
        return fh.read()


def test_every_decompressor_error_type_is_caught() -> None:
    """What each stdlib decompressor raises on damaged input is in DECOMPRESSION_ERRORS."""
    import io

    cases = [
        lambda: gzip.GzipFile(fileobj=io.BytesIO(DAMAGED_GZIP)).read(),
        lambda: gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(b"x" * 99)[:20])).read(),
        lambda: gzip.GzipFile(fileobj=io.BytesIO(b"\x1f\x8b\x09" + bytes(20))).read(),
        lambda: bz2.BZ2File(io.BytesIO(b"BZh9" + b"\xff" * 40)).read(),
        lambda: bz2.BZ2File(io.BytesIO(bz2.compress(b"x" * 99)[:20])).read(),
        lambda: zlib.decompress(b"\x78\x9c" + b"\xff" * 10),
        lambda: _lzma(b"\xfd7zXZ\x00" + b"\xff" * 40),
        lambda: _lzma(lzma.compress(b"x" * 99)[:20]),
    ]
    for case in cases:
        with pytest.raises(DECOMPRESSION_ERRORS):
            case()


# --- 2., 3. integers over 4,300 digits, keys that are not strings ----------------------------


@pytest.mark.parametrize(("name", "text", "where"), [
    ("m.json", '{\n  "experiment_type": ' + "1" * 5000 + "\n}", 2),
    ("m.yaml", "title: A title long enough\nexperiment_type: " + "1" * 5000 + "\n", 2),
    ("m.yaml", "experiment_type: 0x" + "f" * 4000 + "\n", 1),  # converts, cannot be printed
    ("m.json", '{"authors": [{"name": "(\'A\', \'B\')", "order_id": -' + "9" * 4400 + "}]}", 1),
])
def test_integer_over_4300_digits_is_a_finding(tmp_path, name, text, where) -> None:
    root = _dataset(tmp_path / "ds")
    meta = tmp_path / name
    meta.write_text(text, encoding="utf-8")
    run = _cli("scan", root, "--metadata", meta, "-o", tmp_path / "e.xml", "--format", "json")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    found = [f for f in json.loads(run.stdout)["findings"] if f["rule"] == "M103"]
    assert found and "digits" in found[0]["message"], found
    assert Path(found[0]["file"]).name == name and found[0]["line"] == where
    assert (tmp_path / "e.xml").exists()


def test_yaml_keys_that_are_not_strings_are_findings(tmp_path) -> None:
    root = _dataset(tmp_path / "ds")
    meta = tmp_path / "m.yaml"
    meta.write_text("null: 1\n1.5: x\n~: 2\ntitle: A title long enough\n"
                    "imagesets:\n  - {2024-01-01: a, name: set}\n", encoding="utf-8")
    run = _cli("scan", root, "--metadata", meta, "-o", tmp_path / "e.xml", "--format", "json")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    found = {(f["line"], f["message"]) for f in json.loads(run.stdout)["findings"]
             if f["rule"] in ("M102", "M103") and f["file"].endswith("m.yaml")}
    assert {line for line, _ in found} == {1, 2, 3, 6}, found
    assert any("null" in m and "not text" in m for _, m in found)
    assert not any("unknown key" in m for _, m in found)  # one finding per key, not two


def test_yaml_key_that_is_a_mapping_is_a_syntax_error(tmp_path) -> None:
    root = _dataset(tmp_path / "ds")
    meta = tmp_path / "m.yaml"
    meta.write_text("? {a: 1}\n: 2\n", encoding="utf-8")
    run = _cli("scan", root, "--metadata", meta, "-o", tmp_path / "e.xml", "--format", "json")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert [f["rule"] for f in json.loads(run.stdout)["findings"]] == ["M101"]


# --- 4. lone surrogates and control characters in every output encoder ----------------------


@pytest.mark.parametrize("fmt", ["json", "text", "junit", "github"])
def test_lone_surrogate_in_metadata_never_breaks_a_report(tmp_path, fmt) -> None:
    root = _dataset(tmp_path / "ds")
    meta = tmp_path / "m.json"
    meta.write_text('{"imagesets": [{"name": "set \\ud800", "directory": "/data/mics", '
                    '"details": "x\\udfff\\u001b[2Jy", "category": "\\ud83d"}]}',
                    encoding="utf-8")
    run = _cli("scan", root, "--metadata", meta, "-o", tmp_path / "e.xml", "--format", fmt)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "\x1b" not in run.stdout
    if fmt == "json":
        doc = json.loads(run.stdout)
        assert any(f["rule"] == "M103" for f in doc["findings"])
    if fmt == "junit":
        from lxml import etree

        etree.fromstring(run.stdout.encode("utf-8"))
    assert b"\xed" not in (tmp_path / "e.xml").read_bytes()  # no encoded surrogate in the XML


def test_encoders_escape_what_cannot_be_written() -> None:
    assert json.loads(json_text(json.dumps({"a": "x\ud800"}, ensure_ascii=False))) == {
        "a": "x\ud800"}
    assert visible_text("a\x1b[2J\ud800\tb\n\x85\ufffe") == "a\\x1b[2J\\ud800\tb\n\\x85\\ufffe"
    assert visible_text("Å plain ✓") == "Å plain ✓"


# --- 6. metadata parsed once, linearly ---------------------------------------------------------


def test_metadata_is_parsed_once_per_scan(tmp_path, monkeypatch, run_cli) -> None:
    root = _dataset(tmp_path / "ds")
    calls = []
    real = metaparse.parse_json
    monkeypatch.setattr("empiar_validate.scan.metadata.parse_json",
                        lambda text: calls.append(1) or real(text))
    meta = tmp_path / "m.json"
    meta.write_text(json.dumps({"title": "A title long enough", "authors": [
        {"name": f"('A{i}', 'B')", "order_id": i} for i in range(50)]}, indent=2))
    code, _, _ = run_cli("scan", root, "--metadata", meta, "-o", tmp_path / "e.xml")
    assert code == 1 and len(calls) == 1


def test_json_lines_match_the_text() -> None:
    text = '{\n "a": 1,\n "b": [\n  {"c": 2},\n  3\n ],\n "a": 4\n}'
    parsed = metaparse.parse_json(text)
    assert parsed.data == json.loads(text)
    assert parsed.lines[("b", 0, "c")] == 4 and parsed.lines[("b", 1)] == 5
    assert parsed.duplicates == [("a", 7)]


def test_json_parser_agrees_with_json_loads_and_refuses_what_it_refuses() -> None:
    for text in ['{"x": [1, -2.5e3, true, false, null, NaN, -Infinity, "\\u00e9\\n"]}', "[]",
                 '"s"', "  0 ", '{"": {}}']:
        got = metaparse.parse_json(text).data
        assert json.dumps(got) == json.dumps(json.loads(text))
    for bad in ["", "{", '{"a" 1}', "[1,]", "[1 2]", "01", '{"a": 1} x', "{'a': 1}", '"\x01"']:
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad)
        with pytest.raises(json.JSONDecodeError):
            metaparse.parse_json(bad)
    with pytest.raises(metaparse.TooDeep):
        metaparse.parse_json("[" * 1000 + "]" * 1000)


def test_lone_surrogate_in_metadata_never_breaks_package(tmp_path) -> None:
    """Same class as defect 4 in the package outputs: deposition.json (JSON escape), SUMMARY.md
    and the plan (visible escapes), and display_path on text no file name decodes to."""
    from empiar_validate.paths import display_path

    assert display_path("set \ud800") == "set \\ud800"
    root = _dataset(tmp_path / "ds")
    meta = tmp_path / "m.json"
    doc = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "metadata.json")
                     .read_text(encoding="utf-8"))
    doc["title"] = "A title with a lone \ud800 surrogate"
    doc["imagesets"] = [{"name": "set \ud800", "directory": "/data/mics", "details": "x\udfff"}]
    meta.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "bundle"
    run = _cli("package", root, "--metadata", meta, "-o", out, "--format", "json")
    assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr
    written = json.loads((out / "deposition.json").read_text(encoding="utf-8"))
    assert written["title"] == doc["title"]  # the JSON escape reads back as the same text
    assert "\\ud800" in (out / "SUMMARY.md").read_text(encoding="utf-8")
