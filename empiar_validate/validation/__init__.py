"""Validate EMPIAR entry XML: safe parse, root check, XSD, then Schematron, as findings.

    schemas = load_schemas()                      # shipped schemas; or load_schemas(xsd, sch)
    result = validate_file("10917.xml", schemas)
    result.valid, result.findings

Both schema layers always run (an XSD error does not hide a Schematron one), except when the
file cannot be parsed or its root is not an EMPIAR ``entry``: then nothing else is meaningful.
Nothing here imports h5py, tifffile or mrcfile; pyschematron is imported when the Schematron is
first compiled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from lxml import etree

from empiar_validate.findings import Finding, has_errors
from empiar_validate.paths import display_path
from empiar_validate.validation.schemas import load_schematron, load_xsd
from empiar_validate.validation.schematron import schematron_findings
from empiar_validate.validation.schematron_engine import CompiledSchematron
from empiar_validate.validation.schematron_types import SchemaLoadError, SchematronRuntimeError
from empiar_validate.validation.xsd import check_root, xsd_findings
from empiar_validate.xmlsafe import parse_xml_file

__all__ = [
    "FileResult",
    "SchemaLoadError",
    "Schemas",
    "SchematronRuntimeError",
    "load_schemas",
    "validate_file",
    "validate_tree",
]


@dataclass(frozen=True, slots=True)
class Schemas:
    """A compiled XSD and Schematron, with the labels reports use to name them."""

    xsd: etree.XMLSchema
    xsd_label: str
    schematron: CompiledSchematron

    @property
    def sch_label(self) -> str:
        """How reports name the Schematron."""
        return self.schematron.label


def load_schemas(
    xsd: str | os.PathLike[str] | None = None, sch: str | os.PathLike[str] | None = None
) -> Schemas:
    """The shipped schemas, or the files given (``--xsd``/``--sch``); cached by content.

    Raises :class:`SchemaLoadError` when a file is missing, unreadable or not a usable schema.
    """
    compiled_xsd, label = load_xsd(xsd)
    return Schemas(compiled_xsd, label, load_schematron(sch))


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome for one file: valid means no error-severity finding."""

    file: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when no finding has error severity."""
        return not has_errors(self.findings)


def validate_tree(tree: etree._ElementTree, file: str, schemas: Schemas) -> list[Finding]:
    """Findings for a parsed entry: X101 alone if the root is wrong, else XSD + Schematron.

    Raises :class:`SchematronRuntimeError` if the Schematron cannot be evaluated.
    """
    wrong_root = check_root(tree, file)
    if wrong_root:
        return wrong_root
    return xsd_findings(tree, schemas.xsd, file) + schematron_findings(
        tree, schemas.schematron, file
    )


def validate_file(
    path: str | os.PathLike[str], schemas: Schemas, *, name: str | None = None
) -> FileResult:
    """Parse ``path`` safely and validate it; ``name`` is how findings refer to the file."""
    shown = name if name is not None else display_path(os.fspath(path))
    tree, findings = parse_xml_file(path, name=shown)
    if tree is None:
        return FileResult(shown, findings)
    return FileResult(shown, validate_tree(tree, shown, schemas))
