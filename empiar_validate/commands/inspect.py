"""``empiar-validate inspect PATH...``: what every image file holds, from its header alone."""

from __future__ import annotations

import argparse

from empiar_validate.commands.common import add_jobs_argument, add_report_arguments, emit
from empiar_validate.headers import read_all, walk_as_typed
from empiar_validate.records import FileRecord
from empiar_validate.reporting import Report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``inspect``."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (recursed)")
    add_jobs_argument(parser)
    parser.add_argument("--all", action="store_true",
                        help="also list files that are not image files (companions, text)")
    add_report_arguments(parser)


def _size(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"


def describe(rec: FileRecord) -> str:
    """One human line for a record."""
    if rec.format is None:
        return f"{rec.path}: not an image file"
    dims = f"{rec.width or '?'}x{rec.height or '?'}x{rec.depth or '?'}"
    return (f"{rec.path}: {rec.format} {rec.voxel_type or '?'} {dims} "
            f"pixel {_size(rec.pixel_width)}x{_size(rec.pixel_height)} Å"
            + (f" ({rec.layout})" if rec.layout else ""))


def run(args: argparse.Namespace) -> int:
    """Inspect and report; exit 1 when any file has an error-severity problem."""
    import os

    from empiar_validate.paths import display_path
    from empiar_validate.remote import is_url
    from empiar_validate.usage import UsageError

    missing = [p for p in args.paths if not is_url(p) and not os.path.lexists(p)]
    if missing:
        raise UsageError("no such file or directory: " + ", ".join(map(display_path, missing)))
    records = []
    for group in _runs(args.paths):  # local paths walked together, each URL listed on its own
        if is_url(group[0]):
            records += _remote_records(group[0], args)
        else:
            records += read_all(walk_as_typed(group), jobs=args.jobs, quiet=args.quiet)
    chosen = getattr(args, "selection", None)
    if chosen is not None:  # the JSON carries problems inside each file: select them there too
        for r in records:
            r.problems = chosen.apply(r.problems)
    # every file named on the command line gets a record, image or not; files found in a
    # directory are listed when they are images (or have problems), or with --all
    named = {os.path.normpath(p).replace(os.sep, "/") for p in args.paths
             if not os.path.isdir(p)}
    shown = [r for r in records
             if args.all or r.format is not None or r.problems or r.path in named]
    report = Report("inspect", [p for r in records for p in r.problems],
                    checked=[r.path for r in records],
                    data={"files": [r.to_dict() for r in shown]}, bare_json=True)
    if args.format == "text" and not args.quiet:
        report.summary = [describe(r) for r in shown]
    return emit(report, args)


def _runs(paths: list[str]) -> list[list[str]]:
    """``paths`` in the order given, consecutive local paths together, every URL alone."""
    from empiar_validate.remote import is_url

    out: list[list[str]] = []
    for p in paths:
        if is_url(p) or not out or is_url(out[-1][0]):
            out.append([p])
        else:
            out[-1].append(p)
    return out


def _remote_records(url: str, args: argparse.Namespace) -> list[FileRecord]:
    """The records of every object under ``url``, named by their URL (exit 2 when the remote
    cannot be listed)."""
    from empiar_validate.remote import join
    from empiar_validate.remote.dataset import RemoteUnreachable, read_remote, shown_url
    from empiar_validate.usage import UsageError

    try:
        records = read_remote(url, jobs=args.jobs, quiet=args.quiet)
    except RemoteUnreachable as exc:
        raise UsageError(f"cannot read {shown_url(url)}: {exc}") from None
    base = shown_url(url)
    for rec in records:
        rec.path = join(base, rec.path)
    return records
