"""``empiar-validate scan DIR [--metadata META] -o entry.xml``: derive, merge, write, validate.

Argument parsing, output and exit codes only; the work is in :mod:`empiar_validate.scan`.
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
    read_metadata_argument,
    selected,
    unparsable_metadata_report,
)
from empiar_validate.model import ImageSet
from empiar_validate.reporting import Report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``scan``."""
    parser.add_argument("directory", metavar="DIR",
                        help="the dataset directory; its contents become /data/ in the entry")
    parser.add_argument("--metadata", metavar="META",
                        help="deposition metadata: empiar-depositor's JSON, or the same keys in "
                             "YAML (docs/metadata.md)")
    parser.add_argument("-o", "--output", metavar="XML", required=True,
                        help="where to write the entry XML (replaced atomically)")
    parser.add_argument("--accession-code", metavar="EMPIAR-NNNNN",
                        help="entry accession code (overrides the metadata's accession_code)")
    parser.add_argument("--deposition-date", metavar="YYYY-MM-DD",
                        help="deposition date (overrides the metadata's deposition_date); the "
                             "XML never carries today's date by itself")
    add_jobs_argument(parser)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Scan, write the XML, validate it, report; exit 1 on any error-severity finding."""
    from empiar_validate.atomic import write_bytes_atomic
    from empiar_validate.findings import has_errors
    from empiar_validate.paths import display_path
    from empiar_validate.predeposition import settle
    from empiar_validate.remote import shown_root
    from empiar_validate.remote.objects import RemoteUnreachable
    from empiar_validate.scan import consequences, scan_dataset, validate_entry
    from empiar_validate.scan.emit import entry_document
    from empiar_validate.scan.entry import data_root, entry_root_finding
    from empiar_validate.usage import UsageError
    from empiar_validate.validation import SchemaLoadError, SchematronRuntimeError

    root, out = args.directory, args.output
    check_dataset_arguments(args)
    root = data_root(args.directory)  # an entry root EMPIAR-NNNNN/: its data/ is the dataset
    if os.path.isdir(out):
        raise UsageError(f"{display_path(out)} is a directory; give the XML file to write")
    parent = os.path.dirname(out) or "."
    if not os.path.isdir(parent):
        raise UsageError(f"directory {display_path(parent)} for the output does not exist")
    try:
        source = read_metadata_argument(args)
    except OSError as exc:
        raise UsageError(f"cannot read the metadata file: {exc.strerror or exc}") from exc
    unparsable = unparsable_metadata_report("scan", args, source)
    if unparsable is not None:
        return emit(unparsable, args)
    try:
        result = scan_dataset(root, source, jobs=args.jobs, quiet=args.quiet,
                              accession_code=args.accession_code,
                              deposition_date=args.deposition_date, exclude=[out])
    except RemoteUnreachable as exc:
        raise UsageError(f"cannot read the dataset {shown_root(root)}: {exc}") from None
    doc = entry_document(result)
    xml = doc.xml
    try:
        write_bytes_atomic(out, xml)
    except OSError as exc:
        raise UsageError(f"cannot write {display_path(out)}: {exc.strerror or exc}") from exc
    shown = display_path(out)
    try:
        validation = validate_entry(xml, shown)
    except (SchemaLoadError, SchematronRuntimeError) as exc:
        raise UsageError(f"wrote {shown} but cannot validate it: {exc}") from None
    valid = not has_errors(selected(args, validation))
    found = (entry_root_finding(args.directory, root) + result.findings
             + consequences(validation, result.findings, doc.gaps))
    report = Report("scan", settle(found, accession_code=result.header.accession_code is not None),
                    checked=[s.name for s in result.image_sets] or [shown_root(root)])
    report.data = {
        "dataset": shown_root(root),
        "xml": shown,
        "valid": valid,
        "image_sets": [image_set_json(s) for s in result.image_sets],
        "uncovered": result.uncovered,
    }
    add_thumbnails(report, args, root, [(s.directory, s.files) for s in result.image_sets])
    if not args.quiet:
        report.summary = [describe(s) for s in result.image_sets] + [
            f"wrote {shown}: {len(result.image_sets)} image set(s), "
            + ("valid against the XSD and Schematron" if valid
               else "NOT valid: see the errors below")
        ]
    return emit(report, args)


def image_set_json(s: ImageSet) -> dict[str, object]:
    """An image set with its values as the XML states them, plus provenance."""
    from empiar_validate.scan.values import format_value

    def number(value: object) -> object:
        return float(format_value(value)) if isinstance(value, float) else value

    return {
        "name": s.name,
        "directory": s.directory,
        "category": s.category,
        "headerFormat": s.header_format,
        "dataFormat": s.data_format,
        "numImagesOrTiltSeries": s.num_images_or_tilt_series,
        "framesPerImage": s.frames_per_image,
        "frameRange": [s.frame_range_min, s.frame_range_max]
        if s.frame_range_min is not None else None,
        "voxelType": s.voxel_type,
        "imageWidth": s.image_width,
        "imageHeight": s.image_height,
        "pixelWidth": number(s.pixel_width),
        "pixelHeight": number(s.pixel_height),
        "details": s.details,
        "micrographsFilePattern": s.micrographs_file_pattern,
        "pickedParticlesFilePattern": s.picked_particles_file_pattern,
        "files": len(s.files),
        "bytes": sum(r.size or 0 for r in s.files) if s.files else None,
        "companions": s.companions,
        "derived_from_headers": sorted(s.derived),
        "category_evidence": list(s.evidence),
    }


def describe(s: ImageSet) -> str:
    """One human line per image set."""
    from empiar_validate.scan.values import format_value

    def show(value: object) -> str:
        return "?" if value is None else format_value(value)

    return (f"{s.directory}: {s.category or '?'}, {show(s.num_images_or_tilt_series)} x "
            f"{show(s.frames_per_image)} frame(s), {show(s.image_width)} x "
            f"{show(s.image_height)} px, {show(s.pixel_width)} Å, {s.data_format or '?'} "
            f"{s.voxel_type or '?'} ({s.name})")
