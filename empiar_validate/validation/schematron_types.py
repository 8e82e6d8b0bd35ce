"""The Schematron data types that the schema loader, the engine and the driver share.

Kept in a module of their own, below all three, so that none of them imports another to name a
type: the loader (:mod:`empiar_validate.validation.schemas`) compiles with the engine
(:mod:`~empiar_validate.validation.schematron_engine`), the driver
(:mod:`~empiar_validate.validation.schematron`) loads with the loader, and every arrow points down.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from empiar_validate.findings import Rule, Severity

SCH_NS = "http://purl.oclc.org/dsdl/schematron"

_ROLE_SEVERITY = {
    "fatal": Severity.ERROR,
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "info": Severity.INFO,
    "information": Severity.INFO,
}


class SchemaLoadError(Exception):
    """A schema file is missing, unreadable, not XML, or not a usable XSD/Schematron."""


class SchematronRuntimeError(Exception):
    """A schema expression could not be evaluated (unsupported function, XPath 2 in an XPath 1
    binding, ...): the schema is unusable, which is a usage error, not a finding."""


def severity_of(role: str | None, *, is_assert: bool) -> Severity:
    """Severity for a Schematron ``role``; without one, a failed assert is an error and a fired
    report a warning (official schemas may not set roles)."""
    if role and role.strip().lower() in _ROLE_SEVERITY:
        return _ROLE_SEVERITY[role.strip().lower()]
    return Severity.ERROR if is_assert else Severity.WARNING


def squash(text: str | None) -> str:
    """Collapse the indentation and line breaks of schema text into single spaces."""
    return " ".join((text or "").split())


@dataclass(frozen=True, slots=True)
class SchematronHit:
    """A failed assert or fired report: the rule, its rendered message, and the node it is on
    (an element, or an attribute of ``element`` when ``attribute`` is set)."""

    rule: Rule
    message: str
    element: etree._Element
    attribute: str | None = None
