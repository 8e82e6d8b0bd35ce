"""JUnit XML for CI test views: one test case per unit checked, failed when it has an error."""

from __future__ import annotations

from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from empiar_validate.findings import Finding, Severity
from empiar_validate.reporting import Report, format_finding


def render(report: Report, out: TextIO) -> None:
    """Errors become ``<failure>``, warnings and infos ``<system-out>`` of their unit."""
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
