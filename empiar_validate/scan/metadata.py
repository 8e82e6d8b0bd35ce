"""The metadata no header holds: load it, check it, convert it to the XML's vocabulary.

The file has the shape of the deposition JSON EMBL-EBI's ``empiar-depositor`` sends (its
``working_example.json``), as JSON or as YAML with the same keys (``yaml.safe_load`` rules, no
anchors). Problems are findings that name the file and, where the parser can tell, the line.
Conversion (author tuples, ISO country codes, T-codes, experiment-type integers, release codes)
happens here and only here, through :mod:`empiar_validate.vocab`.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from empiar_validate import vocab
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import Citation, Contact, EntryHeader, Person
from empiar_validate.scan.emit import NOT_XML

MAX_METADATA_BYTES = 16 << 20

M_SYNTAX = rule(
    "M101", Severity.ERROR, "metadata file cannot be parsed",
    "Fix the syntax at the line given (JSON: quotes, commas, brackets; YAML: indentation). "
    "YAML anchors and aliases are not accepted.",
)
M_UNKNOWN_KEY = rule(
    "M102", Severity.WARNING, "unknown key in the metadata file",
    "Check the spelling against empiar-depositor's working_example.json; unknown keys are "
    "ignored.",
)
M_BAD_VALUE = rule(
    "M103", Severity.ERROR, "metadata value has the wrong type or is not allowed",
    "Give the value in the form empiar-depositor's deposition schema asks for (see "
    "docs/metadata.md).",
)
M_MISSING = rule(
    "M104", Severity.ERROR, "EMPIAR requires a value the metadata does not give",
    "Add it to the metadata file (docs/metadata.md shows every key with an example).",
)
M_RECOMMENDED = rule(
    "M105", Severity.WARNING, "recommended metadata missing",
    "Add it to the metadata file; EMPIAR's deposition asks for it.",
)
M_NOT_ASSIGNED = rule(
    "M115", Severity.WARNING, "accession code or deposition date not given (EMPIAR assigns them)",
    "Nothing to do before deposition: the XML is a valid private header without them. Once "
    "EMPIAR has assigned them, add accession_code (EMPIAR-NNNNN) and deposition_date "
    "(YYYY-MM-DD) to the metadata file, or pass --accession-code and --deposition-date.",
)
M_DUPLICATE_KEY = rule(
    "M111", Severity.WARNING, "key given twice in the same object (the last one wins)",
    "Remove one of the two.",
)
M_ORDER = rule(
    "M113", Severity.WARNING, "author order_id values are not 0, 1, 2, ...",
    "Number authors from 0 in citation order without gaps or repeats; they were renumbered in "
    "that order.",
)
M_WORKFLOW = rule(
    "M114", Severity.WARNING, "workflow file named in the metadata is not in the dataset",
    "Put the file in the dataset (the path is relative to the entry root, e.g. "
    "data/workflow.json) or correct workflow_file.path.",
)

ACCESSION = re.compile(r"EMPIAR-\d{5}")


# --------------------------------------------------------------------------- the key spec


@dataclass(frozen=True, slots=True)
class Spec:
    """Expected JSON types of a value (``null``, ``string``, ``integer``, ``number``,
    ``boolean``, ``array``, ``object``, ``date``), and the spec of its keys or items."""

    types: tuple[str, ...]
    keys: dict[str, Spec] | None = None
    items: Spec | None = None


def _s(*types: str, keys: dict[str, Spec] | None = None, items: Spec | None = None) -> Spec:
    return Spec(tuple(types), keys, items)


_PERSON = _s("object", keys={
    "name": _s("string", "array"), "order_id": _s("integer"),
    "author_orcid": _s("null", "string"),
})
_CONTACT_KEYS = {
    "author_orcid": _s("null", "string"), "first_name": _s("string"),
    "middle_name": _s("null", "string"), "last_name": _s("string"),
    "organization": _s("string"), "street": _s("null", "string"),
    "town_or_city": _s("string"), "state_or_province": _s("null", "string"),
    "post_or_zip": _s("string"), "telephone": _s("null", "string"),
    "fax": _s("null", "string"), "email": _s("string"), "country": _s("string"),
}
_CONTACT = _s("object", keys=_CONTACT_KEYS)
_NAME_LIST = _s("array", items=_s("object", keys={"name": _s("string")}))
_CODE = ("string", "array")
IMAGESET_KEYS = {
    "name": _s("string"), "directory": _s("string"), "category": _s(*_CODE),
    "header_format": _s(*_CODE), "data_format": _s(*_CODE),
    "num_images_or_tilt_series": _s("integer"), "frames_per_image": _s("integer"),
    "frame_range_min": _s("null", "integer"), "frame_range_max": _s("null", "integer"),
    "voxel_type": _s(*_CODE), "pixel_width": _s("null", "number"),
    "pixel_height": _s("null", "number"), "details": _s("null", "string"),
    "micrographs_file_pattern": _s("null", "string"),
    "picked_particles_file_pattern": _s("null", "string"),
    "picked_particles_directory": _s("null", "string"),
    "image_width": _s("null", "integer"), "image_height": _s("null", "integer"),
}
_CITATION = _s("object", keys={
    "authors": _s("array", items=_PERSON), "editors": _s("array", items=_PERSON),
    "published": _s("boolean"), "preprint": _s("boolean"), "j_or_nj_citation": _s("boolean"),
    "title": _s("string"), "volume": _s("null", "string"), "country": _s("null", "string"),
    "first_page": _s("null", "string"), "last_page": _s("null", "string"),
    "year": _s("null", "integer"), "language": _s("null", "string"),
    "doi": _s("null", "string"), "pubmedid": _s("null", "string"),
    "details": _s("null", "string"), "book_chapter_title": _s("null", "string"),
    "publisher": _s("null", "string"), "publication_location": _s("null", "string"),
    "journal": _s("null", "string"), "journal_abbreviation": _s("null", "string"),
    "issue": _s("null", "string"),
})
# Keys empiar-validate adds (empiar-depositor has none for them; EMPIAR assigns both, but the
# XML schema requires them, so a lab's CI copy needs them written down somewhere).
EXTENSION_KEYS = {"accession_code": _s("string"), "deposition_date": _s("string", "date")}
TOP_KEYS: dict[str, Spec] = {
    "title": _s("string"), "release_date": _s("string"), "experiment_type": _s("integer"),
    "scale": _s("string", "integer"), "cross_references": _NAME_LIST,
    "biostudies_references": _NAME_LIST, "idr_references": _NAME_LIST,
    "empiar_references": _NAME_LIST,
    "workflows": _s("array", items=_s("object", keys={"url": _s("string"),
                                                      "type": _s("integer")})),
    "authors": _s("array", items=_PERSON), "corresponding_author": _CONTACT,
    "principal_investigator": _s("array", items=_CONTACT),
    "workflow_file": _s("object", keys={"path": _s("null", "string")}),
    "imagesets": _s("array", items=_s("object", keys=IMAGESET_KEYS)),
    "citation": _s("array", items=_CITATION),
    **EXTENSION_KEYS,
}
TOP = _s("object", keys=TOP_KEYS)


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
    return type(value).__name__


# --------------------------------------------------------------------------- loading

Key = tuple[str | int, ...]


@dataclass(slots=True)
class Metadata:
    """A loaded metadata file: its printable path, the data, and the line of each key path."""

    shown: str
    data: dict[str, Any]
    lines: dict[Key, int] = field(default_factory=dict)

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
    findings: list[Finding] = []
    if ext in (".yaml", ".yml"):
        data, lines, findings = _load_yaml(text, shown)
    else:
        data, lines, findings = _load_json(text, shown)
        if data is None and ext not in (".json",) and not text.lstrip().startswith(("{", "[")):
            data, lines, findings = _load_yaml(text, shown)
    if data is None:
        return None, findings
    if not isinstance(data, dict):
        findings.append(Finding.of(
            M_SYNTAX, f"the top level is a {json_type(data)}, not an object of keys",
            file=shown, line=1,
        ))
        return None, findings
    return Metadata(shown, data, lines), findings


def _load_json(text: str, shown: str) -> tuple[Any, dict[Key, int], list[Finding]]:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                duplicates.append(k)
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return None, {}, [Finding.of(
            M_SYNTAX, f"invalid JSON: {exc.msg} (column {exc.colno})", file=shown,
            line=exc.lineno,
        )]
    except RecursionError:
        return None, {}, [Finding.of(M_SYNTAX, "invalid JSON: nested too deeply", file=shown)]
    lines, dup_lines = _key_lines(text)
    findings = [Finding.of(M_DUPLICATE_KEY, f"key {k!r} given twice", file=shown,
                           line=dup_lines.get(k)) for k in sorted(set(duplicates))]
    return data, lines, findings


def _load_yaml(text: str, shown: str) -> tuple[Any, dict[Key, int], list[Finding]]:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, [Finding.of(M_SYNTAX, "the file is empty", file=shown, line=1)]
        problem = _alias_or_depth(node)
        if problem:
            return None, {}, [Finding.of(M_SYNTAX, problem[0], file=shown, line=problem[1])]
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        return None, {}, [Finding.of(M_SYNTAX, f"invalid YAML: {what}", file=shown,
                                     line=mark.line + 1 if mark else None)]
    except RecursionError:
        return None, {}, [Finding.of(M_SYNTAX, "invalid YAML: nested too deeply", file=shown)]
    finally:
        loader.dispose()
    lines: dict[Key, int] = {}
    dups: list[tuple[str, int]] = []
    _node_lines(node, (), lines, dups)
    findings = [Finding.of(M_DUPLICATE_KEY, f"key {k!r} given twice", file=shown, line=line)
                for k, line in dups]
    return data, lines, findings


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


def _node_lines(node: Any, key: Key, out: dict[Key, int], dups: list[tuple[str, int]]) -> None:
    import yaml

    out.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            name = str(k.value)
            if name in seen:
                dups.append((name, k.start_mark.line + 1))
            seen.add(name)
            out[(*key, name)] = k.start_mark.line + 1
            _node_lines(v, (*key, name), out, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _node_lines(v, (*key, i), out, dups)


def _key_lines(text: str) -> tuple[dict[Key, int], dict[str, int]]:
    """Lines of JSON keys, from PyYAML's composer (JSON is YAML); best effort, ``{}`` if the
    composer disagrees with the JSON parser (tabs, escapes)."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None or _alias_or_depth(node):
            return {}, {}
        lines: dict[Key, int] = {}
        dups: list[tuple[str, int]] = []
        _node_lines(node, (), lines, dups)
        return lines, {k: line for k, line in dups}
    except (yaml.YAMLError, RecursionError):
        return {}, {}
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- structure


def check_structure(meta: Metadata) -> list[Finding]:
    """Unknown keys (M102) and wrong types (M103), walking the document against the spec."""
    out: list[Finding] = []
    _check(meta, meta.data, TOP, (), out)
    return out


def _check(meta: Metadata, value: Any, spec: Spec, key: Key, out: list[Finding]) -> None:
    kind = json_type(value)
    allowed = spec.types
    ok = kind in allowed or (kind == "integer" and "number" in allowed)
    if not ok:
        out.append(meta.finding(
            M_BAD_VALUE, f"{_dotted(key)} is {_a(kind)}, expected {' or '.join(allowed)}", *key,
        ))
        return
    if kind == "string" and NOT_XML.search(value):
        out.append(meta.finding(
            M_BAD_VALUE, f"{_dotted(key)} contains control characters XML cannot hold", *key,
        ))
    if kind == "object" and spec.keys is not None:
        for k, v in value.items():
            if k not in spec.keys:
                out.append(meta.finding(M_UNKNOWN_KEY, f"unknown key {_dotted((*key, k))}",
                                        *key, k))
                continue
            _check(meta, v, spec.keys[k], (*key, k), out)
    elif kind == "array" and spec.items is not None:
        for i, v in enumerate(value[:100_000]):
            _check(meta, v, spec.items, (*key, i), out)


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _dotted(key: Key) -> str:
    text = ""
    for k in key:
        text += f"[{k}]" if isinstance(k, int) else (f".{k}" if text else k)
    return text or "(top level)"


def _get(data: Any, *key: str | int) -> Any:
    for k in key:
        if isinstance(k, int):
            if not isinstance(data, list) or k >= len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[k] if isinstance(k, int) else data.get(k)
    return data


def _text(value: Any) -> str | None:
    """A non-empty string, stripped, or ``None``."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


# --------------------------------------------------------------------------- entry header


@dataclass(slots=True)
class HeaderOptions:
    """Values the command line may give instead of (and over) the metadata file."""

    accession_code: str | None = None
    deposition_date: str | None = None


def entry_header(
    meta: Metadata | None, options: HeaderOptions, *, root: str
) -> tuple[EntryHeader, list[Finding]]:
    """Convert the entry-level metadata to :class:`EntryHeader`, with a finding for every bad
    value and every required item missing (so the report says exactly what to add)."""
    h = EntryHeader()
    out: list[Finding] = []
    data: dict[str, Any] = meta.data if meta else {}

    def missing(text: str, *key: str | int, r: Any = M_MISSING) -> None:
        if key and _wrong_type(data, str(key[0])):
            return  # present with the wrong type: M103 from check_structure says so
        if meta:
            out.append(meta.finding(r, text, *key))
        else:
            out.append(Finding.of(r, text + " (no --metadata file was given)"))

    def bad(text: str, *key: str | int) -> None:
        out.append(meta.finding(M_BAD_VALUE, text, *key) if meta
                   else Finding.of(M_BAD_VALUE, text))

    # accession code and deposition date: command line first, then the extension keys
    code = options.accession_code or _text(data.get("accession_code"))
    if code and not ACCESSION.fullmatch(code):
        bad(f"accession code {code!r} is not EMPIAR-NNNNN (five digits)", "accession_code")
        code = None
    h.accession_code = code
    # Both are assigned by EMPIAR at deposition, so a pre-deposition scan (a depositor, a lab's CI
    # gate) legitimately lacks them: a warning (M115), not an error; the XML stays valid.
    if code is None and not (data.get("accession_code") or options.accession_code):
        missing('accession code not given yet: the XML has no entry/@accessionCode and no '
                'entryDOI; once EMPIAR has assigned it, add "accession_code": "EMPIAR-NNNNN" '
                "(or pass --accession-code)", r=M_NOT_ASSIGNED)
    raw_date = options.deposition_date or data.get("deposition_date")
    if isinstance(raw_date, datetime.date):
        raw_date = raw_date.isoformat()
    if raw_date is not None:
        try:
            h.deposition_date = datetime.date.fromisoformat(str(raw_date)).isoformat()
        except ValueError:
            bad(f"deposition date {raw_date!r} is not YYYY-MM-DD", "deposition_date")
    else:
        missing('deposition date not given yet: the XML has no keyDates/depositionDate; once '
                'EMPIAR has set it, add "deposition_date": "YYYY-MM-DD" (or pass '
                "--deposition-date)", r=M_NOT_ASSIGNED)

    title = _text(data.get("title"))
    if title is None:
        missing('title: add "title" (10 to 255 characters)', "title")
    elif not 10 <= len(title) <= 255:
        bad(f"title has {len(title)} characters; EMPIAR asks for 10 to 255", "title")
        h.title = title
    else:
        h.title = title

    release = data.get("release_date")
    if not isinstance(release, str | None):
        pass  # M103 from check_structure
    elif release is None:
        missing('release instruction: add "release_date": one of RE, EP, HP, HO '
                "(docs/metadata.md)", "release_date")
    elif release not in vocab.RELEASE_CODES:
        bad(f"release_date {release!r} is not one of {', '.join(vocab.RELEASE_CODES)}",
            "release_date")
    elif release == "HO" and h.deposition_date:
        h.release_date = _plus_one_year(h.deposition_date)

    if _wrong_type(data, "experiment_type"):
        pass  # M103 from check_structure
    elif "experiment_type" in data:
        try:
            h.experiment_type = vocab.experiment_type_name(data["experiment_type"])
        except vocab.VocabError as exc:
            bad(str(exc), "experiment_type")
    else:
        missing('experiment type: add "experiment_type" (3 for data behind an EMDB map; '
                "docs/metadata.md lists all)", "experiment_type")

    for key, attr in (("cross_references", "emdb_entries"),
                      ("biostudies_references", "biostudies_entries"),
                      ("idr_references", "idr_entries"), ("empiar_references", "empiar_entries")):
        refs = data.get(key)
        if isinstance(refs, list):
            names = [_text(_get(r, "name")) for r in refs]
            setattr(h, attr, [n for n in names if n])
    if h.experiment_type == "EMDB" and not h.emdb_entries:
        missing('EMDB reference: experiment_type 3 (EMDB) needs "cross_references": '
                '[{"name": "EMD-NNNNN"}]', "cross_references")

    authors = data.get("authors")
    h.authors = _people(meta, authors, ("authors",), out) if isinstance(authors, list) else []
    if not h.authors:
        missing('authors: add "authors": [{"name": "(\'Surname\', \'INITIALS\')", '
                '"order_id": 0}, ...]', "authors")

    ca = data.get("corresponding_author")
    if isinstance(ca, dict):
        h.corresponding_author = _contact(meta, ca, ("corresponding_author",), out)
    else:
        missing('corresponding author: add "corresponding_author" with first_name, last_name, '
                "email, organization, town_or_city and country", "corresponding_author")
    pis = data.get("principal_investigator")
    if isinstance(pis, list) and pis:
        h.principal_investigators = [
            _contact(meta, p, ("principal_investigator", i), out)
            for i, p in enumerate(pis) if isinstance(p, dict)
        ]
    else:
        missing('principal investigator: add "principal_investigator": [ {...} ] with at least '
                "one person (same keys as corresponding_author)", "principal_investigator")

    wf = _text(_get(data, "workflow_file", "path"))
    if wf:
        h.workflow_file = wf
        rel = wf[len("data/"):] if wf.startswith("data/") else wf
        if not os.path.exists(os.path.join(root, rel)) and meta:
            out.append(meta.finding(M_WORKFLOW, f"workflow file {wf!r} not found under the "
                                    "dataset directory", "workflow_file", "path"))

    cites = data.get("citation")
    if isinstance(cites, list) and cites:
        h.citations = [c for i, raw in enumerate(cites) if isinstance(raw, dict)
                       for c in [_citation(meta, raw, ("citation", i), out)] if c]
    else:
        missing('citation: add "citation": [{...}] for the publication (published: false while '
                "in preparation)", "citation", r=M_RECOMMENDED)
    return h, out


def _wrong_type(data: dict[str, Any], key: str) -> bool:
    """True when ``key`` is present with a JSON type its spec does not allow."""
    value = data.get(key)
    spec = TOP_KEYS.get(key)
    if value is None or spec is None:
        return False
    kind = json_type(value)
    return kind not in spec.types and not (kind == "integer" and "number" in spec.types)


def _plus_one_year(iso: str) -> str:
    d = datetime.date.fromisoformat(iso)
    try:
        return d.replace(year=d.year + 1).isoformat()
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28).isoformat()


def _people(meta: Metadata | None, items: list[Any], key: Key, out: list[Finding]) -> list[Person]:
    """Authors or editors, sorted by ``order_id`` and renumbered 1..n (M113 if they were not
    0..n-1)."""
    people: list[tuple[int, int, Person]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        try:
            name = vocab.author_name(item.get("name"))
        except vocab.VocabError as exc:
            if meta:
                out.append(meta.finding(M_BAD_VALUE, f"{_dotted((*key, i, 'name'))}: {exc}",
                                        *key, i, "name"))
            continue
        order = item.get("order_id")
        order = order if isinstance(order, int) and not isinstance(order, bool) else i
        people.append((order, i, Person(name, _text(item.get("author_orcid")))))
    orders = [o for o, _, _ in people]
    if meta and orders and sorted(orders) != list(range(len(orders))):
        out.append(meta.finding(
            M_ORDER, f"{_dotted(key)} order_id values are {sorted(orders)}", *key,
        ))
    people.sort(key=lambda t: (t[0], t[1]))
    result = []
    for n, (_, _, p) in enumerate(people, start=1):
        p.order = n
        result.append(p)
    return result


def _country(meta: Metadata | None, value: Any, key: Key, out: list[Finding]) -> str | None:
    if value is None:
        return None
    try:
        return vocab.country_name(value)
    except vocab.VocabError as exc:
        if meta and isinstance(value, str):  # other types: M103 from check_structure
            out.append(meta.finding(M_BAD_VALUE, f"{_dotted(key)}: {exc}", *key))
        return None


def _contact(meta: Metadata | None, raw: dict[str, Any], key: Key,
             out: list[Finding]) -> Contact:
    c = Contact(
        first_name=_text(raw.get("first_name")), last_name=_text(raw.get("last_name")),
        organization=_text(raw.get("organization")),
        country=_country(meta, raw.get("country"), (*key, "country"), out),
        email=_text(raw.get("email")), orcid=_text(raw.get("author_orcid")),
        middle_name=_text(raw.get("middle_name")), street=_text(raw.get("street")),
        town_or_city=_text(raw.get("town_or_city")),
        state_or_province=_text(raw.get("state_or_province")),
        post_or_zip=_text(raw.get("post_or_zip")), telephone=_text(raw.get("telephone")),
        fax=_text(raw.get("fax")),
    )
    for name in ("first_name", "last_name", "organization", "email", "town_or_city", "country"):
        given_but_bad = name == "country" and raw.get("country")
        if meta and getattr(c, name) is None and not given_but_bad:
            out.append(meta.finding(M_MISSING, f"{_dotted(key)} has no {name}; add \"{name}\"",
                                    *key))
    return c


def _citation(meta: Metadata | None, raw: dict[str, Any], key: Key,
              out: list[Finding]) -> Citation | None:
    journal = raw.get("j_or_nj_citation", True)
    title = _text(raw.get("title"))
    if title is None:
        if meta:
            out.append(meta.finding(M_MISSING, f"{_dotted(key)} has no title; add \"title\"",
                                    *key))
        return None
    year = raw.get("year")
    c = Citation(
        journal=journal is not False, published=raw.get("published") is True, title=title,
        preprint=raw["preprint"] if isinstance(raw.get("preprint"), bool) else None,
        authors=_people(meta, raw.get("authors") or [], (*key, "authors"), out)
        if isinstance(raw.get("authors"), list) else [],
        editors=_people(meta, raw.get("editors") or [], (*key, "editors"), out)
        if isinstance(raw.get("editors"), list) else [],
        journal_name=_text(raw.get("journal")),
        journal_abbreviation=_text(raw.get("journal_abbreviation")),
        country=_country(meta, raw.get("country"), (*key, "country"), out),
        issue=_text(raw.get("issue")), volume=_text(raw.get("volume")),
        first_page=_text(raw.get("first_page")), last_page=_text(raw.get("last_page")),
        year=year if isinstance(year, int) and not isinstance(year, bool) else None,
        language=_text(raw.get("language")), doi=_text(raw.get("doi")),
        pubmed=_text(raw.get("pubmedid")), details=_text(raw.get("details")),
        book_chapter_title=_text(raw.get("book_chapter_title")),
        publisher=_text(raw.get("publisher")),
        publication_location=_text(raw.get("publication_location")),
    )
    if "published" not in raw and meta:
        out.append(meta.finding(M_MISSING, f"{_dotted(key)} has no \"published\" (true or "
                                "false)", *key))
    return c
