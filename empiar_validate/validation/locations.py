"""Where a finding is: a readable XPath and a source line for an element or attribute.

Findings point at ``/entry/imageSet[2]/dimensions/pixelWidth`` (local names, an index only where
siblings share a name) rather than at libxml2's ``/*/*[3]/*[10]/*[2]``, and carry the line of the
element's start tag, which is what an editor or a CI annotation needs.
"""

from __future__ import annotations

import re

from lxml import etree


def readable_path(element: etree._Element, attribute: str | None = None) -> str:
    """``/entry/imageSet[2]/name`` for ``element`` (plus ``/@attr`` for an attribute)."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = etree.QName(node).localname if isinstance(node.tag, str) else "node()"
        parent = node.getparent()
        if parent is not None and isinstance(node.tag, str):
            same = [child for child in parent if child.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    path = "/" + "/".join(reversed(steps))
    if attribute:
        path += "/@" + etree.QName(attribute).localname
    return path


_EQNAME = re.compile(r"Q\{([^}]*)\}([\w.\-]+)")


def resolve_location(
    tree: etree._ElementTree, location: str
) -> tuple[etree._Element | None, str | None]:
    """The element (and attribute name) an SVRL ``location`` XPath points at.

    Accepts lxml.isoschematron's ``/*[local-name()='entry' and namespace-uri()='...']`` form and
    pyschematron's XPath 3.1 ``/Q{uri}entry[1]/@attr`` form. Returns ``(None, None)`` when the
    location does not resolve.
    """
    def plain(match: re.Match[str]) -> str:
        uri, local = match.group(1), match.group(2)
        return f"*[local-name()='{local}' and namespace-uri()='{uri}']"

    expression = _EQNAME.sub(plain, location)
    expression = re.sub(r"@\*\[local-name\(\)='([\w.\-]+)' and namespace-uri\(\)=''\]", r"@\1",
                        expression)
    try:
        result = tree.xpath(expression)
    except etree.XPathError:
        return None, None
    if not isinstance(result, list) or not result:
        return None, None
    node = result[0]
    if isinstance(node, etree._Element):
        return node, None
    if getattr(node, "is_attribute", False):
        return node.getparent(), node.attrname
    return None, None
