"""The mini schema of the metadata file: which keys exist and what JSON type each value has.

It mirrors empiar-depositor's deposition schema closely enough to name a typo (M102) or a value
of the wrong type (M103) with its line, before any value is converted; conversion
(:mod:`scan.metaconvert`) can then trust the types it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.scan.metadata import Key, Metadata, json_type
from empiar_validate.scan.metaparse import Oversized
from empiar_validate.scan.xmlchars import NOT_XML

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


def check_structure(meta: Metadata) -> list[Finding]:
    """Unknown keys (M102) and wrong types (M103), walking the document against the spec;
    YAML keys that are not text (``null: 1``, ``1.5: x``) are M103 too."""
    out: list[Finding] = [
        meta.finding(M_BAD_VALUE, f"key {dotted_key(path)} is {_a(kind)} in YAML, not text; "
                     f"quote it (\"{path[-1]}\") if it is meant", *path)
        for path, kind in meta.odd_keys.items()
    ]
    _check(meta, meta.data, TOP, (), out)
    return out


def _check(meta: Metadata, value: Any, spec: Spec, key: Key, out: list[Finding]) -> None:
    kind = json_type(value)
    allowed = spec.types
    ok = kind in allowed or (kind == "integer" and "number" in allowed)
    if isinstance(value, Oversized):
        out.append(meta.finding(
            M_BAD_VALUE, f"{dotted_key(key)} is an integer of {value.digits} digits; no "
                         "metadata value has more than 4300", *key))
        return
    if not ok:
        out.append(meta.finding(
            M_BAD_VALUE, f"{dotted_key(key)} is {_a(kind)}, expected {' or '.join(allowed)}", *key,
        ))
        return
    if kind == "string" and NOT_XML.search(value):
        out.append(meta.finding(
            M_BAD_VALUE, f"{dotted_key(key)} contains control characters XML cannot hold", *key,
        ))
    if kind == "object" and spec.keys is not None:
        for k, v in value.items():
            if k not in spec.keys:
                if (*key, k) in meta.odd_keys:
                    continue  # a YAML key that is not text: reported as M103 above
                out.append(meta.finding(M_UNKNOWN_KEY, f"unknown key {dotted_key((*key, k))}",
                                        *key, k))
                continue
            _check(meta, v, spec.keys[k], (*key, k), out)
    elif kind == "array" and spec.items is not None:
        for i, v in enumerate(value[:100_000]):
            _check(meta, v, spec.items, (*key, i), out)


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def dotted_key(key: Key) -> str:
    """``imagesets[0].directory`` for a key path, as findings name it."""
    text = ""
    for k in key:
        text += f"[{k}]" if isinstance(k, int) else (f".{k}" if text else k)
    return text or "(top level)"


def wrong_type(data: dict[str, Any], key: str) -> bool:
    """True when top-level ``key`` is present with a JSON type its spec does not allow (M103
    from :func:`check_structure` then says so, and nothing else should)."""
    value = data.get(key)
    spec = TOP_KEYS.get(key)
    if value is None or spec is None:
        return False
    kind = json_type(value)
    return kind not in spec.types and not (kind == "integer" and "number" in spec.types)
