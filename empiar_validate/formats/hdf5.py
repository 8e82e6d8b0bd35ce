"""HDF5 header reader: decides which HDF5 layout a ``.h5`` file holds and describes it.

Three layouts are recognised: BigDataViewer (:mod:`empiar_validate.formats.bdv`), EMAN2 image
files (:mod:`empiar_validate.formats.eman2`) and, for anything else, the one numeric dataset of
two or more dimensions that dominates the file. The traversal itself, and its bounds, live in
:mod:`empiar_validate.formats.h5tree`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats import bdv, eman2, h5model
from empiar_validate.formats.h5model import (
    H5_ERRORS,
    H_ABSURD,
    H_NO_IMAGE,
    H_UNREADABLE,
    SHOWN,
    Budget,
    Listing,
    fill_dimensions,
    layout_for,
    report_external,
    report_unreadable,
)
from empiar_validate.formats.h5tree import LIBHDF5, h5_message, list_links, opened_hdf5, walk
from empiar_validate.records import FileRecord

if TYPE_CHECKING:
    from empiar_validate.formats.base import Source

FORMAT_HDF5 = "HDF5"

H_COMPRESSED = rule(
    "F402", Severity.WARNING, "compressed HDF5 file: header not read",
    "Deposit HDF5 files uncompressed; HDF5 compresses chunks itself, and a gzip/bzip2 wrapper "
    "hides the header (reading it would mean decompressing the whole file).",
)
H_LIMIT = rule(
    "F403", Severity.WARNING, "HDF5 structure exceeds the traversal limit: listing is partial",
    f"The file has more than {h5model.MAX_OBJECTS} links or groups nested deeper than "
    f"{h5model.MAX_DEPTH}; "
    "check it is the file you meant to deposit, or describe its image dataset by hand.",
)
H_AMBIGUOUS = rule(
    "F406", Severity.INFO, "several image datasets and none dominates",
    "Dimensions are left empty; give them in the image set's metadata, or deposit one image "
    "dataset per file.",
)


def read(source: Source, record: FileRecord) -> None:
    """Fill ``record`` from the HDF5 object headers of ``source``; problems become findings."""
    record.format = FORMAT_HDF5
    record.header_format = FORMAT_HDF5
    if source.compression:
        record.problems.append(Finding.of(
            H_COMPRESSED, f"{source.compression}-compressed HDF5; header not read",
            file=record.path,
        ))
        return
    with opened_hdf5(source.path, record) as root:
        if root is None:
            return
        budget = Budget()
        try:
            links, _ = list_links(root, budget)
        except H5_ERRORS as exc:
            record.problems.append(Finding.of(
                H_UNREADABLE, f"root group: {h5_message(exc)}", file=record.path,
            ))
            return
        if bdv.looks_like_bdv(LIBHDF5, root, links):
            bdv.fill(source, record, bdv.gather(LIBHDF5, root, links, budget))
        elif eman2.looks_like_eman2(root):
            eman2.describe(record, root)
        else:
            listing = walk(root, budget, links)
            _describe_generic(record, listing)
        if budget.exhausted:
            record.problems.append(Finding.of(
                H_LIMIT, f"more than {h5model.MAX_OBJECTS} links; only the first were examined",
                file=record.path,
            ))


def _describe_generic(record: FileRecord, listing: Listing) -> None:
    """List the datasets and pick the dominant image dataset, if one holds most of the data."""
    _report_listing(record, listing)
    images = sorted(
        (d for d in listing.datasets if d.is_image), key=lambda d: (-d.size, d.path)
    )
    if not images:
        if not listing.external_links:
            record.problems.append(Finding.of(
                H_NO_IMAGE, _summary("no numeric dataset of 2 or more dimensions", listing),
                file=record.path,
            ))
        return
    total = sum(d.size for d in images)
    top = images[0]
    if 2 * top.size <= total:
        names = ", ".join(f"{d.path} {list(d.shape or ())}" for d in images[:SHOWN])
        more = f" and {len(images) - SHOWN} more" if len(images) > SHOWN else ""
        record.problems.append(Finding.of(
            H_AMBIGUOUS, f"{len(images)} image datasets of similar size: {names}{more}",
            file=record.path,
        ))
        return
    fill_dimensions(record, top)
    record.layout = layout_for(len(top.shape or ()), record.depth or 0)
    record.extra["image_dataset"] = top.path


def _summary(what: str, listing: Listing) -> str:
    found = ", ".join(f"{d.path} {d.dtype}{list(d.shape or ())}" for d in listing.datasets[:SHOWN])
    return f"{what}; datasets found: {found or 'none'}"


def _report_listing(record: FileRecord, listing: Listing) -> None:
    """Put the listing in ``record.extra`` (bounded) and its problems in findings."""
    record.extra["datasets"] = [d.to_dict() for d in listing.datasets[:h5model.MAX_LISTED]]
    record.extra["datasets_total"] = len(listing.datasets)
    if listing.soft_links:
        record.extra["soft_links"] = sorted(listing.soft_links, key=lambda x: x["path"])[
            :h5model.MAX_LISTED
        ]
    report_external(record, listing.external_links, "")
    report_unreadable(record, listing.unreadable)
    if listing.too_deep:
        record.problems.append(Finding.of(
            H_LIMIT, f"groups nested deeper than {h5model.MAX_DEPTH} levels were not entered",
            file=record.path,
        ))
    absurd = [d for d in listing.datasets if d.implausible]
    if absurd:
        shown = ", ".join(f"{d.path} {list(d.shape or ())} {d.dtype}" for d in absurd[:SHOWN])
        record.problems.append(Finding.of(
            H_ABSURD, f"implausible dataset shape: {shown}", file=record.path,
        ))
