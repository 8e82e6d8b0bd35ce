"""Schematron rules: their metadata, compiling a schema, and turning failures into findings.

Each ``assert``/``report`` in ``empiar.sch`` carries an ``id`` (the rule id, e.g. S101) and a
``role`` (error, warning or info); its pattern's ``title`` and ``p`` are the rule's title and fix
hint. The shipped rules are registered in :data:`empiar_validate.findings.RULES` when this module
is imported (parsed with lxml, cheap); pyschematron itself is imported only when a schema is
compiled (:func:`compile_schematron`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from empiar_validate.findings import Finding, Rule, rule
from empiar_validate.validation.locations import readable_path
from empiar_validate.validation.schematron_types import (
    SCH_NS,
    SchematronHit,
    SchematronRuntimeError,
    severity_of,
    squash,
)

if TYPE_CHECKING:
    from empiar_validate.validation.schematron_engine import CompiledSchematron

__all__ = [
    "SCH_NS", "SHIPPED_RULES", "SchematronHit", "SchematronRuntimeError", "compile_schematron",
    "register_shipped_rules", "rules_from_schematron", "schematron_findings", "severity_of",
    "squash",
]


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
    from empiar_validate.validation.schemas import (
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
