"""Arguments and output plumbing shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from empiar_validate.reporters import FORMATS, format_help, render
from empiar_validate.reporting import Report

if TYPE_CHECKING:
    from empiar_validate.scan.metadata import MetadataFile


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--quiet``, the same on every command."""
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help=format_help(),
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress bar and, in text format, only findings and the verdict",
    )


def emit(report: Report, fmt: str) -> int:
    """Render the report to stdout and return the exit code it implies (0 or 1)."""
    render(report, fmt, sys.stdout)
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
    from empiar_validate.usage import UsageError

    if not os.path.isdir(args.directory):
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

