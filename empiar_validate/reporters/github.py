"""GitHub Actions workflow commands: one ``::error`` or ``::warning`` per finding.

Infos are not annotations: an annotation asks for action on every CI run, and an info (the
pre-deposition state, a gain reference recognised) needs none; they are counted in the log line.
"""

from __future__ import annotations

from typing import TextIO

from empiar_validate.findings import Severity
from empiar_validate.reporting import Report, counts

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def gh_escape(value: str, *, prop: bool = False) -> str:
    """Escape a message (or, with ``prop``, a property value) for a workflow command."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def render(report: Report, out: TextIO) -> None:
    """Annotations in stable order, then a one-line count for the log."""
    for f in report.sorted_findings():
        if f.severity not in _LEVEL:
            continue
        props = []
        if f.file:
            props.append(f"file={gh_escape(f.file, prop=True)}")
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={gh_escape(f.rule, prop=True)}")
        msg = f.message + (f" (fix: {f.fix})" if f.fix else "")
        out.write(f"::{_LEVEL[f.severity]} {','.join(props)}::{gh_escape(msg)}\n")
    c = counts(report.findings)
    out.write(
        f"{report.command}: {len(report.checked)} checked, {c['error']} error(s), "
        f"{c['warning']} warning(s), {c['info']} info\n"
    )
