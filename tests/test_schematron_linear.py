"""The Schematron driver's linear paths (uniqueness in one pass, one query per check, unions
merged in Python) give exactly what node-by-node libxml2 evaluation gives, on generated entries
with duplicates, odd spellings, missing and repeated children; and the let-inlining rules."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from empiar_validate.validation import load_schemas
from empiar_validate.validation import schematron_engine as engine
from empiar_validate.validation.batch import predicates
from empiar_validate.validation.uniqueness import earlier_duplicates

NS = "http://pdbe.org/empiar"
VALUES = st.sampled_from(["/data/a", "/data/a ", " /data/a", "/data/b", "data/a", "/data/a/",
                          "", "x", "/data/é"])
CATEGORIES = st.sampled_from(["micrographs - multiframe", "micrographs - single frame",
                              "picked particles - single frame - processed", "tomograms"])


@st.composite
def image_set(draw: st.DrawFn) -> str:
    parts = []
    for tag, values in (("name", VALUES), ("directory", VALUES), ("category", CATEGORIES)):
        for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2]))):
            value = draw(values)
            if draw(st.integers(0, 5)) == 0:  # a comment inside changes nothing
                value = value[:1] + "<!--c-->" + value[1:]
            parts.append(f"<{tag}>{value}</{tag}>")
    frames = draw(st.sampled_from(["1", "2", "0", "x", "40"]))
    parts.append(f"<framesPerImage>{frames}</framesPerImage>")
    parts.append(f"<micrographsFilePattern>{draw(VALUES)}/*.tif</micrographsFilePattern>")
    parts.append("<imageSet><name>nested</name><directory>/data/a</directory></imageSet>"
                 if draw(st.integers(0, 9)) == 0 else "")
    return "<imageSet>" + "".join(parts) + "</imageSet>"


@st.composite
def entry(draw: st.DrawFn) -> etree._ElementTree:
    sets = "".join(draw(st.lists(image_set(), max_size=12)))
    authors = "".join(f'<author order="{o}">A{o}</author>'
                      for o in draw(st.lists(st.sampled_from(["1", "2", "3", "x"]), max_size=5)))
    text = (f'<entry xmlns="{NS}"><admin><experimentType>EMDB</experimentType></admin>'
            f"<crossReferences><citationList><universalCitation><journalCitation>{authors}"
            f"</journalCitation></universalCitation></citationList></crossReferences>"
            f"{sets}</entry>")
    return etree.ElementTree(etree.fromstring(text))


@functools.cache
def compiled():  # type: ignore[no-untyped-def]
    return load_schemas().schematron


def hits(tree: etree._ElementTree, *, fast: bool) -> list[tuple[str, int, str, str]]:
    cls = engine._Libxml2
    old = cls.linear_uniqueness, cls.batch_checks, cls.split_unions
    cls.linear_uniqueness = cls.batch_checks = cls.split_unions = fast
    try:
        return [(h.rule.id, h.element.sourceline or 0, tree.getpath(h.element), h.message)
                for h in compiled().check(tree)]
    finally:
        cls.linear_uniqueness, cls.batch_checks, cls.split_unions = old


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(tree=entry())
def test_linear_paths_agree_with_node_by_node_libxml2(tree: etree._ElementTree) -> None:
    assert hits(tree, fast=True) == hits(tree, fast=False)


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(tree=entry(), first=st.booleans())
def test_uniqueness_idiom_agrees_with_libxml2(tree: etree._ElementTree, first: bool) -> None:
    for child in ("e:directory", "e:name"):
        expr = (f"//e:imageSet/{child}[. = ../preceding-sibling::e:imageSet/{child}"
                f"{'[1]' if first else ''}]")
        plain = etree.XPath(expr, namespaces={"e": NS})(tree)
        assert earlier_duplicates(expr, tree, {"e": NS}) == plain


def test_other_contexts_are_not_taken_for_the_idiom() -> None:
    tree = etree.ElementTree(etree.fromstring(f'<entry xmlns="{NS}"/>'))
    for expr in ("//e:imageSet/e:directory", "//e:imageSet/e:directory[. = 'x']",
                 "//e:a/e:b[. = ../preceding-sibling::e:c/e:b[1]]",
                 "//e:a/e:b[. = ../following-sibling::e:a/e:b[1]]"):
        assert earlier_duplicates(expr, tree, {"e": NS}) is None


def test_lets_are_inlined_only_where_the_context_is_the_same() -> None:
    assert predicates([("$a > 1", True)], (("a", "number(.)"),)) == [
        "not(boolean((number(.)) > 1))"]
    assert predicates([("$b = '$a'", False)], (("a", "1"), ("b", "$a + 1"))) == [
        "boolean(((1) + 1) = '$a')"]
    # a let used inside a predicate, current(), position(): node by node
    assert predicates([("not(x[@o = $a])", True)], (("a", "@o"),)) is None
    assert predicates([("current() = .", True)], ()) is None
    assert predicates([("position() = 1", True)], ()) is None
    # a pattern variable (not a let of the rule) may be used anywhere
    assert predicates([("x[. = $experiment]", True)], ()) == [
        "not(boolean(x[. = $experiment]))"]
