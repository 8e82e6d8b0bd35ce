"""The worked examples in docs/ still work against the code as it is."""

from __future__ import annotations

import csv
import io
import re
import sys
import types
from pathlib import Path

from empiar_validate import reporters
from empiar_validate.findings import RULES, Finding, Severity
from empiar_validate.reporting import Report

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _python_blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), re.S)


def test_the_csv_reporter_of_docs_reporters_md(monkeypatch):
    """Its module and its table row, pasted as the doc shows them, give a working --format."""
    module_code, row = _python_blocks("reporters.md")
    module = types.ModuleType("empiar_validate.reporters.csv_rows")
    exec(compile(module_code, "csv_rows.py", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    key, value = eval("{" + row + "}").popitem()
    monkeypatch.setitem(reporters.REPORTERS, key, value)
    report = Report("scan", [Finding("S101", Severity.ERROR, "bad, \"quoted\"", file="e.xml",
                                     line=3, fix="fix it")], checked=["e.xml"])
    out = io.StringIO()
    reporters.render(report, "csv", out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["rule", "severity", "file", "line", "message", "fix"],
                    ["S101", "error", "e.xml", "3", 'bad, "quoted"', "fix it"]]


def test_the_rule_of_docs_adding_a_rule_md_lands_in_its_layer():
    """P107 as the doc registers it belongs to the package layer and the next free id."""
    from empiar_validate.rule_layers import layer_of

    block = _python_blocks("adding-a-rule.md")[0]
    rule_id = re.search(r'"([A-Z]\d{3})"', block).group(1)
    assert layer_of(rule_id).key == "package"
    import empiar_validate.package.advice  # noqa: F401  (registers the package rules)

    assert rule_id not in RULES, "the example's id is taken now: update docs/adding-a-rule.md"
