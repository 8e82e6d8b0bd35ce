"""Image sets + the user's metadata -> empiar-depositor's deposition JSON.

EMPIAR's deposition API (and EMBL-EBI's ``empiar-depositor`` client) takes one JSON document:
the entry's metadata as the user wrote it, plus image sets whose vocabularies are spelled as
code pairs (``"('T2', '')"``, or ``"('OT', 'NAME')"`` for values outside EMPIAR's lists). The
numbers come from the files, so the JSON says what the data holds rather than what someone
typed. Missing values the API requires become findings, not guesses.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping, Sequence

from empiar_validate.acquisition import merge_details
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import VARIABLE, ImageSet
from empiar_validate.scan.merge import REQUIRED_VALUES
from empiar_validate.textsafe import json_text
from empiar_validate.vocab import encode_code

# Top-level keys of empiar_deposition.schema.json, in the order the depositor's example uses.
TOP_LEVEL_KEYS = (
    "title", "release_date", "experiment_type", "scale", "cross_references",
    "biostudies_references", "idr_references", "empiar_references", "workflows", "authors",
    "corresponding_author", "principal_investigator", "workflow_file", "imagesets", "citation",
)
REQUIRED_KEYS = (
    "title", "release_date", "experiment_type", "authors", "corresponding_author",
    "principal_investigator", "imagesets", "citation",
)
IMAGESET_REQUIRED = (
    "name", "directory", "category", "header_format", "data_format",
    "num_images_or_tilt_series", "frames_per_image", "voxel_type",
)
_CODE_FIELDS = ("category", "header_format", "data_format", "voxel_type")
_OTHER_UPPER = re.compile(r"[^A-Z0-9 ]+")

P_NO_METADATA = rule(
    "P120", Severity.WARNING, "no deposition metadata given",
    "Pass --metadata with the entry's title, authors, contacts and citation (empiar-depositor's "
    "JSON shape) so deposition.json is complete.",
)
P_MISSING_FIELD = rule(
    "P121", Severity.ERROR, "deposition.json lacks a value EMPIAR's deposition API requires",
    "Give the value in the metadata file; it cannot be derived from the data.",
)
P_SCHEMA = rule(
    "P122", Severity.ERROR, "deposition.json does not satisfy EMPIAR's deposition schema",
    "Correct the value named in the metadata file (the schema is empiar-depositor's "
    "empiar_deposition.schema.json; `pip install empiar-validate[depositor]` checks it).",
)

# Types the deposition schema gives values that metadata files often spell otherwise: its own
# examples write "scale": 3 where the schema asks for the string "3".
_SCHEMA_TYPES: dict[str, type] = {"scale": str, "experiment_type": int}
# Schema complaints that P121 (or the scan's M104) already make: one finding per fact.
_ALREADY_REPORTED = frozenset({"required", "minItems"})


def code(kind: str, value: str) -> str:
    """The deposition spelling of an XML vocabulary value of ``kind``.

    Outside EMPIAR's lists the value goes into ``('OT', ...)``; formats and voxel types must then
    be upper-case letters, digits and spaces, so other characters become spaces.

    >>> code("category", "micrographs - multiframe"), code("voxel_type", "16 bit float")
    ("('T2', '')", "('OT', '16 BIT FLOAT')")
    """
    encoded = encode_code(kind, value)
    if kind == "category" or not encoded.startswith("('OT'"):
        return encoded
    cleaned = " ".join(_OTHER_UPPER.sub(" ", value.upper()).split())
    return encode_code(kind, cleaned or "UNKNOWN")


def _number(value: object, kind: type) -> int | float | None:
    """A JSON number, or ``None`` for unknown and ``variable`` (the JSON has no 'variable')."""
    if value is None or value == VARIABLE or isinstance(value, bool):
        return None
    if kind is int:
        return int(value) if isinstance(value, int | float) and value == int(value) else None
    if not isinstance(value, int | float):
        return None
    from empiar_validate.scan.values import format_value

    return float(format_value(float(value)))  # the XML's rounding: 1.0600001 (float32) -> 1.06


def imageset_json(s: ImageSet, details: str | None = None) -> dict[str, object]:
    """One entry of ``imagesets`` (key order as in the depositor's ``working_example.json``).

    Required values that are unknown are left out, so schema validation names them.
    """
    out: dict[str, object] = {"name": s.name, "directory": s.directory}
    for kind in ("category", "header_format", "data_format"):
        value = getattr(s, kind)
        if value:
            out[kind] = code(kind, value)
    if s.num_images_or_tilt_series is not None:
        out["num_images_or_tilt_series"] = int(s.num_images_or_tilt_series)
    if s.frames_per_image is not None:  # unknown stays out, so P121 names it
        out["frames_per_image"] = int(s.frames_per_image)
    out["frame_range_min"] = s.frame_range_min
    out["frame_range_max"] = s.frame_range_max
    if s.voxel_type:
        out["voxel_type"] = code("voxel_type", s.voxel_type)
    out["pixel_width"] = _number(s.pixel_width, float)
    out["pixel_height"] = _number(s.pixel_height, float)
    out["details"] = merge_details(s.details, details) if details else s.details
    out["image_width"] = _number(s.image_width, int)
    out["image_height"] = _number(s.image_height, int)
    for key in ("micrographs_file_pattern", "picked_particles_file_pattern",
                "picked_particles_directory"):
        value = getattr(s, key)
        if value:
            out[key] = value
    return out


def deposition_json(
    image_sets: Sequence[ImageSet],
    metadata: Mapping[str, object],
    *,
    details: Mapping[str, str | None] | None = None,
    after_scan: bool = False,
) -> tuple[dict[str, object], list[Finding]]:
    """The deposition document and the findings about what it lacks.

    ``metadata`` is the user's metadata in the depositor's shape; every key the deposition schema
    knows is carried over except ``imagesets``, which is rebuilt from ``image_sets``. Other keys
    (``scan``'s XML-only ``accession_code`` and ``deposition_date``, typos that ``scan``
    reports as M102) are left out: the API takes only its own fields. ``details``
    maps an image set's directory to extracted acquisition text, appended after the user's own.
    ``after_scan`` says the image sets come from a scan, which has already reported every
    unknown required value (M104): only what the JSON alone lacks is reported then.
    """
    findings: list[Finding] = []
    details = details or {}
    doc: dict[str, object] = {}
    for key in TOP_LEVEL_KEYS:
        if key == "imagesets":
            doc[key] = [imageset_json(s, details.get(s.directory)) for s in image_sets]
        elif key in metadata:
            doc[key] = schema_typed(key, metadata[key])
    if not metadata:
        findings.append(Finding.of(
            P_NO_METADATA, "deposition.json holds only the image sets; title, authors, contacts "
            "and citation are missing"))
    else:
        for key in REQUIRED_KEYS:
            if key != "imagesets" and doc.get(key) in (None, "", [], {}):
                findings.append(Finding.of(P_MISSING_FIELD, f"metadata has no {key}",
                                           field_name=key))
    if not image_sets:
        findings.append(Finding.of(P_MISSING_FIELD, "no image set was found or described",
                                   field_name="imagesets"))
    for s, entry in zip(image_sets, doc["imagesets"], strict=True):  # type: ignore[call-overload]
        for key in IMAGESET_REQUIRED:
            if after_scan and key in REQUIRED_VALUES and getattr(s, key) is None:
                continue  # unknown: the scan reported it (M104), with the fix
            if entry.get(key) in (None, ""):
                findings.append(Finding.of(
                    P_MISSING_FIELD, f"image set {s.name!r}: {key} is unknown",
                    image_set=s.name, field_name=key))
    return doc, findings


def schema_typed(key: str, value: object) -> object:
    """``value`` in the JSON type the deposition schema gives ``key`` (``scale: 1`` -> ``"1"``,
    ``experiment_type: "3"`` -> ``3``); anything else unchanged (the scan reports wrong types)."""
    want = _SCHEMA_TYPES.get(key)
    if want is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    if want is int and isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def depositor_schema() -> dict[str, object] | None:
    """empiar-depositor's deposition schema, or ``None`` when the package (or jsonschema) is
    not installed (the ``depositor`` extra installs both)."""
    try:
        import importlib.resources

        import jsonschema  # noqa: F401  (checked here: validation needs it)

        text = (importlib.resources.files("empiar_depositor")
                / "empiar_deposition.schema.json").read_text(encoding="utf-8")
    except (ImportError, OSError):
        return None
    schema = json.loads(text)
    return schema if isinstance(schema, dict) else None


def schema_findings(doc: Mapping[str, object]) -> list[Finding]:
    """P122 for every way ``doc`` breaks the deposition schema, when the schema is available.

    Missing required values are P121's (or the scan's M104), so ``required`` and ``minItems``
    complaints are not repeated here. The document is checked as it is written (after
    :func:`dump_json`), so what is validated is exactly the file."""
    schema = depositor_schema()
    if schema is None:
        return []
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    written = json.loads(dump_json(doc))
    out = []
    errors = sorted(cls(schema).iter_errors(written),
                    key=lambda e: ([str(p) for p in e.absolute_path], e.message))
    for err in errors:
        if err.validator in _ALREADY_REPORTED:
            continue
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        field = next((p for p in reversed(err.absolute_path) if isinstance(p, str)), None)
        out.append(Finding.of(P_SCHEMA, f"deposition.json{where}: {err.message}",
                              field_name=field))
    return out


def dump_json(doc: Mapping[str, object]) -> bytes:
    """Stable bytes: two-space indent, UTF-8 kept readable, a final newline; a lone surrogate
    from the metadata is written as its JSON escape (textsafe.py), never an encoding error."""
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    return json_text(text).encode("utf-8")


def _json_default(value: object) -> object:
    """YAML metadata can hold dates (unquoted 2024-05-02): write them as ISO text, as JSON
    users would have; scan reports a date where text is expected (M103)."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
