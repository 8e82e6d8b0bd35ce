"""Facts kept in one place: dates, accession codes, "path is inside", the EMPIAR namespace."""

from __future__ import annotations

import datetime
import json
import os

import pytest
from dataset_builders import working_example

from empiar_validate.empiar import ACCESSION_CODE, EMPIAR_NS, parse_date
from empiar_validate.paths import is_inside
from empiar_validate.scan.metaconvert import HeaderOptions, entry_header
from empiar_validate.scan.metadata import load_metadata

DATES = ["2024-05-02", "20240502", "2024-W18-4", "2024123", "2024-02-30", "2024-2-3", "2024-02-29"]


def _metadata_answer(tmp_path, value: str) -> str | None:
    data = dict(working_example(), deposition_date=value)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    meta, found = load_metadata(str(path), "m.json")
    assert meta is not None and not found
    h, _ = entry_header(meta, HeaderOptions(), present=lambda rel: (tmp_path / rel).is_file())
    return h.deposition_date


@pytest.mark.parametrize("value", DATES)
def test_cli_and_metadata_agree_on_dates(tmp_path, run_cli, value):
    """``--deposition-date X`` is refused exactly when ``deposition_date: X`` is not accepted."""
    (tmp_path / "data").mkdir()
    code, _, err = run_cli("scan", tmp_path / "data", "-o", tmp_path / "e.xml",
                           "--deposition-date", value)
    cli_accepts = code != 2
    from_metadata = _metadata_answer(tmp_path, value)
    assert cli_accepts == (from_metadata is not None), (code, err, from_metadata)
    assert (from_metadata == value) == cli_accepts


def test_parse_date_takes_only_the_extended_form():
    assert parse_date("2024-05-02") == datetime.date(2024, 5, 2)
    assert parse_date(datetime.date(2024, 5, 2)) == datetime.date(2024, 5, 2)
    assert parse_date(datetime.datetime(2024, 5, 2, 13, 0)) == datetime.date(2024, 5, 2)
    for bad in ("20240502", "2024-W18-4", "2024123", "2024-02-30", "", None, 20240502):
        assert parse_date(bad) is None


def test_accession_code_pattern():
    assert ACCESSION_CODE.fullmatch("EMPIAR-10917")
    assert not ACCESSION_CODE.fullmatch("EMPIAR-1091")
    assert not ACCESSION_CODE.fullmatch("EMD-10917")


def test_is_inside_compares_whole_components(tmp_path):
    a = tmp_path / "a"
    (a / "b").mkdir(parents=True)
    (tmp_path / "ab").mkdir()
    assert is_inside(str(a), str(a))
    assert is_inside(str(a / "b"), str(a))
    assert is_inside(str(a / "b" / ".." / "b"), str(a))
    assert not is_inside(str(tmp_path / "ab"), str(a))
    assert not is_inside(str(tmp_path), str(a))
    os.symlink(tmp_path / "ab", a / "link")
    assert not is_inside(str(a / "link"), str(a))  # resolved: the link leads out
    assert is_inside(str(a / "link"), str(a), resolve=False)


def test_one_namespace_constant():
    from empiar_validate.scan import drift, emit
    from empiar_validate.validation import root, xsd

    assert EMPIAR_NS == "http://pdbe.org/empiar"
    assert drift.NS is EMPIAR_NS and emit.NS is EMPIAR_NS and xsd.EMPIAR_NS is EMPIAR_NS
    assert f"{{{EMPIAR_NS}}}entry" == root.ENTRY_TAG
