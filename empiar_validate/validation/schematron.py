"""Schematron rules: their metadata, compiling a schema, and turning failures into findings.

Each ``assert``/``report`` in ``empiar.sch`` carries an ``id`` (the rule id, e.g. S101) and a
``role`` (error, warning or info); its pattern's ``title`` and ``p`` are the rule's title and fix
hint. The shipped rules are registered in :data:`empiar_validate.findings.RULES` when this module
is imported (parsed with lxml, cheap); pyschematron itself is imported only when a schema is
compiled (:func:`compile_schematron`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.validation.locations import readable_path

if TYPE_CHECKING:
    from empiar_validate.validation.schematron_engine import CompiledSchematron

SCH_NS = "http://purl.oclc.org/dsdl/schematron"

_ROLE_SEVERITY = {
    "fatal": Severity.ERROR,
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "info": Severity.INFO,
    "information": Severity.INFO,
}


def severity_of(role: str | None, *, is_assert: bool) -> Severity:
    """Severity for a Schematron ``role``; without one, a failed assert is an error and a fired
    report a warning (official schemas may not set roles)."""
    if role and role.strip().lower() in _ROLE_SEVERITY:
        return _ROLE_SEVERITY[role.strip().lower()]
    return Severity.ERROR if is_assert else Severity.WARNING


def squash(text: str | None) -> str:
    """Collapse the indentation and line breaks of schema text into single spaces."""
    return " ".join((text or "").split())


def rules_from_schematron(tree: etree._ElementTree) -> list[Rule]:
    """One :class:`Rule` per ``assert``/``report`` that has an ``id``, in document order."""
    rules: list[Rule] = []
    for pattern in tree.getroot().iter(f"{{{SCH_NS}}}pattern"):
        title = squash(pattern.findtext(f"{{{SCH_NS}}}title"))
        fix = squash(pattern.findtext(f"{{{SCH_NS}}}p"))
        for check in pattern.iter(f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report"):
            rule_id = check.get("id")
            if not rule_id:
                continue
            is_assert = etree.QName(check).localname == "assert"
            severity = severity_of(check.get("role"), is_assert=is_assert)
            rules.append(Rule(rule_id, severity, title or rule_id, fix))
    return rules


def register_shipped_rules() -> list[Rule]:
    """Register the rules of the shipped ``empiar.sch`` (idempotent) and return them."""
    from empiar_validate.schema_files import (
        SCH_NAME,
        SchemaLoadError,
        parse_schema_document,
        schema_source,
    )

    try:
        tree = parse_schema_document(schema_source(SCH_NAME))
    except SchemaLoadError:
        return []  # a broken install is reported when validation loads the schema
    return [rule(r.id, r.severity, r.title, r.fix) for r in rules_from_schematron(tree)]


SHIPPED_RULES = register_shipped_rules()


@dataclass(frozen=True, slots=True)
class SchematronHit:
    """A failed assert or fired report: the rule, its rendered message, and the node it is on
    (an element, or an attribute of ``element`` when ``attribute`` is set)."""

    rule: Rule
    message: str
    element: etree._Element
    attribute: str | None = None


class SchematronRuntimeError(Exception):
    """A schema expression could not be evaluated (unsupported function, XPath 2 in an XPath 1
    binding, ...): the schema is unusable, which is a usage error, not a finding."""


def compile_schematron(
    tree: etree._ElementTree, label: str, base_dir: Path | None = None
) -> CompiledSchematron:
    """Compile a parsed Schematron document with pyschematron (imported here, lazily)."""
    from empiar_validate.validation.schematron_engine import compile_with_pyschematron

    return compile_with_pyschematron(tree, label, base_dir)


def schematron_findings(
    tree: etree._ElementTree, compiled: CompiledSchematron, file: str
) -> list[Finding]:
    """Run ``compiled`` on ``tree``; one finding per hit, on the line of the node it is about.

    The message is the schema's own text (which says how to fix the problem), so the rule's
    generic fix hint is not repeated.
    """
    return [
        Finding.of(
            hit.rule, hit.message, file=file, line=hit.element.sourceline,
            xpath=readable_path(hit.element, hit.attribute), fix=None,
        )
        for hit in compiled.check(tree)
    ]
