"""What a command hands to a reporter: a :class:`Report`, plus helpers every reporter shares.

Checks never print; they return findings, and a command wraps them in a :class:`Report`. The
reporters (one module each, listed in :data:`empiar_validate.reporters.REPORTERS`) are the only
code that turns a report into output, so every command gets every format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from empiar_validate.findings import Finding, Severity


@dataclass(slots=True)
class Report:
    """The outcome of one command.

    ``checked`` names every unit checked (files, image sets), so JUnit can show passing cases too.
    ``data`` holds command-specific JSON keys (``valid``, ``files``, ``checksums``...), placed
    before ``findings`` in the JSON output. ``summary`` is extra text lines for the text format.
    ``bare_json`` makes the JSON output ``data`` alone (``inspect``'s shape, whose findings are
    inside each file's ``problems``).
    """

    command: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    bare_json: bool = False

    def sorted_findings(self) -> list[Finding]:
        """Findings in a stable order (file, line, rule, message)."""
        return sorted(self.findings, key=Finding.sort_key)

    @property
    def has_errors(self) -> bool:
        """True when the run should exit 1."""
        return any(f.severity is Severity.ERROR for f in self.findings)


def location(f: Finding) -> str:
    """``file:line`` (or ``-`` when the finding is about no file)."""
    loc = f.file or "-"
    if f.line:
        loc += f":{f.line}"
    return loc


def format_finding(f: Finding) -> str:
    """One human line: ``file:line: severity RULE message [at xpath] (fix: ...)``."""
    text = f"{location(f)}: {f.severity} {f.rule} {f.message}"
    if f.xpath:
        text += f" [at {f.xpath}]"
    if f.fix:
        text += f"\n    fix: {f.fix}"
    return text


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings per severity, every severity present (JSON ``counts``, verdicts)."""
    out = {str(s): 0 for s in Severity}
    for f in findings:
        out[str(f.severity)] += 1
    return out
