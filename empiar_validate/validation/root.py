"""Is an XML file an EMPIAR entry? For ``validate --only-empiar``, which skips the others.

A data repository holds XML that is not an entry header (BigDataViewer datasets, workflow and
microscope metadata), and a pre-commit hook on every ``*.xml`` must leave it alone. The answer
comes from the root element: ``{http://pdbe.org/empiar}entry`` or not. For a parsed document that
is exact. A document the safe parser refuses (not well-formed, a DOCTYPE, too large) is judged by
its root start tag, read from the first bytes without parsing: the root's namespace can only be
declared on that tag, so the answer is exact whenever the tag can be read, and ``None`` ("cannot
tell", so the file is validated and its problem reported) otherwise.
"""

from __future__ import annotations

import os
import re

from lxml import etree

from empiar_validate.empiar import EMPIAR_NS
from empiar_validate.xmlsafe import prolog_text, scan_prolog

ENTRY_TAG = f"{{{EMPIAR_NS}}}entry"

HEAD_BYTES = 64 * 1024
"""Bytes read to find the root start tag of an unparseable file: prologs are short."""

_START_TAG = re.compile(
    r"""<(?P<name>[^\s/>!?]+)(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*/?>"""
)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def root_of_tree(tree: etree._ElementTree) -> str:
    """The root's ``{namespace}localname`` (lxml's notation)."""
    return str(tree.getroot().tag)


def root_of_file(path: str | os.PathLike[str]) -> str | None:
    """The root's ``{namespace}localname`` from the start of the file, or ``None`` when the root
    start tag cannot be read there (unreadable file, odd encoding, a prolog beyond the window)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    return root_of_bytes(head)


def root_of_bytes(head: bytes) -> str | None:
    """As :func:`root_of_file`, for the first bytes of a document."""
    text = prolog_text(head)
    pos = scan_prolog(text)[1]
    if pos is None:
        return None
    match = _START_TAG.match(text, pos)
    if match is None:
        return None
    prefix, _, local = match["name"].rpartition(":")
    attrs = {m[1]: m[2] if m[2] is not None else m[3]
             for m in _ATTRIBUTE.finditer(match["attrs"])}
    namespace = attrs.get(f"xmlns:{prefix}" if prefix else "xmlns", "")
    if prefix and not namespace:
        return None  # an undeclared prefix: not namespace-well-formed, let the parser say so
    return f"{{{namespace}}}{local}" if namespace else local

