"""Arguments and output plumbing shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys

from empiar_validate.reporting import FORMATS, Report, render


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--quiet``, the same on every command."""
    parser.add_argument(
        "--format", choices=FORMATS, default="text",
        help="report format: text for people, json for scripts, junit for CI test views, "
        "github for GitHub Actions annotations (default: text)",
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
    parser.add_argument("-j", "--jobs", type=int, default=None,
                        help=f"{what} (default: chosen from the number of cores)")


def check_dataset_arguments(args: argparse.Namespace) -> None:
    """Usage checks shared by scan, check and package (raise UsageError: exit 2).

    DIR must be a directory, ``--jobs`` positive, and ``--metadata`` (where the command has it)
    an existing regular file.
    """
    import os

    from empiar_validate.cli import UsageError
    from empiar_validate.paths import display_path

    if not os.path.isdir(args.directory):
        raise UsageError(f"{display_path(args.directory)} is not a directory")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    metadata = getattr(args, "metadata", None)
    if metadata is not None and not os.path.isfile(metadata):
        what = "is not a regular file" if os.path.exists(metadata) else "does not exist"
        raise UsageError(f"metadata file {display_path(metadata)} {what}")
