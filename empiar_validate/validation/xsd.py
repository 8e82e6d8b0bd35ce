"""XML Schema validation with libxml2: each schema error becomes an X100 finding on its line."""

from __future__ import annotations

import difflib
import re

from lxml import etree

from empiar_validate.empiar import EMPIAR_NS
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.validation.locations import readable_path

XSD_VIOLATION = rule(
    "X100", Severity.ERROR, "XML Schema (empiar.xsd) violation",
    "Correct the element or attribute named in the message: use one of the allowed values, the "
    "documented order of elements, and add required elements (see schemas/empiar.xsd).",
)
NOT_AN_ENTRY = rule(
    "X101", Severity.ERROR, "Root element is not an EMPIAR entry",
    f'The root element must be <entry xmlns="{EMPIAR_NS}">; add the namespace to old headers '
    "that lack it. Nothing else is checked until the root is right.",
)

_ENUM = re.compile(r"The value '(?P<value>.*)' is not an element of the set \{(?P<set>.*)\}")
# libxml2 follows a facet error with a generic "not a valid value of the ... type" for the same
# element; the first message already says everything.
_FOLLOW_UP = re.compile(r"is not a valid value of the (atomic|list) type")


def check_root(tree: etree._ElementTree, file: str) -> list[Finding]:
    """X101 when the root is not ``{http://pdbe.org/empiar}entry``."""
    root = tree.getroot()
    if root.tag == f"{{{EMPIAR_NS}}}entry":
        return []
    qname = etree.QName(root)
    found = f"<{qname.localname}>" + (
        f" in namespace {qname.namespace}" if qname.namespace else " without a namespace"
    )
    return [Finding.of(
        NOT_AN_ENTRY, f'root element is {found}, expected <entry xmlns="{EMPIAR_NS}">',
        file=file, line=root.sourceline, xpath=readable_path(root),
    )]


def xsd_findings(tree: etree._ElementTree, schema: etree.XMLSchema, file: str) -> list[Finding]:
    """Validate ``tree`` against ``schema``; one X100 finding per libxml2 error.

    ``xsi:schemaLocation`` in the document is ignored: the schema is the one given, and nothing
    is downloaded.
    """
    if schema.validate(tree):
        return []
    findings: list[Finding] = []
    seen_paths: set[str] = set()
    for error in schema.error_log:
        element = _element_at(tree, error.path)
        xpath = readable_path(element) if element is not None else None
        message = _clean(error.message)
        if xpath is not None and xpath in seen_paths and _FOLLOW_UP.search(message):
            continue
        if xpath is not None:
            seen_paths.add(xpath)
        findings.append(Finding.of(
            XSD_VIOLATION, message, file=file, line=error.line or None, xpath=xpath,
        ))
    return findings


def _element_at(tree: etree._ElementTree, path: str | None) -> etree._Element | None:
    if not path:
        return None
    try:
        found = tree.xpath(path)
    except etree.XPathError:
        return None
    return found[0] if isinstance(found, list) and found and isinstance(
        found[0], etree._Element) else None


def _clean(message: str) -> str:
    """Drop the EMPIAR namespace from names and suggest the closest allowed value."""
    message = message.replace(f"{{{EMPIAR_NS}}}", "").strip()
    match = _ENUM.search(message)
    if match:
        allowed = re.findall(r"'((?:[^']|'(?!,|$))*)'", match.group("set"))
        close = difflib.get_close_matches(match.group("value"), allowed, n=1, cutoff=0.6)
        if close:
            message += f" Did you mean '{close[0]}'?"
    return message
