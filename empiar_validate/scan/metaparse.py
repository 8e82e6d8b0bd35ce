"""Parse metadata text ONCE into values and the line of every key, with bounded values.

Why not ``json.loads`` plus a second parse for line numbers: the second parse was PyYAML's
pure-Python composer (JSON is YAML), 70 s for 10,000 authors (0.76 MB), and the whole load ran
twice per command (issue 12). Here JSON is parsed by a small recursive-descent parser that
records the line of each key as it goes (strings still decoded by the C ``scanstring``), and YAML
is composed once, by libyaml when PyYAML has it, into the node graph that gives both the lines
and the values. Both are linear in the size of the text.

User-controlled values are bounded before any other code sees them:

- an integer literal over :data:`MAX_DIGITS` digits (CPython refuses to convert more than 4,300
  decimal digits either way, so ``int()``/``str()`` raised ``ValueError``; a YAML hex or
  sexagesimal literal converts but cannot be printed) becomes :class:`Oversized`, which every
  type check reports as what it is;
- a YAML key that is not a string (``null: 1``, ``1.5: x``, ``2024-01-01: y``) becomes the key
  as written, and is listed so the loader can say so (it raised ``TypeError`` downstream);
  a key that is a list or a mapping is a syntax error.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any

Key = tuple[str | int, ...]
MAX_DIGITS = 4300  # CPython's default int <-> decimal string limit (sys.int_info)
_MAX_BITS = int(MAX_DIGITS * 3.3219280948873626)  # log2(10): more bits, more digits
MAX_DEPTH = 200  # nesting a metadata file never needs; deeper is refused, not recursed into


class Oversized:
    """An integer too long to be a metadata value (kept as its digit count, never converted)."""

    __slots__ = ("digits",)

    def __init__(self, literal: str) -> None:
        self.digits = sum(ch.isalnum() for ch in literal)

    def __repr__(self) -> str:
        return f"<integer of {self.digits} digits>"

    __str__ = __repr__


class TooDeep(ValueError):
    """Nesting deeper than :data:`MAX_DEPTH`."""


@dataclass(slots=True)
class Parsed:
    """Values, the line of each key path, repeated keys and keys that were not strings."""

    data: Any
    lines: dict[Key, int] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # (key, line) in order
    odd_keys: list[tuple[Key, str, int]] = field(default_factory=list)  # (path, kind, line)


# --------------------------------------------------------------------------- JSON

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?")
_CONSTANTS = {"null": None, "true": True, "false": False, "NaN": float("nan"),
              "Infinity": float("inf"), "-Infinity": float("-inf")}


def parse_json(text: str) -> Parsed:
    """Parse JSON as ``json.loads`` does (NaN and Infinity accepted, the last of repeated keys
    wins), recording lines. Raises ``json.JSONDecodeError`` or :class:`TooDeep`."""
    return _JsonParser(text).parse()


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.out = Parsed(None)

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def error(self, message: str, pos: int) -> json.JSONDecodeError:
        return json.JSONDecodeError(message, self.s, pos)

    def parse(self) -> Parsed:
        pos = _WS.match(self.s, 0).end()  # type: ignore[union-attr]
        self.out.data, end = self.value(pos, (), 0)
        end = _WS.match(self.s, end).end()  # type: ignore[union-attr]
        if end != len(self.s):
            raise self.error("Extra data", end)
        return self.out

    def value(self, pos: int, key: Key, depth: int) -> tuple[Any, int]:
        s = self.s
        self.out.lines.setdefault(key, self.line(pos))
        ch = s[pos:pos + 1]
        if ch == '"':
            return scanstring(s, pos + 1, True)
        if ch == "{":
            return self.object(pos + 1, key, depth + 1)
        if ch == "[":
            return self.array(pos + 1, key, depth + 1)
        match = _NUMBER.match(s, pos)
        if match and match.end() > pos:
            whole, frac, exp = match.groups()
            if frac or exp:
                return float(match.group()), match.end()
            if len(whole) > MAX_DIGITS:
                return Oversized(whole), match.end()
            return int(whole), match.end()
        for word, constant in _CONSTANTS.items():
            if s.startswith(word, pos):
                return constant, pos + len(word)
        raise self.error("Expecting value", pos)

    def object(self, pos: int, key: Key, depth: int) -> tuple[dict[str, Any], int]:
        if depth > MAX_DEPTH:
            raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
        s, out = self.s, {}
        pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
        if s[pos:pos + 1] == "}":
            return out, pos + 1
        while True:
            if s[pos:pos + 1] != '"':
                raise self.error("Expecting property name enclosed in double quotes", pos)
            line = self.line(pos)
            name, pos = scanstring(s, pos + 1, True)
            pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
            if s[pos:pos + 1] != ":":
                raise self.error("Expecting ':' delimiter", pos)
            pos = _WS.match(s, pos + 1).end()  # type: ignore[union-attr]
            child = (*key, name)
            if name in out:
                self.out.duplicates.append((name, line))
            self.out.lines[child] = line
            out[name], pos = self.value(pos, child, depth)
            pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
            ch = s[pos:pos + 1]
            if ch == "}":
                return out, pos + 1
            if ch != ",":
                raise self.error("Expecting ',' delimiter", pos)
            pos = _WS.match(s, pos + 1).end()  # type: ignore[union-attr]

    def array(self, pos: int, key: Key, depth: int) -> tuple[list[Any], int]:
        if depth > MAX_DEPTH:
            raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
        s, out = self.s, []
        pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
        if s[pos:pos + 1] == "]":
            return out, pos + 1
        while True:
            item, pos = self.value(pos, (*key, len(out)), depth)
            out.append(item)
            pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
            ch = s[pos:pos + 1]
            if ch == "]":
                return out, pos + 1
            if ch != ",":
                raise self.error("Expecting ',' delimiter", pos)
            pos = _WS.match(s, pos + 1).end()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- YAML


def yaml_loader(text: str) -> Any:
    """A safe loader for ``text`` (libyaml's parser when PyYAML has it: ~10x faster) whose
    integers and keys are bounded as the module docstring says. Call ``dispose()`` after."""
    return _loader_class()(text)


def _loader_class() -> type:
    global _LOADER
    if _LOADER is None:
        _LOADER = _make_loader()
    return _LOADER


_LOADER: type | None = None


def _make_loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

    class BoundedLoader(base):  # type: ignore[misc, valid-type]
        """yaml.safe_load's rules, with :class:`Oversized` integers and string keys."""

        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self.odd_keys: dict[int, tuple[str, int]] = {}  # id(key node) -> (kind, line)

        def construct_yaml_int(self, node: Any) -> Any:
            try:
                value = super().construct_yaml_int(node)
            except ValueError:  # a decimal literal over the digit limit
                return Oversized(node.value)
            if isinstance(value, int) and value.bit_length() > _MAX_BITS:
                return Oversized(node.value)
            return value

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            if not isinstance(node, yaml.MappingNode):
                return super().construct_mapping(node, deep=deep)
            self.flatten_mapping(node)
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        "found a key that is a list or a mapping", key_node.start_mark)
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str):
                    kind = "null" if key is None else type(key).__name__
                    self.odd_keys[id(key_node)] = (kind, key_node.start_mark.line + 1)
                    key = key_node.value  # the key as written
                mapping[key] = self.construct_object(value_node, deep=deep)
            return mapping

    BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
    return BoundedLoader


def node_lines(root: Any, out: Parsed, odd: dict[int, tuple[str, int]] | None = None) -> None:
    """Lines of every key path of a composed YAML node graph, repeated keys, and the paths of
    the keys in ``odd`` (``id(key node)`` -> (kind, line)), without recursion (the graph was
    checked for aliases and depth already)."""
    import yaml

    lines, dups = out.lines, out.duplicates

    stack: list[tuple[Any, Key]] = [(root, ())]
    while stack:
        node, key = stack.pop()
        lines.setdefault(key, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            children = []
            for k, v in node.value:
                name = str(k.value)
                if name in seen:
                    dups.append((name, k.start_mark.line + 1))
                seen.add(name)
                lines[(*key, name)] = k.start_mark.line + 1
                if odd and id(k) in odd:
                    out.odd_keys.append(((*key, name), *odd[id(k)]))
                children.append((v, (*key, name)))
            stack.extend(reversed(children))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed([(v, (*key, i)) for i, v in enumerate(node.value)]))
