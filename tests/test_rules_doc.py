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



def test_rules_doc_is_generated_from_the_registry():
    """docs/rules.md is exactly what ``python -m empiar_validate.tools.rulesdoc`` writes."""
    from empiar_validate.tools.rulesdoc import generate

    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == generate(), (
        "docs/rules.md is out of date: run `python -m empiar_validate.tools.rulesdoc`"
    )


def test_every_rule_has_a_unique_readable_name():
    from empiar_validate.rule_names import NAMES

    _import_everything()
    ids = set(RULES) | _schematron_ids()
    assert sorted(ids - set(NAMES)) == [], "add the rule's name to empiar_validate/rule_names.py"
    assert sorted(set(NAMES) - ids) == [], "rule_names.py names rules nobody registers"
    names = list(NAMES.values())
    assert len(names) == len(set(names)), "a name is used twice"
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", n) for n in names)
    assert not any(re.fullmatch(r"[A-Z]\d{3}", n) for n in names)
    assert all(RULES[i].name == NAMES[i] for i in RULES)


def test_rule_id_ranges_belong_to_one_layer_each():
    """Every id falls in exactly one layer's range and is registered by a module of that layer."""
    from empiar_validate.rule_layers import LAYERS

    spans = [(p, lo, hi, layer.key) for layer in LAYERS for p, lo, hi in layer.ranges]
    for i, (p, lo, hi, key) in enumerate(spans):
        assert lo <= hi
        for q, lo2, hi2, key2 in spans[i + 1:]:
            assert p != q or hi < lo2 or hi2 < lo, f"ranges of {key} and {key2} overlap"
    _import_everything()
    assert RULES
    for rule_id, r in RULES.items():
        assert re.fullmatch(r"[A-Z]\d{3}", rule_id), rule_id
        owners = [k for p, lo, hi, k in spans if rule_id[0] == p and lo <= int(rule_id[1:]) <= hi]
        assert len(owners) == 1, f"{rule_id} is in the ranges of {owners or 'no layer'}"
        layer = r.layer
        assert layer is not None and layer.key == owners[0]
        assert any(r.module.startswith(m) for m in layer.modules), (
            f"{rule_id} ({layer.key}) is registered in {r.module}, outside its layer "
            f"{layer.modules}: give it an id in its own layer's range (rule_layers.py)"
        )
