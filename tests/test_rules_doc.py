"""Every rule the code or the Schematron can report is documented in docs/rules.md."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from lxml import etree

import empiar_validate
from empiar_validate.findings import RULES

ROOT = Path(__file__).resolve().parent.parent
SCH_NS = "http://purl.oclc.org/dsdl/schematron"


def _import_everything() -> None:
    for mod in pkgutil.walk_packages(empiar_validate.__path__, "empiar_validate."):
        if mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)


def _schematron_ids() -> set[str]:
    sch = ROOT / "schemas" / "empiar.sch"
    if not sch.exists():
        return set()
    tree = etree.parse(str(sch), etree.XMLParser(resolve_entities=False, no_network=True))
    return {
        el.get("id")
        for el in tree.iter(f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report")
        if el.get("id")
    }


def test_every_rule_is_documented():
    _import_everything()
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    ids = set(RULES) | _schematron_ids()
    assert ids, "no rules registered"
    missing = sorted(i for i in ids if not re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", doc))
    assert not missing, f"rules missing from docs/rules.md: {missing}"

