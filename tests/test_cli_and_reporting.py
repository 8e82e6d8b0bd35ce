"""CLI contract (exit codes, usage errors) and the four report formats."""

from __future__ import annotations

import json
import subprocess
import sys
from xml.etree import ElementTree

from empiar_validate.findings import Finding, Severity
from empiar_validate.reporters import render
from empiar_validate.reporting import Report


def test_usage_errors_exit_2(run_cli):
    assert run_cli()[0] == 2
    code, _, err = run_cli("frobnicate")
    assert code == 2 and "unknown command" in err
    assert run_cli("inspect")[0] == 2  # missing PATH
    assert run_cli("inspect", "--format", "yaml", "x")[0] == 2


def test_version_and_help(run_cli):
    assert run_cli("--version")[0] == 0
    assert run_cli("--help")[0] == 0


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "empiar_validate", "--version"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "empiar-validate" in proc.stdout


def _report() -> Report:
    return Report(
        "validate",
        [
            Finding("S101", Severity.ERROR, "bad ORCID, checksum", file="a.xml", line=7,
                    xpath="/entry/admin", fix="fix it"),
            Finding("S200", Severity.WARNING, "odd\nvalue", file="a.xml", line=3),
        ],
        checked=["a.xml", "b.xml"],
        data={"valid": False},
    )


def test_text_report_is_sorted_and_has_verdict():
    import io

    out = io.StringIO()
    render(_report(), "text", out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("a.xml:3: warning S200")
    assert any(line.startswith("a.xml:7: error S101") for line in lines)
    assert lines[-1].startswith("validate: FAILED: 2 checked, 1 error(s), 1 warning(s)")


def test_json_report_shape():
    import io

    out = io.StringIO()
    render(_report(), "json", out)
    doc = json.loads(out.getvalue())
    assert doc["valid"] is False
    assert doc["counts"] == {"error": 1, "warning": 1, "info": 0}
    assert doc["findings"][1] == {
        "rule": "S101", "severity": "error", "message": "bad ORCID, checksum", "file": "a.xml",
        "line": 7, "path": "/entry/admin", "fix": "fix it",
    }


def test_junit_report_parses_and_counts_failures():
    import io

    out = io.StringIO()
    render(_report(), "junit", out)
    root = ElementTree.fromstring(out.getvalue())
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["a.xml"].find("failure") is not None
    assert cases["b.xml"].find("failure") is None


def test_github_annotations_escape_properties():
    import io

    out = io.StringIO()
    render(_report(), "github", out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "::warning file=a.xml,line=3,title=S200::odd%0Avalue"
    assert lines[1].startswith("::error file=a.xml,line=7,title=S101::bad ORCID, checksum")


def test_inspect_missing_path_is_a_usage_error(run_cli, tmp_path):
    code, _, err = run_cli("inspect", tmp_path / "nope.mrc")
    assert code == 2 and "nope.mrc" in err


def test_scan_flags_are_checked_before_any_work(run_cli, tmp_path):
    out = tmp_path / "entry.xml"
    code, _, err = run_cli("scan", tmp_path, "-o", out, "--deposition-date", "2024-13-45")
    assert code == 2 and "--deposition-date" in err
    code, _, err = run_cli("scan", tmp_path, "-o", out, "--accession-code", "EMPIAR-1")
    assert code == 2 and "--accession-code" in err
    assert not out.exists()


def test_unparsable_metadata_writes_nothing(run_cli, tmp_path):
    meta = tmp_path / "meta.json"
    meta.write_text('{"title": "x",\n  bad\n}')
    out = tmp_path / "entry.xml"
    out.write_text("a good XML from an earlier run")
    code, stdout, _ = run_cli("scan", tmp_path, "--metadata", meta, "-o", out)
    assert code == 1 and "M101" in stdout and f"{meta}:2:" in stdout
    assert out.read_text() == "a good XML from an earlier run"
    code, stdout, _ = run_cli("package", tmp_path, "--metadata", meta, "-o", tmp_path / "b",
                              "--allow-inside")
    assert code == 1 and "M101" in stdout and not (tmp_path / "b").exists()


def test_jobs_must_be_positive_for_every_command(run_cli, tmp_path):
    for command in (("inspect", tmp_path), ("scan", tmp_path, "-o", tmp_path / "e.xml"),
                    ("check", tmp_path, "--xml", tmp_path / "e.xml")):
        assert run_cli(*command, "-j", "0")[0] == 2, command
