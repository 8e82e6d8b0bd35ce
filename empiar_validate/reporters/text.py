"""Text for people: the command's summary lines, one line per finding (with its fix), a verdict."""

from __future__ import annotations

from typing import TextIO

from empiar_validate.reporting import Report, counts, format_finding


def render(report: Report, out: TextIO) -> None:
    """Summary lines, findings in stable order, then ``COMMAND: OK|FAILED: ...``."""
    for line in report.summary:
        out.write(line + "\n")
    for f in report.sorted_findings():
        out.write(format_finding(f) + "\n")
    c = counts(report.findings)
    verdict = "FAILED" if report.has_errors else "OK"
    out.write(
        f"{report.command}: {verdict}: {len(report.checked)} checked, "
        f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info\n"
    )
