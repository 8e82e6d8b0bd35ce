"""Render findings for people (text) and machines (JSON, JUnit XML, GitHub annotations).

Checks never print; they return a :class:`Report`. This module is the only place that turns
findings into output, so every command gets the same four formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from empiar_validate.findings import Finding, Severity

FORMATS = ("text", "json", "junit", "github")


@dataclass(slots=True)
class Report:
    """The outcome of one command.

    ``checked`` names every unit checked (files, image sets), so JUnit can show passing cases too.
    ``data`` holds command-specific JSON keys (``valid``, ``files``, ``checksums``...), placed
    before ``findings`` in the JSON output. ``summary`` is extra text lines for the text format.
    """

    command: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    def sorted_findings(self) -> list[Finding]:
        """Findings in a stable order (file, line, rule, message)."""
        return sorted(self.findings, key=Finding.sort_key)

    @property
    def has_errors(self) -> bool:
        """True when the run should exit 1."""
        return any(f.severity is Severity.ERROR for f in self.findings)


def render(report: Report, fmt: str, stream: TextIO) -> None:
    """Write ``report`` to ``stream`` in ``fmt`` (one of :data:`FORMATS`)."""
    {"text": _text, "json": _json, "junit": _junit, "github": _github}[fmt](report, stream)


def _location(f: Finding) -> str:
    loc = f.file or "-"
    if f.line:
        loc += f":{f.line}"
    return loc


def format_finding(f: Finding) -> str:
    """One human line: ``file:line: severity RULE message [at xpath] (fix: ...)``."""
    text = f"{_location(f)}: {f.severity} {f.rule} {f.message}"
    if f.xpath:
        text += f" [at {f.xpath}]"
    if f.fix:
        text += f"\n    fix: {f.fix}"
    return text


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {str(s): 0 for s in Severity}
    for f in findings:
        counts[str(f.severity)] += 1
    return counts


def _text(report: Report, out: TextIO) -> None:
    for line in report.summary:
        out.write(line + "\n")
    for f in report.sorted_findings():
        out.write(format_finding(f) + "\n")
    c = _counts(report.findings)
    verdict = "FAILED" if report.has_errors else "OK"
    out.write(
        f"{report.command}: {verdict}: {len(report.checked)} checked, "
        f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info\n"
    )


def _json(report: Report, out: TextIO) -> None:
    doc: dict[str, object] = {"command": report.command}
    doc.update(report.data)
    doc["counts"] = _counts(report.findings)
    doc["findings"] = [f.to_dict() for f in report.sorted_findings()]
    json.dump(doc, out, indent=2, ensure_ascii=False, sort_keys=False)
    out.write("\n")


def _junit(report: Report, out: TextIO) -> None:
    by_unit: dict[str, list[Finding]] = {name: [] for name in report.checked}
    for f in report.sorted_findings():
        by_unit.setdefault(f.image_set or f.file or "(run)", []).append(f)
    failures = sum(1 for fs in by_unit.values() if any(f.severity is Severity.ERROR for f in fs))
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(
        f'<testsuites name="empiar-validate" tests="{len(by_unit)}" failures="{failures}">\n'
        f'  <testsuite name={quoteattr("empiar-validate " + report.command)} '
        f'tests="{len(by_unit)}" failures="{failures}" errors="0" skipped="0">\n'
    )
    for unit in sorted(by_unit):
        fs = by_unit[unit]
        out.write(f"    <testcase classname={quoteattr(report.command)} name={quoteattr(unit)}>\n")
        errors = [f for f in fs if f.severity is Severity.ERROR]
        if errors:
            body = "\n".join(format_finding(f) for f in errors)
            out.write(
                f"      <failure message={quoteattr(errors[0].message)} "
                f"type={quoteattr(errors[0].rule)}>{escape(body)}</failure>\n"
            )
        others = [f for f in fs if f.severity is not Severity.ERROR]
        if others:
            body = "\n".join(format_finding(f) for f in others)
            out.write(f"      <system-out>{escape(body)}</system-out>\n")
        out.write("    </testcase>\n")
    out.write("  </testsuite>\n</testsuites>\n")


def _gh_escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def _github(report: Report, out: TextIO) -> None:
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    for f in report.sorted_findings():
        props = []
        if f.file:
            props.append(f"file={_gh_escape(f.file, prop=True)}")
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_gh_escape(f.rule, prop=True)}")
        msg = f.message + (f" (fix: {f.fix})" if f.fix else "")
        out.write(f"::{level[f.severity]} {','.join(props)}::{_gh_escape(msg)}\n")
    c = _counts(report.findings)
    out.write(
        f"{report.command}: {len(report.checked)} checked, {c['error']} error(s), "
        f"{c['warning']} warning(s)\n"
    )
