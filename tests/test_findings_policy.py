"""What a depositor reads: the pre-deposition state, -q, repeats collapsed, rule selection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from empiar_validate.findings import Finding, Severity
from empiar_validate.reporters import FORMATS, render
from empiar_validate.reporting import Report

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "dataset"
INVALID = ROOT / "fixtures" / "xml" / "invalid"
ORCID = INVALID / "S101-orcid-checksum.xml"


def _pre_deposition_metadata(tmp_path: Path) -> Path:
    meta = json.loads((ROOT / "fixtures" / "metadata.json").read_text(encoding="utf-8"))
    meta.pop("accession_code")
    meta.pop("deposition_date")
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(meta), encoding="utf-8")
    return path


def test_sample_before_deposition_quiet_prints_only_the_verdict(tmp_path, run_cli):
    meta = _pre_deposition_metadata(tmp_path)
    code, out, _ = run_cli("scan", SAMPLE, "--metadata", meta, "-o", tmp_path / "e.xml", "-q")
    assert code == 0
    assert out.splitlines() == ["scan: OK: 7 checked, 0 error(s), 0 warning(s), 2 info"]
    # without -q the state is said once, as one info line
    code, out, _ = run_cli("scan", SAMPLE, "--metadata", meta, "-o", tmp_path / "e.xml")
    assert out.count("R101") == 1 and "M115" not in out and "S124" not in out


def test_sample_runs_clean_and_check_prints_no_annotation(tmp_path, run_cli):
    entry = tmp_path / "entry.xml"
    code, out, _ = run_cli("scan", SAMPLE, "--metadata", ROOT / "fixtures" / "metadata.json",
                           "-o", entry, "-q")
    assert code == 0 and out.splitlines() == [
        "scan: OK: 7 checked, 0 error(s), 0 warning(s), 1 info"]
    code, out, _ = run_cli("check", SAMPLE, "--xml", entry, "--format", "github")
    assert code == 0
    assert not [line for line in out.splitlines() if line.startswith("::")], out


def test_pre_deposition_check_and_github(tmp_path, run_cli):
    entry = tmp_path / "entry.xml"
    run_cli("scan", SAMPLE, "--metadata", _pre_deposition_metadata(tmp_path), "-o", entry)
    code, out, _ = run_cli("check", SAMPLE, "--xml", entry, "--format", "github")
    assert code == 0 and "::" not in out, out


def test_an_accession_code_makes_the_rest_required(tmp_path, run_cli):
    meta = _pre_deposition_metadata(tmp_path)
    code, out, _ = run_cli("scan", SAMPLE, "--metadata", meta, "-o", tmp_path / "e.xml", "-q",
                           "--accession-code", "EMPIAR-12345")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2 and "error M115 deposition date" in lines[0], out
    assert "fix:" not in out  # -q: one line each
    code, out, _ = run_cli("scan", SAMPLE, "--metadata", meta, "-o", tmp_path / "e.xml", "-q",
                           "-v", "--accession-code", "EMPIAR-12345")
    assert "    fix: " in out  # -v brings the fix back


@pytest.fixture
def orcid(tmp_path) -> Path:
    """The S101 fixture under a name that does not contain the rule id."""
    path = tmp_path / "entry.xml"
    path.write_bytes(ORCID.read_bytes())
    return path


def _formats(run_cli, orcid: Path, *args: str) -> dict[str, tuple[int, str]]:
    out = {}
    for fmt in FORMATS:
        code, text, _ = run_cli("validate", orcid, "--format", fmt, *args)
        out[fmt] = (code, text)
    return out


@pytest.mark.parametrize("spelling", ["S101", "orcid-checksum", "s101", "S10"])
def test_ignore_silences_a_rule_in_every_format(run_cli, spelling, orcid):
    before = _formats(run_cli, orcid)
    assert all(code == 1 and "S101" in text for code, text in before.values())
    after = _formats(run_cli, orcid, "--ignore", spelling)
    for fmt, (code, text) in after.items():
        assert code == 0, fmt
        assert "S101" not in text, fmt


def test_select_keeps_only_the_selected_rules(run_cli, orcid):
    code, out, _ = run_cli("validate", orcid, "--select", "X100,pixel-size-implausible")
    assert code == 0 and "S101" not in out
    code, out, _ = run_cli("validate", orcid, "--select", "X100", "--select", "S101")
    assert code == 1 and "S101" in out


@pytest.mark.parametrize("prefix", ["S", "s", "X"])
def test_a_one_letter_prefix_selects_a_layer(run_cli, orcid, prefix):
    """docs/output.md's own examples (`--select S`, `select = ["S", "X", "C"]`, `P`): a letter
    alone is a prefix (it was a usage error, exit 2)."""
    code, out, err = run_cli("validate", orcid, "--select", prefix)
    assert code == (1 if prefix.upper() == "S" else 0) and "unknown rule" not in err
    assert ("S101" in out) == (prefix.upper() == "S")
    code, out, err = run_cli("validate", orcid, "--ignore", prefix)
    assert code in (0, 1) and "unknown rule" not in err
    assert ("S101" in out) == (prefix.upper() != "S")


@pytest.mark.parametrize("bad", ["S999", "no-such-rule", "Q1", "Q", "S1,"])
def test_unknown_rules_are_usage_errors(run_cli, bad, orcid):
    code, out, err = run_cli("validate", orcid, "--ignore", bad)
    if bad == "S1,":  # an empty item is allowed (a trailing comma); S1 is a prefix
        assert code == 0
        return
    assert code == 2 and "unknown rule" in err and out == ""


@pytest.mark.parametrize("config", ["pyproject", "own"])
def test_the_repository_configuration_silences_a_rule(
        tmp_path, run_cli, monkeypatch, config, orcid):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    if config == "pyproject":
        (repo / "pyproject.toml").write_text(
            '[project]\nname = "x"\n\n[tool.empiar-validate]\nignore = ["orcid-checksum"]\n',
            encoding="utf-8")
    else:
        (repo / ".empiar-validate.toml").write_text('ignore = ["S101"]\n', encoding="utf-8")
    monkeypatch.chdir(repo / "sub")
    for fmt in FORMATS:
        code, out, _ = run_cli("validate", orcid, "--format", fmt)
        assert code == 0 and "S101" not in out, fmt
    # --select on the command line replaces the configured select, --ignore adds to ignore
    code, out, _ = run_cli("validate", orcid, "--select", "S101")
    assert code == 0


def test_a_configuration_outside_the_repository_is_not_used(tmp_path, run_cli, monkeypatch, orcid):
    (tmp_path / "pyproject.toml").write_text('[tool.empiar-validate]\nignore = ["S101"]\n',
                                             encoding="utf-8")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    assert run_cli("validate", orcid)[0] == 1


def test_a_bad_configuration_is_a_usage_error(tmp_path, run_cli, monkeypatch, orcid):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".empiar-validate.toml").write_text('ignore = ["S1O1"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli("validate", orcid)
    assert code == 2 and "S1O1" in err and ".empiar-validate.toml" in err
    (tmp_path / ".empiar-validate.toml").write_text('ignores = ["S101"]\n', encoding="utf-8")
    code, _, err = run_cli("validate", orcid)
    assert code == 2 and "ignores" in err
    assert "[tool.empiar-validate]" not in err  # the keys of this file are at the top level


def _repeated(n: int) -> Report:
    return Report("scan", [
        Finding("F106", Severity.WARNING, "pixel size unknown", file=f"data/stacks/s{i:02d}.mrc",
                fix="Set it.")
        for i in range(n)
    ] + [Finding("F106", Severity.WARNING, "pixel size unknown", file="data/other/a.mrc")],
        checked=["stacks"])


def test_repeats_of_a_rule_in_one_image_set_are_one_line():
    import io

    out = io.StringIO()
    render(_repeated(12), "text", out)
    lines = out.getvalue().splitlines()
    assert lines[0] == ("data/other/a.mrc: warning F106 pixel size unknown")
    assert lines[1] == ("data/stacks/s00.mrc: warning F106 pixel size unknown (x12 in data/stacks;"
                        " also data/stacks/s01.mrc, data/stacks/s02.mrc and 9 more)")
    assert lines[2] == "    fix: Set it."
    assert lines[3].endswith("0 error(s), 13 warning(s), 0 info")


def test_repeats_in_the_current_directory_name_it(tmp_path, run_cli, monkeypatch):
    """Two broken XML files given by bare name: the folded line says where ("."), it printed
    "(x2 in ; also b.xml:1)"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.xml").write_bytes(b"")
    (tmp_path / "b.xml").write_bytes(b"\xff\xfe<entry")
    code, out, _ = run_cli("validate", "a.xml", "b.xml")
    assert code == 1 and "(x2 in .; also " in out and " in ;" not in out


def test_different_facts_at_one_place_stay_separate():
    """M104 for title and authors (no file), or pixel width and height of one directory, are
    different things to fix, not repeats of one problem."""
    import io

    report = Report("scan", [
        Finding("M104", Severity.ERROR, "title: add it"),
        Finding("M104", Severity.ERROR, "authors: add them"),
        Finding("M104", Severity.ERROR, "pixel_width unknown", file="data/set"),
        Finding("M104", Severity.ERROR, "pixel_height unknown", file="data/set"),
    ])
    out = io.StringIO()
    render(report, "text", out)
    assert "(x" not in out.getvalue() and out.getvalue().count("M104") == 4
    out = io.StringIO()
    render(_repeated(12), "json", out)
    assert len(json.loads(out.getvalue())["findings"]) == 13  # machines get every finding


def test_inspect_collapses_repeats_too(tmp_path, run_cli):
    for i in range(4):
        (tmp_path / f"empty{i}.mrc").write_bytes(b"")
    code, out, _ = run_cli("inspect", tmp_path, "-q")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2 and "(x4 in " in lines[0], out


def test_light_microscopy_in_an_em_entry_has_its_own_pixel_range(tmp_path, run_cli):
    """S109: a BigDataViewer (light-sheet) set of an EMDB entry is checked against 50-100000 Å,
    so the sample's 4000 Å volume is plausible and 4 Å is not."""
    entry = tmp_path / "entry.xml"
    run_cli("scan", SAMPLE, "--metadata", ROOT / "fixtures" / "metadata.json", "-o", entry)
    text = entry.read_text(encoding="utf-8")
    assert "<pixelWidth>4000</pixelWidth>" in text
    assert "S109" not in run_cli("validate", entry)[1]
    entry.write_text(text.replace("<pixelWidth>4000</pixelWidth>", "<pixelWidth>4</pixelWidth>"),
                     encoding="utf-8")
    out = run_cli("validate", entry)[1]
    assert out.count("warning S109") == 1 and "light microscopy" in out


def _epu_session(root: Path) -> Path:
    """An EPU session as EPU writes it: GridSquare_N/Data with fraction movies written page by
    page, each with its .jpg and .xml sidecars, and the grid-square overview beside them."""
    import numpy as np
    import tifffile

    for g in (1, 2):
        data = root / "Images-Disc1" / f"GridSquare_{g}" / "Data"
        data.mkdir(parents=True)
        square = data.parent / f"GridSquare_{g}_20240101_120000"
        square.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
        square.with_suffix(".xml").write_text("<MicroscopeImage/>", encoding="utf-8")
        for h in range(3):
            base = data / f"FoilHole_{g}{h}_Data_1_2_20240101_120000"
            with tifffile.TiffWriter(f"{base}_fractions.tiff") as tif:
                for i in range(5):
                    tif.write(np.full((64, 64), i, np.uint8), contiguous=False)
            base.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
            base.with_suffix(".xml").write_text("<MicroscopeImage/>", encoding="utf-8")
    return root


def test_epu_session_quiet_shows_only_what_to_act_on(tmp_path, run_cli):
    """Sidecars, the derived name and category, and the pre-deposition state are infos: -q
    leaves the missing metadata (what the depositor must add), one line each."""
    session = _epu_session(tmp_path / "session")
    code, out, _ = run_cli("scan", session, "-o", tmp_path / "e.xml", "-q")
    lines = out.splitlines()
    assert code == 1 and lines[-1].startswith("scan: FAILED:")
    body = lines[:-1]
    assert body and all(" error M104 " in line or " warning M105 " in line for line in body), out
    assert not any(".jpg" in line or ".xml" in line or "fix:" in line for line in body)
    code, out, _ = run_cli("scan", session, "-o", tmp_path / "e.xml")
    assert out.count(" info ") >= 2  # without -q the infos are there
