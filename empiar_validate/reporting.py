"""What a command hands to a reporter: a :class:`Report`, plus helpers every reporter shares.

Checks never print; they return findings, and a command wraps them in a :class:`Report`. The
reporters (one module each, listed in :data:`empiar_validate.reporters.REPORTERS`) are the only
code that turns a report into output, so every command gets every format.
"""

from __future__ import annotations

import posixpath
import re
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
    inside each file's ``problems``). ``quiet``/``verbose`` are the user's ``-q``/``-v``;
    ``thumbnails`` maps an image set's directory to a PNG ``data:`` URI (``--thumbnails``; only
    the HTML report shows them).
    """

    command: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    bare_json: bool = False
    quiet: bool = False
    verbose: bool = False
    thumbnails: dict[str, str] = field(default_factory=dict)

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


_IMAGE_SET_XPATH = re.compile(r"^/entry/imageSet\[(\d+)\]")
COLLAPSE_AT = 2
"""A rule reported this many times or more in one image set is shown as one line."""
SHOWN_PATHS = 3
"""How many of a collapsed group's locations the line names."""


def image_set_of(f: Finding) -> str:
    """The image set a finding is about, as a grouping key: its ``image_set``; in an entry XML,
    the ``imageSet[N]`` its path is in; else the directory of its file."""
    if f.image_set:
        return f.image_set
    if f.xpath:
        match = _IMAGE_SET_XPATH.match(f.xpath)
        return f"imageSet[{match.group(1)}] of {f.file or '-'}" if match else (f.file or "-")
    # a file in the current directory: "." (an empty key printed "(x2 in ; also ...)")
    return (posixpath.dirname(f.file) or ".") if f.file else "-"


@dataclass(frozen=True, slots=True)
class Group:
    """Findings of one rule and severity in one image set, shown as one line when repeated."""

    first: Finding
    findings: tuple[Finding, ...]
    where: str

    @property
    def count(self) -> int:
        """How many findings the line stands for."""
        return len(self.findings)


def grouped(findings: Iterable[Finding]) -> list[Group]:
    """Findings in the stable report order, repeats of a rule in one image set folded into the
    position of their first finding (groups smaller than :data:`COLLAPSE_AT`, and findings that
    are not repeats of one problem at several places, stay single)."""
    ordered = sorted(findings, key=Finding.sort_key)
    buckets: dict[tuple[str, str, str], list[Finding]] = {}
    for f in ordered:
        buckets.setdefault((f.rule, str(f.severity), image_set_of(f)), []).append(f)
    out: list[Group] = []
    emitted: set[tuple[str, str, str]] = set()
    for f in ordered:
        key = (f.rule, str(f.severity), image_set_of(f))
        members = buckets[key]
        if len(members) < COLLAPSE_AT or not _repeats(members):
            out.append(Group(f, (f,), key[2]))
        elif key not in emitted:
            emitted.add(key)
            out.append(Group(f, tuple(members), key[2]))
    return out


def _repeats(members: list[Finding]) -> bool:
    """True when the findings are one problem at several places (each has a file, and no two
    share a place); several findings at one place are different facts, each shown."""
    places = {(f.file, f.xpath) for f in members}
    return all(f.file for f in members) and len(places) == len(members)


def _point(f: Finding, first: Finding) -> str:
    """Where a repeated finding is, as briefly as it differs from the first one."""
    if f.file == first.file and f.xpath:
        return f.xpath
    return location(f)


def format_group(g: Group, *, fix: bool = True) -> str:
    """One human line for a group (:func:`format_finding` when it holds one finding)."""
    if g.count == 1:
        text = format_finding(g.first)
        return text if fix else text.split("\n    fix: ")[0]
    f = g.first
    others = [_point(o, f) for o in g.findings[1:SHOWN_PATHS]]
    more = g.count - 1 - len(others)
    text = f"{location(f)}: {f.severity} {f.rule} {f.message}"
    if f.xpath:
        text += f" [at {f.xpath}]"
    text += f" (x{g.count} in {g.where}; also " + ", ".join(others)
    text += f" and {more} more)" if more else ")"
    if fix and f.fix:
        text += f"\n    fix: {f.fix}"
    return text
