"""``empiar-validate package DIR -o OUT``: the entry XML, deposition JSON, checksums and plan.

Argument parsing and exit codes only; the work is in :mod:`empiar_validate.package.bundle`.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from empiar_validate.commands.common import (
    add_jobs_argument,
    add_report_arguments,
    add_thumbnails,
    check_dataset_arguments,
    emit,
    read_metadata_argument,
    unparsable_metadata_report,
)
from empiar_validate.reporting import Report

if TYPE_CHECKING:
    from empiar_validate.model import ImageSet, ScanResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``package``."""
    parser.add_argument("directory", metavar="DIR", help="the dataset directory to deposit")
    parser.add_argument("--metadata", metavar="META",
                        help="deposition metadata (empiar-depositor's JSON shape, or YAML)")
    parser.add_argument("-o", "--output", metavar="OUT", required=True,
                        help="directory for the bundle (created if absent; must not be inside "
                             "DIR unless --allow-inside)")
    parser.add_argument("--accession-code", metavar="EMPIAR-NNNNN",
                        help="entry accession code for entry.xml (as in scan)")
    parser.add_argument("--deposition-date", metavar="YYYY-MM-DD",
                        help="deposition date for entry.xml (as in scan)")
    add_jobs_argument(parser, "parallel header reads and checksum threads")
    parser.add_argument("--allow-inside", action="store_true",
                        help="allow OUT inside DIR (its files are then left out of the bundle)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="hash on the dask.distributed cluster at ADDRESS (tcp://host:port "
                             "or a scheduler file; default: $EMPIAR_VALIDATE_SCHEDULER, else "
                             "this machine; 'local' forces this machine); needs the "
                             "'distributed' extra")
    parser.add_argument("--no-cache", action="store_true",
                        help="hash every file again instead of reusing OUT/"
                             ".empiar-validate-cache.json")
    parser.add_argument("--thumbnail", nargs="?", const="", metavar="IMAGESET",
                        help="also write OUT/entry_thumbnail.png (at least 400 x 400, for "
                             "empiar-depositor's --entry-thumbnail) from IMAGESET (its name or "
                             "directory; default: the first volume, else micrograph set): one "
                             "central section of one file, contrast-stretched")
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Build the bundle and report; exit 1 when any finding has error severity."""
    from empiar_validate.commands.scan import image_set_json
    from empiar_validate.package.bundle import ENTRY_THUMBNAIL, OUTPUTS, build_bundle
    from empiar_validate.package.cluster import ClusterError
    from empiar_validate.package.plan import format_duration, human_size, transfer_seconds
    from empiar_validate.paths import display_path, is_inside
    from empiar_validate.predeposition import settle
    from empiar_validate.scan.entry import data_root, entry_root_finding
    from empiar_validate.usage import UsageError
    from empiar_validate.validation import SchemaLoadError, SchematronRuntimeError

    root, out = args.directory, args.output
    check_dataset_arguments(args)
    root = data_root(args.directory)  # an entry root EMPIAR-NNNNN/: its data/ is the dataset
    if os.path.lexists(out) and not os.path.isdir(out):
        raise UsageError(f"{display_path(out)} exists and is not a directory")
    if is_inside(out, root) and not args.allow_inside:
        raise UsageError(
            f"{display_path(out)} is inside the dataset {display_path(root)}; the bundle is "
            "never written beside the data unless you pass --allow-inside"
        )
    scheduler = _scheduler(args.scheduler)
    try:
        source = read_metadata_argument(args)
    except OSError as exc:  # unreadable metadata
        raise UsageError(f"cannot package: {exc.strerror or exc}"
                         + (f": {display_path(exc.filename)}" if exc.filename else "")) from exc
    unparsable = unparsable_metadata_report("package", args, source)
    if unparsable is not None:
        return emit(unparsable, args)
    try:
        bundle = build_bundle(root, out, metadata=source, jobs=args.jobs,
                              quiet=args.quiet, use_cache=not args.no_cache,
                              accession_code=args.accession_code,
                              deposition_date=args.deposition_date, scheduler=scheduler,
                              thumbnail=None if args.thumbnail is None
                              else lambda result: entry_thumbnail(result, args.thumbnail))
    except ClusterError as exc:
        raise UsageError(f"cannot package: {exc}") from None
    except OSError as exc:  # an unwritable OUT
        raise UsageError(f"cannot package: {exc.strerror or exc}"
                         + (f": {display_path(exc.filename)}" if exc.filename else "")) from exc
    except (SchemaLoadError, SchematronRuntimeError) as exc:
        raise UsageError(f"cannot validate entry.xml: {exc}") from None
    plan = bundle.plan
    described = {  # what scan says of each set, for the HTML table (JSON: extra keys)
        s.directory: {k: v for k, v in image_set_json(s).items()
                      if k not in ("name", "directory", "files", "bytes")}
        for s in bundle.scan.image_sets
    }
    known = bundle.scan.header.accession_code is not None
    report = Report("package", settle(entry_root_finding(args.directory, root) + bundle.findings,
                                      accession_code=known),
                    checked=[s.name for s in bundle.scan.image_sets] or [display_path(root)])
    report.data = {
        "dataset": display_path(root),
        "output": display_path(out),
        "written": list(OUTPUTS) + ([ENTRY_THUMBNAIL] if args.thumbnail is not None else []),
        "files": plan.total_files,
        "bytes": plan.total_bytes,
        "transfer_seconds_at_200_mbit": round(transfer_seconds(plan.total_bytes), 1),
        "image_sets": [{"name": r.name, "directory": r.directory, "files": r.files,
                        "bytes": r.bytes, **described.get(r.directory, {})} for r in plan.rows],
        "checksums": {"hashed": bundle.checksums.hashed, "reused": bundle.checksums.reused},
    }
    if scheduler is not None:
        report.data["checksums"]["scheduler"] = scheduler
    add_thumbnails(report, args, root, [(s.directory, s.files) for s in bundle.scan.image_sets])
    if not args.quiet:
        report.summary = [
            f"wrote {', '.join(report.data['written'])} to {display_path(out)}",
            f"{plan.total_files} file(s), {human_size(plan.total_bytes)}: "
            f"{format_duration(transfer_seconds(plan.total_bytes))} at 200 Mbit/s",
            f"checksums: {bundle.checksums.hashed} hashed, {bundle.checksums.reused} reused"
            + (f" (on the Dask cluster at {scheduler})" if scheduler is not None else ""),
        ]
    return emit(report, args)


def _scheduler(flag: str | None) -> str | None:
    """The Dask scheduler to hash on: ``--scheduler``, else ``$EMPIAR_VALIDATE_SCHEDULER``;
    ``None`` (this machine) when neither is set or the value is ``local``. Asking for a
    cluster without dask.distributed installed is a usage error (exit 2)."""
    from empiar_validate.package.cluster import SCHEDULER_ENV, require_distributed
    from empiar_validate.usage import UsageError

    source = "--scheduler" if flag is not None else SCHEDULER_ENV
    value = flag if flag is not None else os.environ.get(SCHEDULER_ENV, "")
    value = value.strip()
    if value in ("", "local"):
        return None
    try:
        require_distributed()
    except ImportError as exc:
        raise UsageError(f"{source} {value}: {exc}") from None
    return value


def entry_thumbnail(result: ScanResult, wanted: str) -> bytes:
    """The entry thumbnail PNG from the image set ``wanted`` (name or directory; ``""``: the
    first volume set, else the first micrograph set, else the first that gives a picture).
    Raises UsageError when the set is unknown or none of its files gives a picture."""
    from empiar_validate.thumbnails import ENTRY_MIN, image_set_png
    from empiar_validate.usage import UsageError

    sets = result.image_sets
    if wanted:
        key = wanted.strip("/").removeprefix("data/")
        chosen = [s for s in sets if wanted in (s.name, s.directory)
                  or s.directory.removeprefix("/data/") == key]
        if not chosen:
            raise UsageError(f"--thumbnail {wanted!r}: no such image set (choose from "
                             + ", ".join(repr(s.directory) for s in sets) + ")")
    else:
        def rank(s: ImageSet) -> int:
            category = s.category or ""
            return 0 if "volume" in category else 1 if "micrograph" in category else 2
        chosen = sorted(sets, key=rank)
    for s in chosen:
        png = image_set_png(result.root, s.files, max_size=1024, min_size=ENTRY_MIN)
        if png is not None:
            return png
    raise UsageError(f"--thumbnail: no file of {chosen[0].directory if wanted else 'any set'} "
                     "can give a picture (thumbnails read MRC, TIFF, DM and BigDataViewer)")
