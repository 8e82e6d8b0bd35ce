"""Every relative link in README.md and docs/ leads somewhere: the file exists and, for a
``file.md#anchor`` link, the anchor is one of that file's headings (as GitHub spells them).

A newcomer follows these links first; two pointed at headings that docs/rules.md, once
generated from the registry, no longer has.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s#]*)(?:#([^)\s]*))?\)")
_HEADING = re.compile(r"^#{1,6} +(.*?) *#*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {github_anchor(h) for h in _HEADING.findall(text)}


def test_anchor_spelling():
    assert github_anchor("XML parsing and XML Schema") == "xml-parsing-and-xml-schema"
    assert github_anchor("Scan: grouping files into image sets") == \
        "scan-grouping-files-into-image-sets"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    broken = []
    for target, anchor in _LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        dest = (page.parent / target).resolve() if target else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}#{anchor} (no such heading)")
    assert broken == [], f"{page.relative_to(ROOT)}: {broken}"
