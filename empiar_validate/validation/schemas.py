"""Locate and load the EMPIAR schemas: the shipped ones, or files given with ``--xsd``/``--sch``.

The wheel ships the top-level ``schemas/`` directory as ``empiar_validate/schemas`` (hatch
force-include); a source checkout or editable install has it next to the package.
:func:`shipped_schema` is the one place that knows this. Compiled schemas are cached by content,
so validating many files, or calling the API repeatedly, compiles each schema once.

``SchemaLoadError`` lives in :mod:`~empiar_validate.validation.schematron_types` (the engine
raises it too) and is re-exported here.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from empiar_validate.paths import display_path
from empiar_validate.validation.schematron_types import SchemaLoadError
from empiar_validate.xmlsafe import parse_xml_bytes

if TYPE_CHECKING:
    from empiar_validate.validation.schematron_engine import CompiledSchematron

__all__ = [
    "MAX_SCHEMA_BYTES", "SCH_NAME", "XSD_NAME", "SchemaLoadError", "SchemaSource",
    "load_schematron", "load_xsd", "parse_schema_document", "schema_source", "shipped_schema",
]

XSD_NAME = "empiar.xsd"
SCH_NAME = "empiar.sch"
MAX_SCHEMA_BYTES = 8 * 1024 * 1024


def shipped_schema(name: str) -> Traversable:
    """The shipped schema file ``name`` (``empiar.xsd`` or ``empiar.sch``).

    Looks inside the installed package first (wheel: ``empiar_validate/schemas/``), then in the
    repository's top-level ``schemas/`` beside the package (source tree, editable install).
    """
    packaged = resources.files("empiar_validate") / "schemas" / name
    if packaged.is_file():
        return packaged
    beside = Path(__file__).resolve().parents[2] / "schemas" / name
    if beside.is_file():
        return beside
    raise SchemaLoadError(
        f"shipped schema {name} not found in the package or beside it; reinstall empiar-validate"
    )


@dataclass(frozen=True, slots=True)
class SchemaSource:
    """Raw schema bytes plus how to name them in reports and where relative includes resolve."""

    label: str
    data: bytes
    base_dir: Path | None
    shipped: bool
    name: str = "schema.xml"  # file name, so libxml2's messages name the real file

    @property
    def digest(self) -> str:
        """Content hash: the cache key, and a way to tell two schema files apart in reports."""
        return hashlib.sha256(self.data).hexdigest()


def schema_source(name: str, path: str | os.PathLike[str] | None = None) -> SchemaSource:
    """Read schema ``path``, or the shipped schema ``name`` when ``path`` is None."""
    if path is None:
        shipped = shipped_schema(name)
        base = Path(str(shipped)).parent if isinstance(shipped, Path) else None
        return SchemaSource(f"{name} (built in)", shipped.read_bytes(), base, shipped=True,
                            name=name)
    shown = display_path(os.fspath(path))
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SchemaLoadError(f"{shown}: not a regular file")
        if info.st_size > MAX_SCHEMA_BYTES:
            raise SchemaLoadError(f"{shown}: larger than {MAX_SCHEMA_BYTES:,} bytes")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SchemaLoadError(f"{shown}: cannot read: {exc.strerror or exc}") from exc
    resolved = Path(path).resolve()
    return SchemaSource(shown, data, resolved.parent, shipped=False, name=resolved.name)


def parse_schema_document(source: SchemaSource) -> etree._ElementTree:
    """Parse schema bytes with the same safe parser as entries (comments dropped: pyschematron
    can mistake a trailing comment for the schema element)."""
    tree, findings = parse_xml_bytes(
        source.data, source.label, max_bytes=MAX_SCHEMA_BYTES, remove_comments=True
    )
    if tree is None:
        detail = "; ".join(
            f"line {f.line}: {f.message}" if f.line else f.message for f in findings
        )
        raise SchemaLoadError(f"{source.label}: {detail}")
    if source.base_dir is not None:
        # Relative xs:include / sch:include resolve against the schema's own directory.
        tree.docinfo.URL = (source.base_dir / source.name).as_uri()
    return tree


def load_xsd(path: str | os.PathLike[str] | None = None) -> tuple[etree.XMLSchema, str]:
    """The compiled XSD (shipped, or ``path``) and its label; compiled once per content."""
    return _compile_xsd(schema_source(XSD_NAME, path))


def load_schematron(path: str | os.PathLike[str] | None = None) -> CompiledSchematron:
    """The compiled Schematron (shipped, or ``path``); compiled once per content.

    pyschematron is imported on first use (by the engine), not when this module is imported.
    """
    return _compile_schematron(schema_source(SCH_NAME, path))


@functools.lru_cache(maxsize=8)
def _compile_xsd(source: SchemaSource) -> tuple[etree.XMLSchema, str]:
    tree = parse_schema_document(source)
    try:
        schema = etree.XMLSchema(tree)
    except etree.XMLSchemaParseError as exc:
        raise SchemaLoadError(f"{source.label}: not a usable XML Schema: {exc}") from exc
    version = tree.getroot().get("version")
    label = f"{XSD_NAME} {version} (built in)" if source.shipped and version else source.label
    return schema, label


@functools.lru_cache(maxsize=8)
def _compile_schematron(source: SchemaSource) -> CompiledSchematron:
    from empiar_validate.validation.schematron_engine import compile_with_pyschematron

    tree = parse_schema_document(source)
    version = tree.getroot().get("schemaVersion")
    label = f"{SCH_NAME} {version} (built in)" if source.shipped and version else source.label
    return compile_with_pyschematron(tree, label, source.base_dir)
