"""``empiar-validate validate FILE.xml...``: XSD + Schematron validation of entry headers.

Exit codes: 0 when no finding has error severity, 1 otherwise, 2 when an input file is missing
or unreadable, or ``--xsd``/``--sch`` is not a usable schema (a message on stderr, no report).
"""

from __future__ import annotations

import argparse
import os

from empiar_validate.cli import UsageError
from empiar_validate.commands.common import add_report_arguments, emit
from empiar_validate.paths import display_path
from empiar_validate.reporting import Report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Files, schema overrides and the shared report options."""
    parser.add_argument("files", nargs="+", metavar="FILE.xml", help="EMPIAR entry XML files")
    parser.add_argument(
        "--xsd", metavar="PATH",
        help="validate against this XML Schema instead of the built-in empiar.xsd "
        "(e.g. EMPIAR's official one)",
    )
    parser.add_argument(
        "--sch", metavar="PATH",
        help="use this Schematron instead of the built-in empiar.sch",
    )
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Validate every file and report; see the module docstring for exit codes."""
    from empiar_validate.validation import (
        SchemaLoadError,
        SchematronRuntimeError,
        load_schemas,
        validate_file,
    )

    for path in args.files:
        _require_readable_file(path)
    try:
        schemas = load_schemas(args.xsd, args.sch)
    except SchemaLoadError as exc:
        raise UsageError(f"cannot use schema: {exc}") from None

    results = []
    for path in args.files:
        try:
            results.append(validate_file(path, schemas, name=display_path(path)))
        except SchematronRuntimeError as exc:
            raise UsageError(f"cannot evaluate the Schematron: {exc}") from None

    report = Report(
        command="validate",
        findings=[f for result in results for f in result.findings],
        checked=[result.file for result in results],
        data={
            "valid": all(result.valid for result in results),
            "files": [{"file": result.file, "valid": result.valid} for result in results],
            "schemas": {"xsd": schemas.xsd_label, "sch": schemas.sch_label},
        },
    )
    if not args.quiet:
        report.summary.append(f"schemas: {schemas.xsd_label}; {schemas.sch_label}")
        report.summary.extend(
            f"{result.file}: {'valid' if result.valid else 'INVALID'}" for result in results
        )
    return emit(report, args.format)


def _require_readable_file(path: str) -> None:
    """Missing or unreadable inputs are usage errors (exit 2), not findings."""
    shown = display_path(path)
    if not os.path.exists(path):
        raise UsageError(f"{shown}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{shown}: is a directory, not an XML file")
    if not os.path.isfile(path):
        raise UsageError(f"{shown}: not a regular file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{shown}: permission denied")
