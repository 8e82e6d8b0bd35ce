"""Arguments and output plumbing shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from empiar_validate.reporters import FORMATS, format_help, render
from empiar_validate.reporting import Report

if TYPE_CHECKING:
    from empiar_validate.findings import Finding
    from empiar_validate.records import FileRecord
    from empiar_validate.scan.metadata import MetadataFile


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Output options, the same on every command: format, verbosity, rule selection."""
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help=format_help(),
    )
    parser.add_argument(
        "--html", metavar="FILE",
        help="also write the HTML report to FILE (replaced atomically), beside --format",
    )
    parser.add_argument(
        "--thumbnails", action="store_true",
        help="put a thumbnail of each image set in the HTML report: one section of one file, "
        "read with bounded memory (everything else stays header-only)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress bar; in text format only errors and warnings, one line each (infos "
        "are counted in the verdict)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="with --quiet, still print each finding's fix",
    )
    parser.add_argument(
        "--select", action="append", metavar="RULE[,RULE]",
        help="report only these rules (ids such as S109, names such as "
        "pixel-size-implausible, or id prefixes such as P1); replaces the configured select",
    )
    parser.add_argument(
        "--ignore", action="append", metavar="RULE[,RULE]",
        help="do not report these rules; added to the ignore list of [tool.empiar-validate] in "
        "pyproject.toml or .empiar-validate.toml",
    )


def resolve_selection(args: argparse.Namespace) -> None:
    """Set ``args.selection`` from ``--select``/``--ignore`` and the configuration file; an
    unknown rule raises UsageError (exit 2) before any work is done."""
    from empiar_validate.selection import selection

    if hasattr(args, "select"):
        args.selection = selection(args.select, args.ignore)


def add_thumbnails(report: Report, args: argparse.Namespace, root: str,
                   sets: list[tuple[str, list[FileRecord]]]) -> None:
    """With ``--thumbnails`` and an HTML output, a PNG per image set (directory, records with
    paths relative to ``root``) in ``report.thumbnails``; nothing is read otherwise."""
    if not getattr(args, "thumbnails", False):
        return
    if args.format != "html" and not getattr(args, "html", None):
        return
    from empiar_validate.thumbnails import data_uri, image_set_png

    for directory, records in sets:
        png = image_set_png(root, records)
        if png is not None:
            report.thumbnails[directory] = data_uri(png)


def selected(args: argparse.Namespace, findings: list[Finding]) -> list[Finding]:
    """``findings`` as the run's rule selection leaves them (for values such as ``valid`` that
    a command computes before :func:`emit`, so they agree with what is reported)."""
    chosen = getattr(args, "selection", None)
    return findings if chosen is None else chosen.apply(findings)


def emit(report: Report, args: argparse.Namespace | str) -> int:
    """Apply the rule selection, render the report to stdout (and ``--html FILE``), and return
    the exit code what is left implies (0 or 1)."""
    if isinstance(args, str):  # library callers: a format alone
        args = argparse.Namespace(format=args)
    chosen = getattr(args, "selection", None)
    if chosen is not None:
        report.findings = chosen.apply(report.findings)
    report.quiet = bool(getattr(args, "quiet", False))
    report.verbose = bool(getattr(args, "verbose", False))
    html = getattr(args, "html", None)
    if html:
        import io

        from empiar_validate.atomic import write_text_atomic
        from empiar_validate.usage import UsageError

        buffer = io.StringIO()
        render(report, "html", buffer)
        try:
            write_text_atomic(html, buffer.getvalue())
        except OSError as exc:
            raise UsageError(f"cannot write {html}: {exc.strerror or exc}") from exc
    render(report, args.format, sys.stdout)
    sys.stdout.flush()
    return 1 if report.has_errors else 0


def add_jobs_argument(
    parser: argparse.ArgumentParser, what: str = "parallel header reads"
) -> None:
    """``-j/--jobs``: bounded concurrency (the default depends on the number of cores)."""
    parser.add_argument("-j", "--jobs", type=_positive_int, default=None, metavar="N",
                        help=f"{what} (default: chosen from the number of cores)")
    parser.add_argument(
        "--decompress-budget", type=_decompress_budget, default="64M", metavar="SIZE",
        help="decompressed bytes read at most per .gz/.bz2 TIFF movie to count its frames "
             "(e.g. 512M, 5G; default: 64M); beyond it the frame count is unknown",
    )
    parser.add_argument(
        "--mrc-mode0", type=_mode0_reading, default="imod", metavar="{imod,mrc2014}",
        help="how MRC mode 0 bytes are read: imod (default; unsigned unless the IMOD flags say "
             "signed, as EMPIAR reads them) or mrc2014 (signed, as the standard says)",
    )


def _mode0_reading(text: str) -> str:
    """argparse type for ``--mrc-mode0``; sets the reading for this run (the string default
    passes through here too, so every run starts from ``imod``)."""
    from empiar_validate.formats import mode0

    try:
        mode0.set_mode0_reading(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _decompress_budget(text: str) -> int:
    """argparse type for ``--decompress-budget``; sets the per-file budget for this run.

    argparse also passes the string default through here when the option is not given, so
    every run starts from the default (in-process callers, like the tests, included).
    """
    from empiar_validate.formats import decompress

    try:
        nbytes = decompress.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    decompress.set_budget(nbytes)
    return nbytes


def _positive_int(text: str) -> int:
    """argparse type for ``--jobs``: a bad value is a usage error (exit 2) for every command."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def check_dataset_arguments(args: argparse.Namespace) -> None:
    """Usage checks shared by scan, check and package (raise UsageError: exit 2).

    DIR must be a directory and (where the command has them)
    ``--metadata`` an existing regular file, ``--accession-code`` EMPIAR-NNNNN and
    ``--deposition-date`` a real date: a bad flag is the caller's mistake, not the metadata's.
    """
    import os

    from empiar_validate.empiar import ACCESSION_CODE, parse_date
    from empiar_validate.paths import display_path
    from empiar_validate.remote import is_url
    from empiar_validate.usage import UsageError

    if not is_url(args.directory) and not os.path.isdir(args.directory):
        raise UsageError(f"{display_path(args.directory)} is not a directory")
    code = getattr(args, "accession_code", None)
    if code is not None and not ACCESSION_CODE.fullmatch(code):
        raise UsageError(f"--accession-code {code!r} is not of the form EMPIAR-NNNNN")
    when = getattr(args, "deposition_date", None)
    if when is not None and parse_date(when) is None:
        raise UsageError(f"--deposition-date {when!r} is not a date YYYY-MM-DD")
    metadata = getattr(args, "metadata", None)
    if metadata is not None and not os.path.isfile(metadata):
        what = "is not a regular file" if os.path.exists(metadata) else "does not exist"
        raise UsageError(f"metadata file {display_path(metadata)} {what}")


def read_metadata_argument(args: argparse.Namespace) -> MetadataFile | None:
    """The ``--metadata`` file, loaded once for the whole command (``None`` without the flag).

    ``OSError`` propagates: each command words an unreadable file as its own usage error. What
    is wrong with the content is reported by the scan, from this one load.
    """
    if getattr(args, "metadata", None) is None:
        return None
    from empiar_validate.scan.metadata import read_metadata

    return read_metadata(args.metadata)


def unparsable_metadata_report(
    command: str, args: argparse.Namespace, source: MetadataFile | None
) -> Report | None:
    """A report of M101 when the loaded ``--metadata`` cannot be parsed, else ``None``.

    scan and package then write nothing: an output without the depositor's metadata must not
    replace a good one.
    """
    if source is None or not source.unparsable:
        return None
    from empiar_validate.paths import display_path
    from empiar_validate.scan.metadata import M_SYNTAX

    syntax = [f for f in source.findings if f.rule == M_SYNTAX.id]
    report = Report(command, syntax, checked=[source.shown])
    report.data = {"dataset": display_path(args.directory), "valid": False}
    report.summary = ["nothing written: the metadata file cannot be parsed"]
    return report

