"""``empiar-validate check DIR --xml entry.xml``: the committed XML still matches the data.

Exit 0 when the XML is valid and agrees with the data, 1 on any error-severity finding, 2 when
DIR or the XML is missing or unreadable. The comparison is in :mod:`empiar_validate.scan.drift`.
"""

from __future__ import annotations

import argparse
import os

from empiar_validate.commands.common import (
    add_jobs_argument,
    add_report_arguments,
    add_thumbnails,
    check_dataset_arguments,
    emit,
    selected,
)
from empiar_validate.reporting import Report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``check``."""
    parser.add_argument("directory", metavar="DIR",
                        help="the dataset directory (or URL) the XML describes (its contents "
                             "are /data/)")
    parser.add_argument("--xml", metavar="XML", required=True, help="the entry XML to check")
    parser.add_argument("--remote", metavar="NAME", nargs="?", const="", default=None,
                        help="read DVC-tracked files that are not pulled from this DVC remote "
                             "(without NAME: the repository's default remote), by content "
                             "hash, header only")
    parser.add_argument("--allow-uncovered", action="store_true",
                        help="image files no image set covers are a warning, not an error "
                             "(work in progress kept beside the described data)")
    add_jobs_argument(parser)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Validate the XML, compare it with the data, report."""
    from empiar_validate.findings import has_errors
    from empiar_validate.paths import display_path
    from empiar_validate.predeposition import settle
    from empiar_validate.remote import shown_root
    from empiar_validate.remote.objects import RemoteUnreachable
    from empiar_validate.scan import file_problems, read_dataset, shower, validate_entry
    from empiar_validate.scan.drift import compare
    from empiar_validate.scan.entry import data_root, entry_root_finding
    from empiar_validate.usage import UsageError
    from empiar_validate.validation import SchemaLoadError, SchematronRuntimeError
    from empiar_validate.xmlsafe import MAX_XML_BYTES, parse_xml_bytes

    root, xml_path = args.directory, args.xml
    check_dataset_arguments(args)
    root = data_root(args.directory)  # an entry root EMPIAR-NNNNN/: its data/ is the dataset
    if not os.path.isfile(xml_path):
        raise UsageError(f"{display_path(xml_path)} does not exist or is not a file")
    try:
        with open(xml_path, "rb") as fh:
            data = fh.read(MAX_XML_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {display_path(xml_path)}: {exc.strerror or exc}") from exc
    shown = display_path(xml_path)
    tree, findings = parse_xml_bytes(data, shown)
    report = Report("check", list(findings), checked=[shown])
    report.data = {"dataset": shown_root(root), "xml": shown, "valid": False,
                   "xml_valid": False, "image_sets": []}
    if tree is None:
        return emit(report, args)
    try:
        validation = validate_entry(tree, shown)
    except (SchemaLoadError, SchematronRuntimeError) as exc:
        raise UsageError(f"cannot validate: {exc}") from None
    report.findings += entry_root_finding(args.directory, root) + validation
    show = shower(root)
    try:
        records, found = read_dataset(root, jobs=args.jobs, quiet=args.quiet, show=show,
                                      exclude=[xml_path])
        if args.remote is not None:
            from empiar_validate.remote.dvc import read_from_remote

            records, found = read_from_remote(root, records, found, remote=args.remote or None,
                                              jobs=args.jobs, show=show)
    except RemoteUnreachable as exc:
        raise UsageError(f"cannot read the dataset {shown_root(root)}: {exc}") from None
    report.findings += found
    report.findings += file_problems(records)
    drift = compare(tree.getroot(), records, root=root, xml_shown=shown, show=show,
                    allow_uncovered=args.allow_uncovered)
    report.findings += drift.findings
    code = (tree.getroot().get("accessionCode") or "").strip()
    report.findings = settle(report.findings, accession_code=bool(code))
    report.checked = [str(s["name"]) for s in drift.image_sets] or [shown]
    # "valid" means what it means for validate: no error-severity finding at all.
    report.data["xml_valid"] = not has_errors(selected(args, validation))
    report.data["valid"] = not has_errors(selected(args, report.findings))
    report.data["image_sets"] = drift.image_sets
    add_thumbnails(report, args, root, [
        (str(s["directory"]), [r for r in records if _under(r.path, str(s["directory"]))])
        for s in drift.image_sets])
    if not args.quiet:
        report.summary = [
            f"{s['directory']}: {s.get('status')}, {s['files']} file(s) ({s['name']})"
            for s in drift.image_sets
        ]
    return emit(report, args)



def _under(rel: str, directory: str) -> bool:
    """``rel`` (relative to the dataset) lies in the entry directory ``/data/...``."""
    base = directory.removeprefix("/data").strip("/")
    return not base or rel == base or rel.startswith(base + "/")
