"""Reference Schematron runs, read back from their SVRL reports.

The fast driver in :mod:`schematron_engine` is checked against two independent implementations:
pyschematron's own direct-mode driver (``pyschematron.validate_document``, elementpath XPath)
and ``lxml.isoschematron`` (the ISO skeleton compiled to XSLT 1.0, run by libxslt). Both report
in SVRL; this module turns their failed asserts and fired reports into comparable hits: rule id,
source line and readable path. They are slow on large entries (pyschematron's driver takes
minutes for 1,000 image sets), which is why validation does not use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from empiar_validate.validation.locations import readable_path, resolve_location

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True, slots=True, order=True)
class ReferenceHit:
    """One failed assert or fired report as an SVRL report gives it."""

    rule_id: str
    line: int | None
    xpath: str | None
    message: str


def isoschematron_hits(
    schematron: etree._ElementTree, tree: etree._ElementTree
) -> list[ReferenceHit]:
    """Run ``schematron`` on ``tree`` with ``lxml.isoschematron``."""
    from lxml import isoschematron

    validator = isoschematron.Schematron(schematron, store_report=True)
    validator.validate(tree)
    return _hits(validator.validation_report, tree)


def pyschematron_hits(
    schematron: etree._ElementTree, tree: etree._ElementTree
) -> list[ReferenceHit]:
    """Run ``schematron`` on ``tree`` with pyschematron's own driver (``validate_document``)."""
    import pyschematron

    result = pyschematron.validate_document(tree, schematron)
    return _hits(result.get_svrl(), tree)


def _hits(report: etree._ElementTree, tree: etree._ElementTree) -> list[ReferenceHit]:
    hits = []
    for event in report.getroot().iter(f"{{{SVRL_NS}}}failed-assert",
                                       f"{{{SVRL_NS}}}successful-report"):
        element, attribute = resolve_location(tree, event.get("location", ""))
        hits.append(ReferenceHit(
            rule_id=event.get("id") or "",
            line=element.sourceline if element is not None else None,
            xpath=readable_path(element, attribute) if element is not None else None,
            message=" ".join("".join(event.itertext()).split()),
        ))
    return sorted(hits)
