"""``empiar-validate validate FILE.xml...``: XSD + Schematron validation of entry headers.

Exit codes: 0 when no finding has error severity, 1 otherwise, 2 when an input file is missing
or unreadable, or ``--xsd``/``--sch`` is not a usable schema (a message on stderr, no report).

``--only-empiar`` skips files whose root element is not an EMPIAR ``entry`` (they are listed as
skipped, never findings), so a pre-commit hook can run on every ``*.xml`` of a data repository
without failing its BigDataViewer or workflow XML. Without it such a file is an X101 error.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from empiar_validate.commands.common import add_report_arguments, emit, selected
from empiar_validate.paths import display_path
from empiar_validate.reporting import Report
from empiar_validate.usage import UsageError

if TYPE_CHECKING:
    from lxml import etree


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
    parser.add_argument(
        "--only-empiar", action="store_true",
        help="skip files whose root element is not an EMPIAR <entry> (other XML in a data "
        "repository) instead of reporting X101; they are listed as skipped",
    )
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Validate every file and report; see the module docstring for exit codes."""
    from empiar_validate.predeposition import settle
    from empiar_validate.validation import (
        FileResult,
        SchemaLoadError,
        SchematronRuntimeError,
        load_schemas,
        validate_tree,
    )
    from empiar_validate.xmlsafe import parse_xml_file

    for path in args.files:
        _require_readable_file(path)
    try:
        schemas = load_schemas(args.xsd, args.sch)
    except SchemaLoadError as exc:
        raise UsageError(f"cannot use schema: {exc}") from None

    results: list[FileResult] = []
    skipped: list[tuple[str, str]] = []  # (file, root tag as shown)
    for path in args.files:
        shown = display_path(path)
        tree, findings = parse_xml_file(path, name=shown)
        if args.only_empiar:
            other_root = _other_root(path, tree)
            if other_root is not None:
                skipped.append((shown, other_root))
                continue
        if tree is None:
            results.append(FileResult(shown, selected(args, findings)))
            continue
        try:
            found = validate_tree(tree, shown, schemas)
            code = (tree.getroot().get("accessionCode") or "").strip()
            found = settle(found, accession_code=bool(code))
            results.append(FileResult(shown, selected(args, found)))
        except SchematronRuntimeError as exc:
            raise UsageError(f"cannot evaluate the Schematron: {exc}") from None

    report = Report(
        command="validate",
        findings=[f for result in results for f in result.findings],
        checked=[result.file for result in results],
        data={
            "valid": all(result.valid for result in results),
            "files": [{"file": result.file, "valid": result.valid} for result in results],
            **({"skipped": [file for file, _ in skipped]} if args.only_empiar else {}),
            "schemas": {"xsd": schemas.xsd_label, "sch": schemas.sch_label},
        },
    )
    if not args.quiet:
        report.summary.append(f"schemas: {schemas.xsd_label}; {schemas.sch_label}")
        report.summary.extend(
            f"{result.file}: {'valid' if result.valid else 'INVALID'}" for result in results
        )
        report.summary.extend(
            f"{file}: skipped (root element {root} is not an EMPIAR entry)"
            for file, root in skipped
        )
    return emit(report, args)


def _other_root(path: str, tree: etree._ElementTree | None) -> str | None:
    """The root element, as shown to the user, when it is known and not an EMPIAR entry; else
    ``None`` (an entry, or an unparseable file whose root start tag cannot be read: it is
    validated, so its problem is reported)."""
    from empiar_validate.validation.root import ENTRY_TAG, root_of_file, root_of_tree

    tag = root_of_tree(tree) if tree is not None else root_of_file(path)
    # A namespace-less <entry> is an old EMPIAR header: validate it, so X101 says what to fix.
    if tag is None or tag in (ENTRY_TAG, "entry"):
        return None
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return f"<{local}>" + (f" in namespace {namespace}" if namespace else "")


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
