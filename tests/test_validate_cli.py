"""``empiar-validate validate``: exit codes, report shapes, planted violations, schema swapping,
lazy imports and loading the schemas from an installed wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "xml"
REAL = FIXTURES / "valid" / "real-header-like.xml"
VALID = sorted((FIXTURES / "valid").glob("*.xml"))


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = text.index(marker, index + 1)
    return text[:index].count("\n") + 1


def test_valid_files_exit_0(run_cli):
    code, out, err = run_cli("validate", *VALID)
    assert code == 0, out
    assert "validate: OK: 4 checked, 0 error(s), 0 warning(s)" in out
    assert "empiar.xsd 0.50-ev4 (built in)" in out
    assert err == ""


def test_json_report_shape(run_cli):
    bad = FIXTURES / "invalid" / "S101-orcid-checksum.xml"
    code, out, _ = run_cli("validate", "--format", "json", REAL, bad)
    assert code == 1
    doc = json.loads(out)
    assert doc["command"] == "validate"
    assert doc["valid"] is False
    assert doc["files"] == [{"file": str(REAL), "valid": True}, {"file": str(bad), "valid": False}]
    assert doc["schemas"]["xsd"].startswith("empiar.xsd")
    (finding,) = doc["findings"]
    assert finding["rule"] == "S101"
    assert finding["severity"] == "error"
    assert finding["line"] == 21
    assert finding["path"] == "/entry/admin/principalInvestigator[1]/authorORCID"
    assert finding["file"] == str(bad)
    assert "Fix:" in finding["message"]


def test_warnings_alone_exit_0(run_cli):
    code, out, _ = run_cli("validate", FIXTURES / "invalid" / "S109-pixel-size-plausible.xml")
    assert code == 0
    assert "warning S109" in out


def test_quiet_prints_findings_and_verdict_only(run_cli):
    code, out, _ = run_cli("validate", "-q", REAL)
    assert code == 0
    assert out.splitlines() == ["validate: OK: 1 checked, 0 error(s), 0 warning(s), 0 info"]


@pytest.mark.parametrize("fmt", ["junit", "github"])
def test_other_formats(run_cli, fmt):
    bad = FIXTURES / "invalid" / "S111-directory-unique.xml"
    code, out, _ = run_cli("validate", "--format", fmt, bad)
    assert code == 1
    if fmt == "github":
        assert f"::error file={bad},line=98,title=S111::" in out
    else:
        assert 'type="S111"' in out and "<testsuites" in out


# --------------------------------------------------------------------------- planted violations

# (what, old, new, rule, marker of the line the finding must be on)
PLANTED = [
    ("bad ORCID checksum", "<authorORCID>0000-0001-5109-3700</authorORCID>",
     "<authorORCID>0000-0001-5109-3701</authorORCID>", "S101", "0000-0001-5109-3701"),
    ("malformed EMDB id", "<emdbEntry>EMD-13245</emdbEntry>", "<emdbEntry>EMDB-13245</emdbEntry>",
     "X100", "<emdbEntry>"),
    ("negative pixel size", "<pixelHeight>0.543</pixelHeight>",
     "<pixelHeight>-0.543</pixelHeight>", "X100", "<pixelHeight>"),
    ("negative pixel size (Schematron)", "<pixelHeight>0.543</pixelHeight>",
     "<pixelHeight>-0.543</pixelHeight>", "S108", "<pixelHeight>"),
    ("misspelt category", "<category>micrographs - multiframe</category>",
     "<category>micrograph - multiframe</category>", "X100", "<category>"),
    ("unknown voxel type", "<voxelType>UNSIGNED BYTE</voxelType>",
     "<voxelType>UNSIGNED 8 BIT INTEGER</voxelType>", "X100", "<voxelType>"),
    ("zero images", "<numImagesOrTiltSeries>11264</numImagesOrTiltSeries>",
     "<numImagesOrTiltSeries>0</numImagesOrTiltSeries>", "S106", "<numImagesOrTiltSeries>"),
    ("impossible date", "<depositionDate>2021-11-18</depositionDate>",
     "<depositionDate>2021-02-30</depositionDate>", "X100", "<depositionDate>"),
    ("missing title", "        <title>Cryo-EM of the human replisome", "        <!-- no title ",
     "X100", "<correspondingAuthor>"),
    ("EMDB experiment without EMDB reference",
     "<relatedEMDBEntries>\n            <emdbEntry>EMD-13245</emdbEntry>\n"
     "        </relatedEMDBEntries>", "", "S102", "<experimentType>EMDB"),
    ("inverted frame range", "<framesPerImage>40</framesPerImage>",
     "<framesPerImage>40</framesPerImage>\n        <frameRange><frameRangeMin>30</frameRangeMin>"
     "<frameRangeMax>2</frameRangeMax></frameRange>", "S103", "<frameRange>"),
    ("duplicated image-set directory", "    </imageSet>\n</entry>",
     "    </imageSet>\n    <imageSet>\n        <name>Second set</name>\n"
     "        <directory>/data/CMG-fork_movies</directory>\n"
     "        <category>class averages</category>\n        <headerFormat>MRCS</headerFormat>\n"
     "        <dataFormat>MRCS</dataFormat>\n"
     "        <numImagesOrTiltSeries>50</numImagesOrTiltSeries>\n"
     "        <framesPerImage>1</framesPerImage>\n        <voxelType>32 BIT FLOAT</voxelType>\n"
     "        <dimensions><imageWidth>64</imageWidth><pixelWidth>2.1</pixelWidth>"
     "<imageHeight>64</imageHeight><pixelHeight>2.1</pixelHeight></dimensions>\n"
     "    </imageSet>\n</entry>", "S111", "<directory>/data/CMG-fork_movies</directory>#2"),
    ("author order 0", '<author order="1" authorORCID="0000-0002-2471-4046">',
     '<author order="0" authorORCID="0000-0002-2471-4046">', "X100", '<author order="0"'),
    ("author order 0 (Schematron)", '<author order="1" authorORCID="0000-0002-2471-4046">',
     '<author order="0" authorORCID="0000-0002-2471-4046">', "S116", '<author order="0"'),
]


@pytest.mark.parametrize(("what", "old", "new", "rule", "marker"), PLANTED,
                         ids=[p[0] for p in PLANTED])
def test_planted_violation_is_an_error_on_its_line(tmp_path, run_cli, what, old, new, rule,
                                                   marker):
    text = REAL.read_text(encoding="utf-8")
    assert text.count(old) >= 1, what
    if what == "missing title":
        end = text.index("\n", text.index(old))
        planted = text[: text.index(old)] + text[end + 1:]
    else:
        planted = text.replace(old, new, 1)
    path = tmp_path / "planted.xml"
    path.write_text(planted, encoding="utf-8")
    marker, _, nth = marker.partition("#")
    expected_line = line_of(planted, marker, int(nth or 1))

    code, out, err = run_cli("validate", "--format", "json", path)
    assert code == 1, out
    assert err == ""
    findings = json.loads(out)["findings"]
    ours = [f for f in findings if f["rule"] == rule]
    assert ours, f"{rule} not in {[(f['rule'], f['line']) for f in findings]}"
    assert all(f["severity"] == "error" for f in ours)
    assert expected_line in [f["line"] for f in ours]


# --------------------------------------------------------------------------- exit 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["does-not-exist.xml"], "no such file"),
        ([str(FIXTURES)], "is a directory"),
        (["--xsd", "missing.xsd", str(REAL)], "cannot read"),
        (["--sch", "missing.sch", str(REAL)], "cannot read"),
        (["--xsd", str(REAL), str(REAL)], "not a usable XML Schema"),
        (["--sch", str(ROOT / "README.md"), str(REAL)], "not well-formed"),
        ([], ""),
    ],
)
def test_usage_errors_exit_2_without_traceback(run_cli, args, words):
    code, out, err = run_cli("validate", *args)
    assert code == 2
    assert words in err
    assert "Traceback" not in err + out


def test_fifo_input_exits_2_without_blocking(tmp_path, run_cli):
    fifo = tmp_path / "entry.xml"
    os.mkfifo(fifo)
    code, _, err = run_cli("validate", fifo)
    assert code == 2 and "not a regular file" in err


def test_unevaluable_schematron_exits_2(tmp_path, run_cli):
    sch = tmp_path / "xpath2.sch"
    sch.write_text(
        '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">'
        '<pattern><rule context="*"><assert id="Z1" test="matches(., \'a+\')">x</assert></rule>'
        "</pattern></schema>", encoding="utf-8")
    code, _, err = run_cli("validate", "--sch", sch, REAL)
    assert code == 2 and "cannot evaluate the Schematron" in err and "Traceback" not in err


# --------------------------------------------------------------------------- --xsd / --sch


def test_xsd_and_sch_can_be_swapped(tmp_path, run_cli):
    misspelt = FIXTURES / "invalid" / "X100-misspelt-category.xml"
    xsd = tmp_path / "official.xsd"
    xsd.write_text((ROOT / "schemas" / "empiar.xsd").read_text(encoding="utf-8").replace(
        '<xs:enumeration value="micrographs - multiframe"/>',
        '<xs:enumeration value="micrographs - multiframe"/>\n'
        '      <xs:enumeration value="micrographs - multi-frame"/>'), encoding="utf-8")
    assert run_cli("validate", misspelt)[0] == 1
    code, out, _ = run_cli("validate", "--xsd", xsd, misspelt, "--format", "json")
    assert code == 0
    assert json.loads(out)["schemas"]["xsd"] == str(xsd)

    sch = tmp_path / "official.sch"
    sch.write_text((ROOT / "schemas" / "empiar.sch").read_text(encoding="utf-8").replace(
        '<assert id="S110" role="error"', '<assert id="S110" role="warning"'), encoding="utf-8")
    wrong_dir = FIXTURES / "invalid" / "S110-directory-data.xml"
    assert run_cli("validate", wrong_dir)[0] == 1
    code, out, _ = run_cli("validate", "--sch", sch, wrong_dir)
    assert code == 0 and "warning S110" in out


# --------------------------------------------------------------------------- imports, wheel


def test_validate_does_not_import_image_libraries():
    code = (
        "import sys\n"
        "from empiar_validate.cli import main\n"
        f"rc = main(['validate', '-q', {str(REAL)!r}])\n"
        "heavy = sorted({'h5py', 'tifffile', 'mrcfile', 'numpy'} & set(sys.modules))\n"
        "assert rc == 0 and not heavy, (rc, heavy)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> Path:
    """The project's wheel, built without network and unpacked: an install without the source
    tree (and so without the top-level schemas/ directory)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "--no-index", "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = out.glob("empiar_validate-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "empiar_validate/schemas/empiar.xsd" in names
        assert "empiar_validate/schemas/empiar.sch" in names
        zf.extractall(site)
    return site


def test_schemas_load_from_the_installed_wheel(installed_wheel, tmp_path):
    script = (
        "import sys, empiar_validate\n"
        "from empiar_validate.validation.schemas import shipped_schema\n"
        "from empiar_validate.cli import main\n"
        f"assert empiar_validate.__file__.startswith({str(installed_wheel)!r}), "
        "empiar_validate.__file__\n"
        f"assert str(shipped_schema('empiar.sch')).startswith({str(installed_wheel)!r})\n"
        f"sys.exit(main(['validate', '--format', 'json', {str(REAL)!r}, "
        f"{str(FIXTURES / 'invalid' / 'S102-emdb-reference.xml')!r}]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(installed_wheel)}
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["valid"] for f in doc["files"]] == [True, False]
    assert [f["rule"] for f in doc["findings"]] == ["S102"]


# --------------------------------------------------------------------------- --only-empiar

BDV = ('<?xml version="1.0" encoding="UTF-8"?>\n<SpimData version="0.2">\n'
       "  <BasePath type=\"relative\">.</BasePath>\n</SpimData>\n")


def test_only_empiar_skips_other_xml_and_still_validates_entries(tmp_path, run_cli):
    bdv = tmp_path / "dataset.xml"
    bdv.write_text(BDV, encoding="utf-8")
    broken_other = tmp_path / "workflow.xml"  # not well-formed, but clearly not an entry
    broken_other.write_text('<workflow xmlns="urn:example:wf"><step></workflow>', "utf-8")
    bad_entry = FIXTURES / "invalid" / "S101-orcid-checksum.xml"

    code, out, _ = run_cli("validate", "--only-empiar", bdv, REAL, broken_other)
    assert code == 0, out
    assert f"{bdv}: skipped (root element <SpimData> is not an EMPIAR entry)" in out
    assert f"{broken_other}: skipped (root element <workflow> in namespace urn:example:wf" in out
    assert "validate: OK: 1 checked, 0 error(s)" in out

    code, out, _ = run_cli("validate", "--only-empiar", "--format", "json", bdv, bad_entry)
    doc = json.loads(out)
    assert code == 1
    assert doc["skipped"] == [str(bdv)]
    assert doc["files"] == [{"file": str(bad_entry), "valid": False}]
    assert [f["rule"] for f in doc["findings"]] == ["S101"]

    # without the flag the same file is an X101 error, and the JSON has no "skipped" key
    code, out, _ = run_cli("validate", "--format", "json", bdv)
    doc = json.loads(out)
    assert code == 1 and "skipped" not in doc
    assert [f["rule"] for f in doc["findings"]] == ["X101"]


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        # an EMPIAR entry that does not parse is still reported, not skipped
        ("broken-entry.xml",
         '<entry xmlns="http://pdbe.org/empiar" accessionCode="EMPIAR-10001"><admin></entry>',
         "X001"),
        ("doctype-entry.xml",
         '<?xml version="1.0"?>\n<!DOCTYPE entry [<!ENTITY a "b">]>\n'
         '<e:entry xmlns:e="http://pdbe.org/empiar"/>', "X002"),
        # no root start tag can be read: cannot tell, so it is reported
        ("garbage.xml", "this is not XML at all", "X001"),
    ],
)
def test_only_empiar_reports_unparseable_entries(tmp_path, run_cli, name, content, rule):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, out, _ = run_cli("validate", "--only-empiar", "--format", "json", path)
    doc = json.loads(out)
    assert code == 1 and doc["skipped"] == []
    assert [f["rule"] for f in doc["findings"]] == [rule]


@pytest.mark.parametrize(
    ("head", "root"),
    [
        (b'<?xml version="1.0"?>\n<!-- c > d -->\n<?pi x?>\n<entry xmlns="http://pdbe.org/empiar"'
         b' accessionCode="EMPIAR-10001">', "{http://pdbe.org/empiar}entry"),
        (b"<e:entry xmlns:e='http://pdbe.org/empiar' xmlns='urn:other'>",
         "{http://pdbe.org/empiar}entry"),
        (b'<entry xmlns:e="http://pdbe.org/empiar">', "entry"),
        (b'<!DOCTYPE SpimData [ <!ENTITY x "y"> ]>\n<SpimData version="0.2">', "SpimData"),
        ('\ufeff<entry xmlns="http://pdbe.org/empiar"/>'.encode("utf-16"),
         "{http://pdbe.org/empiar}entry"),
        (b"\xef\xbb\xbf<a:b xmlns:a='urn:a'/>", "{urn:a}b"),
        (b"<e:entry>", None),  # undeclared prefix
        (b"<!-- never closed", None),
        (b"plain text", None),
        (b'<entry xmlns="http://pdbe.org/empiar" attr=>', None),
        (b"", None),
    ],
)
def test_root_is_read_from_the_start_tag(head, root):
    from empiar_validate.validation.root import root_of_bytes

    assert root_of_bytes(head) == root


def test_only_empiar_still_validates_an_old_namespace_less_entry(tmp_path, run_cli):
    old = tmp_path / "10002.xml"
    old.write_text('<entry accessionCode="EMPIAR-10002"><admin/></entry>')
    code, out, _ = run_cli("validate", "--only-empiar", "--format", "json", old)
    doc = json.loads(out)
    assert code == 1
    assert doc["skipped"] == []
    assert [f["rule"] for f in doc["findings"]] == ["X101"]


def test_a_schema_that_is_not_schematron_is_a_usage_error(tmp_path, run_cli):
    """An XSD (or any other XML) given as --sch must not silently switch the Schematron off."""
    from empiar_validate.validation.schemas import shipped_schema

    xsd = tmp_path / "empiar.xsd"
    xsd.write_bytes(shipped_schema("empiar.xsd").read_bytes())
    bad = ROOT / "fixtures" / "xml" / "invalid" / "S101-orcid-checksum.xml"
    code, _, err = run_cli("validate", bad, "--sch", xsd)
    assert code == 2 and "not an ISO Schematron schema" in err
    empty = tmp_path / "empty.sch"
    empty.write_text('<schema xmlns="http://purl.oclc.org/dsdl/schematron"><pattern/></schema>')
    code, _, err = run_cli("validate", bad, "--sch", empty)
    assert code == 2 and "has no rule" in err


def test_a_bad_xsd_is_named_by_its_own_file_name(tmp_path, run_cli):
    other = tmp_path / "notschema.xml"
    other.write_text("<x/>")
    code, _, err = run_cli("validate", ROOT / "fixtures" / "xml" / "valid" / "real-header-like.xml",
                           "--xsd", other)
    assert code == 2 and "notschema.xml" in err and "schema.xml'" not in err.replace(
        "notschema.xml'", "")
