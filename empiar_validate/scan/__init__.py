"""Scan a dataset directory into image sets, completed from the user's metadata.

    walk -> read headers (bounded threads) -> DVC/annex placeholders -> group into image sets
      -> metadata (load, check, convert) -> complete image sets -> ScanResult

:func:`scan_dataset` does no output; ``scan.emit.entry_xml`` turns the result into XML and
:func:`validate_entry` validates that XML with the project's XSD + Schematron.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Callable, Iterable
from typing import Any

from empiar_validate.findings import Finding, Severity
from empiar_validate.model import ScanResult
from empiar_validate.paths import display_path
from empiar_validate.records import FileRecord

__all__ = ["ScanResult", "inside", "read_dataset", "scan_dataset", "shower", "validate_entry"]


def shower(root: str) -> Callable[[str], str]:
    """A function turning a path relative to ``root`` into the path a finding prints
    (``root`` as the user typed it, joined and normalised: clickable in a terminal and in CI)."""
    base = display_path(root)

    def show(rel: str) -> str:
        return posixpath.normpath(posixpath.join(base, rel)) if rel else posixpath.normpath(base)

    return show


def _rebase(findings: list[Finding], show: Callable[[str], str]) -> list[Finding]:
    """Reader findings carry paths relative to the root; print them under the root."""
    return [dataclasses.replace(f, file=show(f.file)) if f.file is not None else f
            for f in findings]


def inside(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` (``/``-separated) when it lies inside it, else ``None``."""
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    return None if rel == os.curdir or rel.startswith(os.pardir) else rel.replace(os.sep, "/")


def read_dataset(
    root: str, *, jobs: int | None = None, quiet: bool = False,
    show: Callable[[str], str] | None = None, exclude: Iterable[str] = (),
) -> tuple[list[FileRecord], list[Finding]]:
    """Walk ``root`` and read every header; add placeholders for DVC-tracked files that are
    absent and sizes for git-annex files whose content is absent. Records keep paths relative to
    ``root``; their problems name files as ``show`` prints them. Sorted by path. ``exclude``
    names files to leave out (the entry XML when it is written inside the dataset, so it does
    not count towards the dataset it describes)."""
    from empiar_validate.headers import read_all
    from empiar_validate.scan.companions import annex_size, dvc_placeholders, is_not_present
    from empiar_validate.walk import walk

    show = show or shower(root)
    skip = {rel for rel in (inside(p, root) for p in exclude) if rel}
    entries = walk(root)
    if skip:
        entries = (e for e in entries if e.rel not in skip)
    records = read_all(entries, jobs=jobs, quiet=quiet)
    for rec in records:
        if rec.problems:
            rec.problems[:] = _rebase(rec.problems, show)
            if rec.size is None and is_not_present(rec):
                rec.size = annex_size(os.path.join(root, rec.path))
    placeholders, findings = dvc_placeholders(root, records, show)
    return sorted(records + placeholders, key=lambda r: r.path), findings


def scan_dataset(
    root: str,
    metadata_path: str | None = None,
    *,
    jobs: int | None = None,
    quiet: bool = False,
    accession_code: str | None = None,
    deposition_date: str | None = None,
    exclude: Iterable[str] = (),
) -> ScanResult:
    """Scan ``root`` (whose contents become ``/data/`` in the entry) and merge the metadata.

    Raises ``OSError`` only when the metadata file cannot be read (a usage problem); everything
    about the data or the metadata's content is a finding in the result. ``exclude`` names files
    to leave out (the output XML, when it is written inside ``root``).
    """
    from empiar_validate.acquisition import (
        collect_acquisition,
        describe_acquisition,
        merge_details,
    )
    from empiar_validate.scan.group import group_records
    from empiar_validate.scan.merge import (
        apply_metadata,
        metadata_entries,
        missing_values,
        relabel,
    )
    from empiar_validate.scan.metadata import (
        HeaderOptions,
        check_structure,
        entry_header,
        load_metadata,
    )
    from empiar_validate.scan.values import dataset_size
    from empiar_validate.scan.vocabcheck import outside_vocabulary

    show = shower(root)
    findings: list[Finding] = []
    meta = None
    raw_metadata: dict[str, object] = {}
    if metadata_path is not None:
        meta, found = load_metadata(metadata_path, display_path(metadata_path))
        findings.extend(found)
        if meta is not None:
            findings.extend(check_structure(meta))
            raw_metadata = meta.data

    records, found = read_dataset(root, jobs=jobs, quiet=quiet, show=show, exclude=exclude)
    findings.extend(found)

    entries, found = metadata_entries(meta)
    findings.extend(found)
    grouping = group_records(records, root=root, show=show,
                             anchors={rel: e.category for rel, e in entries.items()})
    image_sets, found, renamed = apply_metadata(meta, entries, grouping.image_sets, show)
    findings.extend(found)
    findings = relabel(findings + grouping.findings, renamed)
    findings.extend(outside_vocabulary(image_sets, show))
    for s in image_sets:
        if s.rel_dir not in entries:
            findings.extend(missing_values(s, show))
        # Reprocessing facts (dose, kV, Cs, camera) from headers and .mdoc files go into the
        # details, labelled as extracted, after the depositor's own text (EMPIAR's FAQ asks).
        acq = collect_acquisition(s, root=root)
        findings.extend(_rebase(acq.findings, show))
        s.details = merge_details(s.details, describe_acquisition(acq))

    header, found = entry_header(
        meta, HeaderOptions(accession_code, deposition_date), root=root
    )
    if meta is not None or metadata_path is None:  # an unparsable file: M101 says it all
        findings.extend(found)
    total = sum(r.size or 0 for r in records)
    header.dataset_size, header.dataset_size_units = dataset_size(total)

    findings.extend(file_problems(records))
    return ScanResult(
        root=root, image_sets=image_sets, records=records, findings=findings,
        uncovered=grouping.uncovered, metadata=raw_metadata, header=header,
    )


REPEAT_LIMIT = 5  # per-file warnings of one rule in one directory shown before summarising


def file_problems(records: Iterable[FileRecord]) -> list[Finding]:
    """Every record's problems, with repeated warnings and infos summarised per directory.

    Errors always stay one per file (each file needs fixing). A warning that thousands of
    stacks share (a pixel size missing from every header, say) is shown for the first
    :data:`REPEAT_LIMIT` files, then once more as a count, so the report stays readable.
    """
    out: list[Finding] = []
    seen: dict[tuple[str, str], list[Finding]] = {}
    for rec in records:
        for f in rec.problems:
            if f.severity is Severity.ERROR or f.file is None:
                out.append(f)
                continue
            key = (f.rule, posixpath.dirname(f.file))
            group = seen.setdefault(key, [])
            group.append(f)
            if len(group) <= REPEAT_LIMIT:
                out.append(f)
    for (rule_id, directory), group in sorted(seen.items()):
        if len(group) > REPEAT_LIMIT:
            first = group[0]
            out.append(dataclasses.replace(
                first, file=directory or first.file, line=None,
                message=f"and {len(group) - REPEAT_LIMIT} more file(s) in this directory with "
                        f"the same {rule_id} {first.severity}",
            ))
    return out


def as_consequences(validation: list[Finding], findings: list[Finding]) -> list[Finding]:
    """XSD findings about a required element that is absent, shown as info when the scan has
    already said what is missing (M104): one error per fact, and the fix where it belongs.

    The exit code is unchanged (the M104 errors keep it at 1); once the metadata is complete
    any remaining XSD error is an error again.
    """
    from empiar_validate.scan.metadata import M_MISSING
    from empiar_validate.validation.xsd import XSD_VIOLATION

    if not any(f.rule == M_MISSING.id for f in findings):
        return validation
    return [
        dataclasses.replace(
            f, severity=Severity.INFO, fix=None,
            message=f"follows from the missing values reported as {M_MISSING.id}: {f.message}",
        )
        if f.rule == XSD_VIOLATION.id and "Expected is" in f.message else f
        for f in validation
    ]


def validate_entry(xml: bytes | Any, name: str) -> list[Finding]:
    """XSD + Schematron findings for entry XML (bytes, or an already parsed tree) with the
    shipped schemas, via the project's validator. Raises ``SchemaLoadError`` or
    ``SchematronRuntimeError`` when the schemas themselves cannot be used."""
    from empiar_validate.validation import load_schemas, validate_tree
    from empiar_validate.xmlsafe import parse_xml_bytes

    if isinstance(xml, bytes):
        tree, findings = parse_xml_bytes(xml, name)
        if tree is None:
            return findings
    else:
        tree = xml
    return validate_tree(tree, name, load_schemas())
