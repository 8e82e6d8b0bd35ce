"""A context-first Schematron driver on pyschematron's schema model.

Why not ``pyschematron.validate_document``: its direct mode visits every node of the document,
and for each node and each rule evaluates the rule context from every ancestor, then computes an
XPath 3.1 ``path()`` for each result. Measured on an entry with 1,000 image sets: over 60 s with
five rules. This driver instead

1. lets pyschematron parse the schema and resolve includes, abstract patterns, ``extends`` and
   phases (the semantics stay pyschematron's);
2. evaluates each rule context once, from the root (``//context``), and applies "the first
   matching rule of a pattern wins" with a set of visited nodes;
3. evaluates XPath 1.0 (``queryBinding`` xslt/xpath) with libxml2 through lxml, which is about
   100 times faster than elementpath on these documents, and everything else (XPath 2+, attribute
   or text contexts, variables lxml cannot pass) with pyschematron's elementpath query binding.

The libxml2 path falls back to the elementpath path whenever it meets something it cannot do, so
results never depend on the optimisation; ``tests/test_schematron.py`` checks both paths against
``lxml.isoschematron`` on every fixture, and against pyschematron's own driver on a sample.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from empiar_validate.findings import Rule
from empiar_validate.validation.batch import predicates
from empiar_validate.validation.schematron_types import (
    SchemaLoadError,
    SchematronHit,
    SchematronRuntimeError,
    severity_of,
    squash,
)
from empiar_validate.validation.uniqueness import earlier_duplicates

XPATH1_BINDINGS = frozenset({"xslt", "xpath", "exslt"})
BATCH_NODES = "empiar-validate.context-nodes"  # XPath variable holding a rule's context nodes


@dataclass(frozen=True, slots=True)
class _Piece:
    """A piece of a message: literal text, or an XPath whose string value is inserted."""

    text: str = ""
    expression: str | None = None


@dataclass(frozen=True, slots=True)
class _Check:
    rule: Rule
    is_assert: bool
    test: str
    message: tuple[_Piece, ...]
    subject: str | None


@dataclass(frozen=True, slots=True)
class _Rule:
    context: str
    lets: tuple[tuple[str, str], ...]
    checks: tuple[_Check, ...]
    subject: str | None


@dataclass(frozen=True, slots=True)
class _Pattern:
    lets: tuple[tuple[str, str], ...]
    rules: tuple[_Rule, ...]


class _Unsupported(Exception):
    """The libxml2 path cannot evaluate something; rerun the document with elementpath."""


class CompiledSchematron:
    """A Schematron schema ready to check documents (see :func:`compile_with_pyschematron`).

    ``rules`` maps each rule id to its :class:`Rule` (severity from the check's ``role``).
    """

    def __init__(
        self, label: str, binding: str, namespaces: dict[str, str],
        schema_lets: tuple[tuple[str, str], ...], patterns: tuple[_Pattern, ...],
        query_processor: Any,
    ) -> None:
        self.label = label
        self.binding = binding
        self.namespaces = namespaces
        self._schema_lets = schema_lets
        self._patterns = patterns
        self._query_processor = query_processor
        self.rules: dict[str, Rule] = {
            check.rule.id: check.rule
            for pattern in patterns for r in pattern.rules for check in r.checks
        }
        self._batched: dict[_Rule, list[str] | None] = {}

    def check(self, tree: etree._ElementTree, *, backend: str = "auto") -> list[SchematronHit]:
        """Failed asserts and fired reports for ``tree``, in pattern order.

        ``backend`` is ``auto`` (libxml2 for XPath 1.0 schemas, else elementpath) or
        ``elementpath`` (always pyschematron's query binding; the reference, used by tests).
        """
        if backend == "auto" and self.binding in XPATH1_BINDINGS:
            try:
                return self._run(_Libxml2(self.namespaces, tree))
            except _Unsupported:
                pass
        return self._run(_Elementpath(self._query_processor, tree))

    def _run(self, backend: _Backend) -> list[SchematronHit]:
        try:
            return list(self._hits(backend))
        except (_Unsupported, SchematronRuntimeError):
            raise
        except Exception as exc:  # elementpath and lxml raise many types; none is a finding
            raise SchematronRuntimeError(f"{self.label}: {exc}") from exc

    def _hits(self, backend: _Backend) -> Iterable[SchematronHit]:
        variables: dict[str, Any] = {}
        for name, expression in self._schema_lets:
            variables[name] = backend.value(expression, backend.document, variables)
        for pattern in self._patterns:
            pattern_vars = dict(variables)
            for name, expression in pattern.lets:
                pattern_vars[name] = backend.value(expression, backend.document, pattern_vars)
            visited: set[object] = set()
            for schema_rule in pattern.rules:
                context = rooted(schema_rule.context)
                nodes = []
                for node in backend.select(context, pattern_vars):
                    key = backend.key(node)
                    if key in visited:
                        continue  # an earlier rule of this pattern already fired on it
                    visited.add(key)
                    nodes.append(node)
                if not nodes:
                    continue
                firing = backend.firing(nodes, self._predicates(schema_rule), pattern_vars)
                for node in nodes:
                    yield from self._apply(backend, schema_rule, node, pattern_vars, firing)

    def _predicates(self, schema_rule: _Rule) -> list[str] | None:
        """The rule's checks as predicates for one query each (:mod:`validation.batch`)."""
        if schema_rule not in self._batched:
            self._batched[schema_rule] = predicates(
                [(c.test, c.is_assert) for c in schema_rule.checks], schema_rule.lets)
        return self._batched[schema_rule]

    def _apply(
        self, backend: _Backend, schema_rule: _Rule, node: Any, outer: dict[str, Any],
        firing: list[set[Any]] | None = None,
    ) -> Iterable[SchematronHit]:
        rule_vars: dict[str, Any] | None = None
        for index, check in enumerate(schema_rule.checks):
            if firing is not None and node not in firing[index]:
                continue  # the one query per check said: the assert holds here
            if rule_vars is None:
                rule_vars = dict(outer)
                for name, expression in schema_rule.lets:
                    rule_vars[name] = backend.value(expression, node, rule_vars)
            if firing is None:
                holds = backend.value(f"boolean({check.test})", node, rule_vars)
                if bool(holds) == check.is_assert:
                    continue  # assert held, or report did not fire
            message = "".join(
                piece.text if piece.expression is None
                else str(backend.value(piece.expression, node, rule_vars))
                for piece in check.message
            )
            where = node
            subject = check.subject or schema_rule.subject
            if subject:
                found = backend.value(subject, node, rule_vars)
                if isinstance(found, list) and found and backend.is_node(found[0]):
                    where = found[0]
            element, attribute = backend.locate(where)
            yield SchematronHit(check.rule, squash(message), element, attribute)


def rooted(context: str) -> str:
    """The XPath selecting every node a Schematron rule context (an XSLT pattern) matches.

    A relative pattern ``a/b`` matches a node if ``a/b`` selects it from some ancestor, i.e. the
    nodes of ``//a/b``; absolute patterns and ``id()``/``key()`` patterns are already rooted.
    """
    branches = []
    for branch in _split_union(context):
        branch = branch.strip()
        if branch.startswith("/") or re.match(r"(id|key)\s*\(", branch):
            branches.append(branch)
        else:
            branches.append("//" + branch)
    return " | ".join(branches)


def _split_union(expression: str) -> list[str]:
    """Split on ``|`` outside brackets, parentheses and string literals."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(expression):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(expression[start:i])
            start = i + 1
    parts.append(expression[start:])
    return parts


class _Backend:
    """What the driver needs from an XPath engine."""

    document: Any

    def value(self, expression: str, node: Any, variables: dict[str, Any]) -> Any:
        raise NotImplementedError

    def select(self, expression: str, variables: dict[str, Any]) -> list[Any]:
        raise NotImplementedError

    def firing(
        self, nodes: list[Any], predicates: list[str] | None, variables: dict[str, Any]
    ) -> list[set[Any]] | None:
        """For each check, which of ``nodes`` (a rule's context nodes) it fires on, from one
        query per check; ``None`` to evaluate the checks node by node."""
        return None

    def key(self, node: Any) -> object:
        raise NotImplementedError

    def is_node(self, value: Any) -> bool:
        raise NotImplementedError

    def locate(self, node: Any) -> tuple[etree._Element, str | None]:
        raise NotImplementedError


class _Libxml2(_Backend):
    """XPath 1.0 by libxml2. Context nodes are elements; anything else raises _Unsupported."""

    linear_uniqueness = True  # tests and benchmarks turn these off: plain libxml2
    batch_checks = True
    split_unions = True

    def __init__(self, namespaces: dict[str, str], tree: etree._ElementTree) -> None:
        self._namespaces = namespaces
        self._compiled: dict[str, etree.XPath] = {}
        self._current: etree._Element | None = None
        self._order: dict[etree._Element, int] | None = None
        self.document = tree

    def _xpath(self, expression: str) -> etree.XPath:
        compiled = self._compiled.get(expression)
        if compiled is None:
            try:
                compiled = etree.XPath(
                    expression, namespaces=self._namespaces, smart_strings=False,
                    extensions={(None, "current"): self._current_node},
                )
            except etree.XPathError as exc:
                raise _Unsupported(str(exc)) from exc
            self._compiled[expression] = compiled
        return compiled

    def _current_node(self, _context: object) -> list[etree._Element]:
        # XSLT's current(): the rule's context node, also inside predicates.
        return [self._current] if self._current is not None else []

    def value(self, expression: str, node: Any, variables: dict[str, Any]) -> Any:
        compiled = self._xpath(expression)
        self._current = node if isinstance(node, etree._Element) else None
        try:
            return compiled(node, **variables)
        except (etree.XPathError, TypeError) as exc:
            raise _Unsupported(str(exc)) from exc

    def select(self, expression: str, variables: dict[str, Any]) -> list[Any]:
        branches = [b.strip() for b in _split_union(expression)]
        if "/" in branches:
            raise _Unsupported("lxml cannot return the document node")  # it returns []
        if len(branches) > 1 and self.split_unions:
            # libxml2 merges a union with a duplicate check per node (quadratic: 0.2 s for
            # 2 x 4,000 nodes); merge the branches here, in document order.
            found, seen = [], set()
            for branch in branches:
                found += [n for n in self.select(branch, variables) if n not in seen]
                seen.update(found)
            order = self._document_order()
            return sorted(found, key=order.__getitem__)
        if self.linear_uniqueness:  # S111/S112 in one pass instead of quadratic XPath
            fast = earlier_duplicates(expression, self.document, self._namespaces)
            if fast is not None:
                return fast
        found = self.value(expression, self.document, variables)
        if not isinstance(found, list) or not all(
            isinstance(n, etree._Element) and isinstance(n.tag, str) for n in found
        ):  # attributes, text, comments, the document node: elementpath handles those
            raise _Unsupported(f"context {expression!r} selects non-element nodes")
        return found

    def _document_order(self) -> dict[etree._Element, int]:
        if self._order is None:
            self._order = {el: i for i, el in enumerate(self.document.iter())}
        return self._order

    def firing(
        self, nodes: list[Any], predicates: list[str] | None, variables: dict[str, Any]
    ) -> list[set[Any]] | None:
        if predicates is None or not self.batch_checks or BATCH_NODES in variables:
            return None
        # the context nodes as a node-set variable: filtered in place, no walk of the document
        given = {**variables, BATCH_NODES: nodes}
        return [set(self.value(f"${BATCH_NODES}[{p}]", self.document, given))
                for p in predicates]

    def key(self, node: Any) -> object:
        return node

    def is_node(self, value: Any) -> bool:
        return isinstance(value, etree._Element)

    def locate(self, node: Any) -> tuple[etree._Element, str | None]:
        return node, None


class _Elementpath(_Backend):
    """pyschematron's query binding (elementpath) for the schema's queryBinding."""

    def __init__(self, query_processor: Any, tree: etree._ElementTree) -> None:
        from elementpath import get_node_tree

        self._parser = query_processor.get_query_parser()
        self.document = get_node_tree(root=tree)
        self._context = query_processor.get_evaluation_context().with_xml_root(self.document)
        self._compiled: dict[str, Any] = {}

    def value(self, expression: str, node: Any, variables: dict[str, Any]) -> Any:
        query = self._compiled.get(expression)
        if query is None:
            query = self._compiled[expression] = self._parser.parse(expression)
        context = self._context.with_context_item(node).with_variables(variables, overwrite=True)
        return query.evaluate(context)

    def select(self, expression: str, variables: dict[str, Any]) -> list[Any]:
        found = self.value(expression, self.document, variables)
        return list(found) if isinstance(found, list) else []

    def key(self, node: Any) -> object:
        return id(node)  # elementpath keeps one node object per element and attribute

    def is_node(self, value: Any) -> bool:
        return hasattr(value, "node_kind")

    def locate(self, node: Any) -> tuple[etree._Element, str | None]:
        kind = getattr(node, "node_kind", "")
        if kind == "attribute":
            return node.parent.value, node.name
        if kind == "element":
            return node.value, None
        if kind == "document":
            return self.document.getroot().value, None
        parent = getattr(node, "parent", None)
        while parent is not None and getattr(parent, "node_kind", "") != "element":
            parent = getattr(parent, "parent", None)
        return (parent.value if parent is not None else self.document.getroot().value), None


SCH_NS = "http://purl.oclc.org/dsdl/schematron"


def compile_with_pyschematron(
    tree: etree._ElementTree, label: str, base_dir: Path | None
) -> CompiledSchematron:
    """Parse ``tree`` with pyschematron, resolve its abstractions and default phase, and plan it.

    Raises :class:`SchemaLoadError` when pyschematron cannot read the schema. Queries are
    compiled when first evaluated; a bad one raises :class:`SchematronRuntimeError` then.
    """
    from pyschematron.direct_mode.schematron.ast import Assert, QueryVariable, ValueOf
    from pyschematron.direct_mode.schematron.ast_visitors import (
        PhaseSelectionVisitor,
        ResolveAbstractPatternsVisitor,
        ResolveExtendsVisitor,
    )
    from pyschematron.direct_mode.schematron.parsers.xml.parser import (
        ParsingContext,
        SchemaParser,
    )
    from pyschematron.direct_mode.xml_validation.queries.factories import (
        DefaultQueryProcessorFactory,
    )

    root = tree.getroot()
    if root.tag != f"{{{SCH_NS}}}schema":
        raise SchemaLoadError(
            f"{label}: not an ISO Schematron schema (root element is {root.tag}, expected "
            f"schema in namespace {SCH_NS})"
        )
    if next(root.iter(f"{{{SCH_NS}}}rule"), None) is None:
        raise SchemaLoadError(f"{label}: the Schematron schema has no rule; nothing to check")
    try:
        schema = SchemaParser().parse(root, ParsingContext(base_path=base_dir))
        schema = ResolveExtendsVisitor(schema).apply(schema)
        schema = ResolveAbstractPatternsVisitor(schema).apply(schema)
        schema = PhaseSelectionVisitor(schema, None).apply(schema)
        processor = DefaultQueryProcessorFactory().get_schema_query_processor(schema)
    except Exception as exc:  # pyschematron raises assorted types for a bad schema
        raise SchemaLoadError(f"{label}: not a usable Schematron schema: {exc}") from exc

    def lets(variables: Iterable[Any]) -> tuple[tuple[str, str], ...]:
        return tuple(
            (v.name, v.value.query if isinstance(v, QueryVariable) else _quote(v.value))
            for v in variables
        )

    def message(content: Iterable[Any]) -> tuple[_Piece, ...]:
        pieces = []
        for item in content:
            if isinstance(item, str):
                pieces.append(_Piece(text=item))
            elif isinstance(item, ValueOf):
                pieces.append(_Piece(expression=f"string({item.select.query})"))
            else:  # <name/> or <name path="..."/>
                path = item.path.query if item.path is not None else "."
                pieces.append(_Piece(expression=f"name({path})"))
        return tuple(pieces)

    patterns = []
    for p_index, pattern in enumerate(schema.patterns, start=1):
        title = squash(pattern.title.content) if pattern.title else ""
        fix = squash(pattern.paragraphs[0].content) if pattern.paragraphs else ""
        rules = []
        unnamed = 0  # checks without an id are numbered within their pattern
        for r in pattern.rules:
            checks = []
            for check in r.checks:
                is_assert = isinstance(check, Assert)
                if not check.id:
                    unnamed += 1
                rule_id = check.id or f"{pattern.id or f'pattern{p_index}'}-{unnamed}"
                checks.append(_Check(
                    rule=Rule(rule_id, severity_of(check.role, is_assert=is_assert),
                              title or rule_id, fix),
                    is_assert=is_assert,
                    test=check.test.query,
                    message=message(check.content),
                    subject=check.subject.expression if check.subject else None,
                ))
            rules.append(_Rule(
                context=r.context.query, lets=lets(r.variables), checks=tuple(checks),
                subject=r.subject.expression if r.subject else None,
            ))
        patterns.append(_Pattern(lets=lets(pattern.variables), rules=tuple(rules)))

    namespaces = {ns.prefix: ns.uri for ns in schema.namespaces}
    return CompiledSchematron(
        label, (schema.query_binding or "xslt").lower(), namespaces, lets(schema.variables),
        tuple(patterns), processor,
    )


def _quote(text: str) -> str:
    """An XPath string literal for ``text`` (XPath 1.0 has no escapes: use concat for quotes)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat('" + "', \"'\", '".join(text.split("'")) + "')"

