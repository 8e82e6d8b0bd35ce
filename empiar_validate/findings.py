"""Findings are plain data: what is wrong, where, and how to fix it.

Everything that checks something returns findings; only reporters format them. Every finding
carries the id of a registered :class:`Rule`, so ``docs/rules.md`` can list every rule and a test
can prove that it does.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
from dataclasses import dataclass

from empiar_validate.rule_layers import Layer, layer_of
from empiar_validate.rule_names import NAMES


class Severity(enum.StrEnum):
    """How bad a finding is. Only ``error`` makes a run exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Rule:
    """A check with a stable id, a default severity, a one-line title and a default fix hint.

    ``name`` is the readable alias of the id (``orcid-checksum``), from
    :data:`empiar_validate.rule_names.NAMES`; ``module`` is the module that registered the rule
    (for docs/rules.md and the layer test). Neither takes part in equality.
    """

    id: str
    severity: Severity
    title: str
    fix: str = ""
    name: str = dataclasses.field(default="", compare=False)
    module: str = dataclasses.field(default="", compare=False)

    @property
    def layer(self) -> Layer | None:
        """The pipeline layer owning this rule's id range (:mod:`empiar_validate.rule_layers`)."""
        return layer_of(self.id)


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, severity: Severity | str, title: str, fix: str = "", *,
    module: str | None = None,
) -> Rule:
    """Register a rule (idempotent for identical definitions) and return it.

    Modules declare their rules at import time, so the registry is the list of everything the code
    can report; ``docs/rules.md`` is generated from it (``python -m
    empiar_validate.tools.rulesdoc``). The rule's name comes from the names table and its module is
    the caller's, unless ``module`` says otherwise (the Schematron driver registers the schema's
    rules).
    """
    if module is None:
        module = sys._getframe(1).f_globals.get("__name__", "")
    new = Rule(rule_id, Severity(severity), title, fix, NAMES.get(rule_id, ""), module)
    old = RULES.get(rule_id)
    if old is not None:
        if old != new:
            raise ValueError(f"rule {rule_id} registered twice with different definitions")
        return old
    RULES[rule_id] = new
    return new


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found.

    ``file`` is the path the user gave (or a path under it), ``line`` a 1-based line in that file
    when the file is XML, ``xpath`` the element concerned. ``image_set``, ``field_name``,
    ``expected`` and ``actual`` are filled by the drift check so a report can say
    "image set X: field Y is A in the XML but B on disk".
    """

    rule: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    xpath: str | None = None
    fix: str | None = None
    image_set: str | None = None
    field_name: str | None = None
    expected: str | None = None
    actual: str | None = None
    extra: dict[str, object] = dataclasses.field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls, r: Rule, message: str, *, severity: Severity | None = None, **kw: object
    ) -> Finding:
        """Build a finding for rule ``r``; the rule's fix hint is used unless ``fix`` is given."""
        kw.setdefault("fix", r.fix or None)
        return cls(rule=r.id, severity=severity or r.severity, message=message, **kw)  # type: ignore[arg-type]

    def sort_key(self) -> tuple[str, int, str, str, str]:
        """Stable order for reports: by file, line, rule, then message."""
        return (self.file or "", self.line or 0, self.rule, self.xpath or "", self.message)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict with ``None`` values dropped, keys in a fixed order."""
        out: dict[str, object] = {
            "rule": self.rule,
            "severity": str(self.severity),
            "message": self.message,
        }
        for key, attr in _JSON_KEYS:
            value = getattr(self, attr)
            if value is not None:
                out[key] = value
        if self.extra:
            out["extra"] = dict(sorted(self.extra.items()))
        return out


_JSON_KEYS = (
    ("file", "file"),
    ("line", "line"),
    ("path", "xpath"),
    ("image_set", "image_set"),
    ("field", "field_name"),
    ("expected", "expected"),
    ("actual", "actual"),
    ("fix", "fix"),
)


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    """True when any finding has error severity (the exit-1 condition)."""
    return any(f.severity is Severity.ERROR for f in findings)
