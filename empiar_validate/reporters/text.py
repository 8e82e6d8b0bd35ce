"""Text for people: the command's summary lines, one line per finding (with its fix), a verdict.

Repeats of one rule in one image set are one line with a count and the first locations. With
``-q`` only errors and warnings are printed, one line each (fixes with ``-v``); the verdict still
counts the infos.
"""

from __future__ import annotations

from typing import TextIO

from empiar_validate.findings import Severity
from empiar_validate.reporting import Report, counts, format_group, grouped


def render(report: Report, out: TextIO) -> None:
    """Summary lines, findings in stable order, then ``COMMAND: OK|FAILED: ...``."""
    for line in report.summary:
        out.write(line + "\n")
    shown = report.findings
    if report.quiet:
        shown = [f for f in shown if f.severity is not Severity.INFO]
    fix = not report.quiet or report.verbose
    for group in grouped(shown):
        out.write(format_group(group, fix=fix) + "\n")
    c = counts(report.findings)
    verdict = "FAILED" if report.has_errors else "OK"
    out.write(
        f"{report.command}: {verdict}: {len(report.checked)} checked, "
        f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info\n"
    )
