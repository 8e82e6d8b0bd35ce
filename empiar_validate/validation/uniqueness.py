"""Uniqueness contexts of a Schematron schema in linear time (a hash set, not XPath).

XPath 1.0 has no linear way to say "this value was used before": the schema's S111/S112 select
the later duplicates with ``P/C[. = ../preceding-sibling::P/C[1]]``, which libxml2 evaluates by
comparing every ``C`` with the ``C`` of every earlier ``P``: quadratic, 15 s for 10,000 image
sets (issue 12). A context of exactly that shape is recognised here and evaluated in one pass,
with the same meaning, piece by piece still by libxml2:

- the ``P`` elements are ``//P``, in document order; ``preceding-sibling`` groups them by
  parent;
- a ``C`` child of a ``P`` is selected when its string value (XPath ``string()``) equals the
  string value of the first ``C`` child (all of them without the ``[1]``) of an earlier ``P`` of
  the same parent.

Any other context goes to libxml2 unchanged; ``tests/test_schematron_uniqueness.py`` checks
this against libxml2 on generated documents.
"""

from __future__ import annotations

import re

from lxml import etree

_NAME = r"[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?"
_IDIOM = re.compile(
    rf"//(?P<parent>{_NAME})/(?P<child>{_NAME})"
    rf"\[\s*\.\s*=\s*\.\./preceding-sibling::(?P=parent)/(?P=child)(?P<first>\[\s*1\s*\])?\s*\]"
)


def earlier_duplicates(
    expression: str, tree: etree._ElementTree, namespaces: dict[str, str]
) -> list[etree._Element] | None:
    """The nodes ``expression`` selects, in document order, when it is the uniqueness idiom;
    ``None`` for any other expression (the caller evaluates it with libxml2)."""
    match = _IDIOM.fullmatch(expression.strip())
    if match is None:
        return None
    parents = etree.XPath(f"//{match['parent']}", namespaces=namespaces)(tree)
    children = etree.XPath(match["child"], namespaces=namespaces)
    string = etree.XPath("string()", smart_strings=False)
    first_only = match["first"] is not None
    seen: dict[object, set[str]] = {}  # parent of a P -> string values of earlier Ps' Cs
    found: list[etree._Element] = []
    for p in parents:
        earlier = seen.setdefault(p.getparent(), set())
        values = [(c, string(c)) for c in children(p)]
        found.extend(c for c, value in values if value in earlier)
        earlier.update(value for _, value in values[: 1 if first_only else None])
    return found
