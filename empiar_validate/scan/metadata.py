"""Load the metadata no header holds: JSON or YAML, parsed once, with the line of every key.

The file has the shape of the deposition JSON EMBL-EBI's ``empiar-depositor`` sends (its
``working_example.json``), as JSON or as YAML with the same keys (``yaml.safe_load`` rules, no
anchors). Problems are findings that name the file and, where the parser can tell, the line.
The commands load the file once (:func:`read_metadata`) and hand the result to the scan, which
reports what loading found; :mod:`scan.metaspec` checks the keys and types and
:mod:`scan.metaconvert` converts the values to the XML's vocabulary.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from typing import Any

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.scan.metaparse import (
    Oversized,
    Parsed,
    TooDeep,
    node_lines,
    parse_json,
    yaml_loader,
)

MAX_METADATA_BYTES = 16 << 20

M_SYNTAX = rule(
    "M101", Severity.ERROR, "metadata file cannot be parsed",
    "Fix the syntax at the line given (JSON: quotes, commas, brackets; YAML: indentation). "
    "YAML anchors and aliases are not accepted.",
)
M_DUPLICATE_KEY = rule(
    "M111", Severity.WARNING, "key given twice in the same object (the last one wins)",
    "Remove one of the two.",
)


def json_type(value: object) -> str:
    """The JSON type name of a parsed value (``date`` for YAML dates)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, Oversized):
        return "oversized integer"
    return type(value).__name__


# --------------------------------------------------------------------------- loading

Key = tuple[str | int, ...]


@dataclass(slots=True)
class Metadata:
    """A loaded metadata file: its printable path, the data, the line of each key path, and
    the YAML keys that were not text (path -> what they were: ``null``, ``float``...; the key is
    kept as written, and :func:`scan.metaspec.check_structure` reports it)."""

    shown: str
    data: dict[str, Any]
    lines: dict[Key, int] = field(default_factory=dict)
    odd_keys: dict[Key, str] = field(default_factory=dict)

    def line(self, *key: str | int) -> int | None:
        """Line of ``key`` (e.g. ``("imagesets", 0, "directory")``) or of its nearest parent."""
        k: Key = tuple(key)
        while k:
            if k in self.lines:
                return self.lines[k]
            k = k[:-1]
        return None

    def finding(self, r: Any, message: str, *key: str | int, **kw: Any) -> Finding:
        """A finding about ``key`` in this file."""
        return Finding.of(r, message, file=self.shown, line=self.line(*key), **kw)


def load_metadata(path: str, shown: str) -> tuple[Metadata | None, list[Finding]]:
    """Read and parse a metadata file. ``OSError`` propagates (the command exits 2); anything
    wrong with the content is a finding, and the metadata is ``None`` when it is unusable."""
    with open(path, "rb") as fh:
        raw = fh.read(MAX_METADATA_BYTES + 1)
    if len(raw) > MAX_METADATA_BYTES:
        return None, [Finding.of(M_SYNTAX, f"larger than {MAX_METADATA_BYTES >> 20} MiB; "
                                 "not a metadata file", file=shown)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Finding.of(M_SYNTAX, "not UTF-8 text", file=shown, line=line)]
    ext = os.path.splitext(path)[1].lower()
    if ext in (".yaml", ".yml"):
        parsed, findings = _load_yaml(text, shown)
    else:
        parsed, findings = _load_json(text, shown)
        if parsed is None and ext not in (".json",) and not text.lstrip().startswith(("{", "[")):
            parsed, findings = _load_yaml(text, shown)
    if parsed is None:
        return None, findings
    data = parsed.data
    if not isinstance(data, dict):
        findings.append(Finding.of(
            M_SYNTAX, f"the top level is a {json_type(data)}, not an object of keys",
            file=shown, line=1,
        ))
        return None, findings
    odd = {path: kind for path, kind, _ in parsed.odd_keys}
    return Metadata(shown, data, parsed.lines, odd), findings


def _load_json(text: str, shown: str) -> tuple[Parsed | None, list[Finding]]:
    try:
        parsed = parse_json(text)  # values and lines in one parse (metaparse.py says why)
    except json.JSONDecodeError as exc:
        return None, [Finding.of(
            M_SYNTAX, f"invalid JSON: {exc.msg} (column {exc.colno})", file=shown,
            line=exc.lineno,
        )]
    except (TooDeep, RecursionError):
        return None, [Finding.of(M_SYNTAX, "invalid JSON: nested too deeply", file=shown)]
    last_line = dict(parsed.duplicates)  # the line of the last repeat of each key
    findings = [Finding.of(M_DUPLICATE_KEY, f"key {k!r} given twice", file=shown,
                           line=last_line[k]) for k in sorted(last_line)]
    return parsed, findings


def _load_yaml(text: str, shown: str) -> tuple[Parsed | None, list[Finding]]:
    import yaml

    loader = yaml_loader(text)  # libyaml when present; bounded integers, keys kept as text
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [Finding.of(M_SYNTAX, "the file is empty", file=shown, line=1)]
        problem = _alias_or_depth(node)
        if problem:
            return None, [Finding.of(M_SYNTAX, problem[0], file=shown, line=problem[1])]
        parsed = Parsed(loader.construct_document(node))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        return None, [Finding.of(M_SYNTAX, f"invalid YAML: {what}", file=shown,
                                 line=mark.line + 1 if mark else None)]
    except RecursionError:
        return None, [Finding.of(M_SYNTAX, "invalid YAML: nested too deeply", file=shown)]
    finally:
        loader.dispose()
    node_lines(node, parsed, loader.odd_keys)
    findings = [Finding.of(M_DUPLICATE_KEY, f"key {k!r} given twice", file=shown, line=line)
                for k, line in parsed.duplicates]
    return parsed, findings


def _alias_or_depth(root: Any) -> tuple[str, int] | None:
    """Refuse anchors/aliases (a few lines can expand to gigabytes) and absurd nesting."""
    import yaml

    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            return "YAML anchors and aliases are not accepted", node.start_mark.line + 1
        seen.add(id(node))
        if depth > 64:
            return "nested more than 64 levels deep", node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            stack.extend((v, depth + 1) for kv in node.value for v in kv)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, depth + 1) for v in node.value)
    return None


@dataclass(slots=True)
class MetadataFile:
    """A ``--metadata`` file as loaded once: its printable path, the metadata (``None`` when it
    cannot be used) and what loading found (M101 syntax, M111 duplicate keys)."""

    shown: str
    meta: Metadata | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def unparsable(self) -> bool:
        """True when the file cannot be parsed (M101): nothing should be written from it."""
        return any(f.rule == M_SYNTAX.id for f in self.findings)


def read_metadata(path: str, shown: str | None = None) -> MetadataFile:
    """Load ``path`` once; ``OSError`` propagates (the command words it as a usage error)."""
    from empiar_validate.paths import display_path

    shown = shown if shown is not None else display_path(path)
    meta, found = load_metadata(path, shown)
    return MetadataFile(shown, meta, found)
