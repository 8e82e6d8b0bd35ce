"""scan on a dataset written by other tools, with empiar-depositor's own example as metadata."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from dataset_builders import (
    EXPECTED,
    build_dataset,
    depositor_metadata,
    image_set_values,
)
from lxml import etree

from empiar_validate.cli import main

ROOT = Path(__file__).resolve().parent.parent
NS = {"e": "http://pdbe.org/empiar"}


def run(*args: object) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("e2e")
    data = build_dataset(base / "data")
    meta = base / "metadata.json"
    meta.write_text(json.dumps(depositor_metadata(), indent=2), encoding="utf-8")
    code, report = run("scan", data, "--metadata", meta, "-o", base / "entry.xml",
                       "--format", "json", "-q")
    code2, _ = run("scan", data, "--metadata", meta, "-o", base / "again.xml", "-q")
    return {"base": base, "data": data, "meta": meta, "code": code, "code2": code2,
            "report": json.loads(report), "xml": (base / "entry.xml").read_bytes(),
            "again": (base / "again.xml").read_bytes()}


def test_scan_succeeds_and_the_xml_validates(scanned):
    assert scanned["code"] == 0, scanned["report"]["findings"]
    assert scanned["report"]["valid"] is True
    assert not [f for f in scanned["report"]["findings"] if f["severity"] == "error"]
    # independently of the project's validator: plain lxml against the shipped XSD
    schema = etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "empiar.xsd")))
    doc = etree.fromstring(scanned["xml"]).getroottree()
    assert schema.validate(doc), schema.error_log


def test_every_derived_number_is_exactly_right(scanned):
    values = image_set_values(scanned["xml"])
    assert sorted(values) == sorted(EXPECTED)
    for directory, expected in EXPECTED.items():
        got = {k: values[directory].get(k) for k in expected}
        assert got == expected, directory


def test_metadata_came_through(scanned):
    root = etree.fromstring(scanned["xml"])
    assert root.get("accessionCode") == "EMPIAR-12345"
    text = lambda path: root.findtext(path, namespaces=NS)  # noqa: E731
    assert text("e:admin/e:title") == "Vibrio cholerae toxin-coregulated pilus machine"
    assert text("e:admin/e:experimentType") == "EMDB"
    assert text("e:admin/e:keyDates/e:depositionDate") == "2024-03-01"
    assert text("e:admin/e:entryDOI") == "10.6019/EMPIAR-12345"
    assert text("e:admin/e:scipionWorkflow") == "data/workflow.json"
    assert [a.text for a in root.findall("e:admin/e:authorsList/e:author", NS)] == [
        "Smith JW", "Test T"]
    assert root.find("e:admin/e:authorsList/e:author", NS).get("authorORCID") == \
        "0000-0002-1825-0097"
    assert text("e:admin/e:correspondingAuthor/e:country") == "United States"
    assert text("e:admin/e:principalInvestigator/e:email") == "test@example.com"
    assert [e.text for e in root.findall(".//e:emdbEntry", NS)] == ["EMD-8000"]
    cite = root.find(".//e:universalCitation/e:journalCitation", NS)
    assert cite.get("published") == "true"
    assert cite.findtext("e:title", namespaces=NS).startswith("Architecture of the Vibrio")
    assert cite.findtext("e:journal", namespaces=NS) == "Nature microbiology"
    assert [(a.get("order"), a.text) for a in cite.findall("e:author", NS)] == [
        ("1", "Smith JW"), ("2", "Test T")]
    refs = {r.get("type"): r.text for r in cite.findall("e:externalReferences", NS)}
    assert refs == {"doi": "10.1038/nmicrobiol.2016.269", "pubmed": "28165453"}
    movies = image_set_values(scanned["xml"])["/data/movies"]
    assert movies["name"] == "Multi-frame movies of the pilus machine"
    assert (movies["frameRangeMin"], movies["frameRangeMax"]) == ("1", "6")
    assert movies["micrographsFilePattern"] == "data/movies/*.tiff"
    assert values_of(scanned, "/data/particles")["pickedParticlesFilePattern"] == \
        "data/particles/particles.star"


def values_of(scanned, directory):
    return image_set_values(scanned["xml"])[directory]


def test_two_scans_are_byte_identical(scanned):
    assert scanned["code2"] == 0
    assert scanned["xml"] == scanned["again"]
    assert scanned["xml"].startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<entry ')


def test_json_report_lists_image_sets_with_derived_values(scanned):
    sets = {s["directory"]: s for s in scanned["report"]["image_sets"]}
    movies = sets["/data/movies"]
    assert movies["numImagesOrTiltSeries"] == 3 and movies["framesPerImage"] == 6
    assert movies["companions"] == ["movies/gain.mrc"]
    assert "num_images_or_tilt_series" in movies["derived_from_headers"]
    assert "pixel_width" not in movies["derived_from_headers"]  # typed in the metadata
    assert sets["/data/particles"]["numImagesOrTiltSeries"] == 17
    assert sets["/data/tomo"]["companions"] == [
        "tomo/TS_01.mrc.mdoc", "tomo/TS_01.rawtlt", "tomo/TS_02.rawtlt"]


def test_without_metadata_the_xml_holds_only_what_is_known(scanned, tmp_path):
    code, report = run("scan", scanned["data"], "-o", tmp_path / "bare.xml", "--format",
                       "json", "-q")
    doc = json.loads(report)
    assert code == 1 and doc["valid"] is False
    xml = (tmp_path / "bare.xml").read_bytes()
    root = etree.fromstring(xml)
    assert root.find("e:admin/e:title", NS) is None  # no placeholder title
    assert root.get("accessionCode") is None
    missing = [f["message"] for f in doc["findings"] if f["rule"] == "M104"]
    for what in ("title", "experiment type", "authors", "corresponding author",
                 "principal investigator"):
        assert any(m.startswith(what) for m in missing), what
    # assigned by EMPIAR at deposition: the pre-deposition state, one info (R101)
    assert not [f for f in doc["findings"] if f["rule"] in ("M115", "S124", "S125")]
    assert [f["severity"] for f in doc["findings"] if f["rule"] == "R101"] == ["info"]
    # image sets without an entry are still fully derived, and say how to describe them
    assert image_set_values(xml)["/data/tomo"]["numImagesOrTiltSeries"] == "2"
    assert sum(f["rule"] == "M109" for f in doc["findings"]) == len(EXPECTED)


def test_scan_before_deposition_exits_0_with_a_valid_private_header(scanned, tmp_path):
    """A depositor or a lab CI gate scans before EMPIAR has assigned the accession code and
    the deposition date: one info line (R101, silent with -q), exit 0, and the XML validates.
    Once an accession code is given, what EMPIAR then requires is an error."""
    meta = {k: v for k, v in depositor_metadata().items()
            if k not in ("accession_code", "deposition_date")}
    assert meta != depositor_metadata()
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    out = tmp_path / "entry.xml"
    code, report = run("scan", scanned["data"], "--metadata", path, "-o", out,
                       "--format", "json", "-q")
    doc = json.loads(report)
    assert code == 0, [f for f in doc["findings"] if f["severity"] == "error"]
    assert doc["valid"] is True
    rules = sorted(f["rule"] for f in doc["findings"] if f["rule"] in
                   ("M104", "M115", "S123", "S124", "S125", "X100", "R101"))
    assert rules == ["R101"]
    assert all(f["severity"] == "info" for f in doc["findings"] if f["rule"] in rules)
    root = etree.parse(str(out)).getroot()
    assert root.get("accessionCode") is None and root.get("public") == "false"
    assert root.find("e:admin/e:entryDOI", NS) is None
    assert len(root.find("e:admin/e:keyDates", NS)) == 0  # present, empty
    schema = etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "empiar.xsd")))
    assert schema.validate(root.getroottree()), schema.error_log
    # `validate` agrees: one info, exit 0; with -q nothing but the verdict
    code, text = run("validate", out)
    assert code == 0 and text.count("info R101") == 1 and "S124" not in text
    code, text = run("validate", out, "-q")
    assert code == 0 and text.splitlines() == [
        "validate: OK: 1 checked, 0 error(s), 0 warning(s), 1 info"]
    text = run("scan", scanned["data"], "--metadata", path, "-o", out, "-q")[1]
    assert len(text.splitlines()) == 1 and " 0 warning(s)" in text, text  # infos counted only
    # an accession code without a deposition date: the date is now required (one error)
    code, report = run("scan", scanned["data"], "--metadata", path, "-o", out,
                       "--accession-code", "EMPIAR-12345", "--format", "json", "-q")
    doc = json.loads(report)
    assert code == 1
    assert [(f["rule"], f["severity"]) for f in doc["findings"]
            if f["rule"] in ("M115", "S124", "S125", "R101")] == [("M115", "error")]


def test_scan_usage_errors_exit_2(tmp_path):
    assert run("scan", tmp_path / "nope", "-o", tmp_path / "x.xml")[0] == 2
    assert run("scan", tmp_path, "-o", tmp_path / "missing-dir" / "x.xml")[0] == 2
    assert run("scan", tmp_path, "--metadata", tmp_path / "m.json", "-o", tmp_path / "x.xml")[0] \
        == 2


def test_xml_written_inside_the_dataset_is_left_out(scanned, tmp_path):
    data = tmp_path / "data"
    build_dataset(data, dm=False, bdv=False)
    out = data / "entry.xml"
    first = run("scan", data, "-o", out, "--deposition-date", "2024-03-01", "-q", "--format",
                "json")
    xml = out.read_bytes()
    second = run("scan", data, "-o", out, "--deposition-date", "2024-03-01", "-q", "--format",
                 "json")
    assert out.read_bytes() == xml  # its own size does not creep into datasetSize
    assert json.loads(first[1])["uncovered"] == json.loads(second[1])["uncovered"] == [
        "workflow.json"]
    code, report = run("check", data, "--xml", out, "--format", "json", "-q")
    assert code == 1  # no metadata: the XML is incomplete, but it agrees with the data
    drift = [f for f in json.loads(report)["findings"] if f["rule"].startswith("C")]
    assert [(f["rule"], f["message"]) for f in drift] == [
        ("C105", "1 file(s) outside every image-set directory: workflow.json")]
