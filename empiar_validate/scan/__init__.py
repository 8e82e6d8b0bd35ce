"""Scan a dataset directory into image sets, completed from the user's metadata.

The pipeline runs one way, and only the read stage touches the disk:

    read:  walk -> headers (bounded threads) -> companions (.mdoc, tilt lists) parsed once
           -> DVC/annex placeholders
    group: records -> image sets (scan.group)
    merge: metadata loaded once (scan.metadata), checked (scan.metaspec), converted
           (scan.metaconvert) and merged (scan.merge) -> ScanResult with every finding
    emit:  ScanResult -> entry XML and its gaps (scan.emit)
    validate: XSD + Schematron; complaints at the gaps follow from values already reported
           missing (:func:`consequences`)

:func:`scan_dataset` does no output; ``scan.emit.entry_document`` turns the result into XML and
:func:`validate_entry` validates that XML with the project's XSD + Schematron.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from empiar_validate.findings import Finding, Severity
from empiar_validate.model import ScanResult
from empiar_validate.paths import display_path
from empiar_validate.records import FileRecord

if TYPE_CHECKING:
    from empiar_validate.scan.metadata import MetadataFile

__all__ = ["ScanResult", "consequences", "inside", "read_dataset", "scan_dataset", "shower",
           "validate_entry"]


def shower(root: str) -> Callable[[str], str]:
    """A function turning a path relative to ``root`` into the path a finding prints
    (``root`` as the user typed it, joined and normalised: clickable in a terminal and in CI;
    a URL's objects by their URL, credentials masked)."""
    from empiar_validate.remote import is_url, join

    if is_url(root):
        from empiar_validate.remote.dataset import shown_url

        url = shown_url(root)
        return lambda rel: join(url, rel)
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
    from empiar_validate.remote import is_url

    show = show or shower(root)
    if is_url(root):  # headers read where the data live (RemoteUnreachable: exit 2)
        return _read_remote_dataset(root, jobs=jobs, quiet=quiet, show=show), []

    from empiar_validate.headers import read_all
    from empiar_validate.scan.companions import (
        annex_size,
        dvc_placeholders,
        is_not_present,
        read_companions,
    )
    from empiar_validate.scan.evidence import interpret
    from empiar_validate.walk import walk

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
    records = sorted(records + placeholders, key=lambda r: r.path)
    read_companions(root, records)
    interpret(records)  # movies that say "volume" (space group 1) read as the movies they are
    return records, findings


def _read_remote_dataset(
    url: str, *, jobs: int | None, quiet: bool, show: Callable[[str], str],
) -> list[FileRecord]:
    """Headers read in the object store; the small companions (tilt files, STAR) fetched
    whole into a temporary directory and parsed there by the same read stage as on disk."""
    import tempfile

    from empiar_validate.remote.dataset import fetch_small, read_remote
    from empiar_validate.scan.companions import (
        MAX_TEXT_BYTES,
        TILT_COMPANION_EXTENSIONS,
        read_companions,
    )

    records = sorted(read_remote(url, jobs=jobs, quiet=quiet, show=show), key=lambda r: r.path)
    wanted = [r.path for r in records
              if r.path.lower().endswith((*TILT_COMPANION_EXTENSIONS, ".star"))]
    with tempfile.TemporaryDirectory(prefix="empiar-validate-") as tmp:
        fetch_small(url, wanted, tmp, max_bytes=MAX_TEXT_BYTES, jobs=jobs)
        read_companions(tmp, records)
    return records


def scan_dataset(
    root: str,
    metadata: MetadataFile | str | None = None,
    *,
    jobs: int | None = None,
    quiet: bool = False,
    accession_code: str | None = None,
    deposition_date: str | None = None,
    exclude: Iterable[str] = (),
) -> ScanResult:
    """Scan ``root`` (whose contents become ``/data/`` in the entry) and merge the metadata.

    ``metadata`` is the file the command loaded once (:func:`scan.metadata.read_metadata`), or
    a path to load here. Raises ``OSError`` only when that file cannot be read (a usage
    problem); everything about the data or the metadata's content is a finding in the result,
    the loading problems included. ``exclude`` names files to leave out (the output XML, when
    it is written inside ``root``).
    """
    from empiar_validate.acquisition import (
        collect_acquisition,
        describe_acquisition,
        merge_details,
    )
    from empiar_validate.scan.companions import tilt_infos
    from empiar_validate.scan.group import group_records
    from empiar_validate.scan.merge import (
        M_NO_FILES,
        apply_metadata,
        metadata_entries,
        missing_values,
        relabel,
    )
    from empiar_validate.scan.metaconvert import HeaderOptions, entry_header
    from empiar_validate.scan.metadata import read_metadata
    from empiar_validate.scan.metaspec import check_structure
    from empiar_validate.scan.values import dataset_size
    from empiar_validate.scan.vocabcheck import outside_vocabulary

    show = shower(root)
    findings: list[Finding] = []
    source = read_metadata(metadata) if isinstance(metadata, str) else metadata
    meta = source.meta if source is not None else None
    raw_metadata: dict[str, object] = {}
    if source is not None:
        findings.extend(source.findings)
        if meta is not None:
            findings.extend(check_structure(meta))
            raw_metadata = meta.data

    # read: the only stage that touches the disk
    records, found = read_dataset(root, jobs=jobs, quiet=quiet, show=show, exclude=exclude)
    findings.extend(found)
    companions = tilt_infos(records)
    paths = {r.path for r in records}

    entries, found = metadata_entries(meta)
    findings.extend(found)
    grouping = group_records(records, show=show,
                             anchors={rel: e.category for rel, e in entries.items()})
    image_sets, found, renamed = apply_metadata(meta, entries, grouping.image_sets, show,
                                                grouping.damaged)
    findings.extend(found)
    findings = relabel(findings + grouping.findings, renamed)
    findings.extend(outside_vocabulary(image_sets, show))
    # a metadata directory that matches nothing comes first, and what only follows from it
    # (the values missing on both sides of the mismatch) is not reported again
    mismatched = {e.suggested for e in entries.values() if e.suggested is not None}
    first = [f for f in findings if f.rule == M_NO_FILES.id]
    findings = first + [f for f in findings if f.rule != M_NO_FILES.id]
    for s in image_sets:
        if s.rel_dir not in entries and s.rel_dir not in mismatched:
            findings.extend(missing_values(s, show))
        # Reprocessing facts (dose, kV, Cs, camera) from headers and .mdoc files go into the
        # details, labelled as extracted, after the depositor's own text (EMPIAR's FAQ asks).
        acq = collect_acquisition(s, companions=companions)
        findings.extend(_rebase(acq.findings, show))
        s.details = merge_details(s.details, describe_acquisition(acq))

    header, found = entry_header(
        meta, HeaderOptions(accession_code, deposition_date),
        present=lambda rel: posixpath.normpath(rel) in paths,
    )
    if meta is not None or source is None:  # an unparsable file: M101 says it all
        findings.extend(found)
    total = sum(r.size or 0 for r in records)
    header.dataset_size, header.dataset_size_units = dataset_size(total)

    findings.extend(file_problems(records))
    return ScanResult(
        root=root, image_sets=image_sets, records=records, findings=findings,
        uncovered=grouping.uncovered, metadata=raw_metadata, header=header,
    )


def file_problems(records: Iterable[FileRecord]) -> list[Finding]:
    """Every record's problems, one finding per file.

    Repeats of one rule in one directory are folded into one line by the text report
    (:func:`empiar_validate.reporting.grouped`), so every format sees every finding and the
    counts in the verdict are the real ones.
    """
    return [f for rec in records for f in rec.problems]


def consequences(
    validation: list[Finding], findings: list[Finding], gaps: Iterable[str]
) -> list[Finding]:
    """XSD findings at the entry's gaps (elements left out because their value is unknown,
    :class:`scan.emit.EntryDocument`), shown as info when the scan has already said what is
    missing (M104): one error per fact, and the fix where it belongs.

    The gaps are known when the XML is written, so this needs no reading of libxml2's
    messages. The exit code is unchanged (the M104 errors keep it at 1); once the metadata is
    complete any remaining XSD error is an error again.
    """
    from empiar_validate.scan.merge import M_NO_FILES
    from empiar_validate.scan.metaconvert import M_MISSING
    from empiar_validate.validation.xsd import XSD_VIOLATION

    sites = set(gaps)
    causes = {f.rule for f in findings} & {M_MISSING.id, M_NO_FILES.id}
    if not sites or not causes:
        return validation
    cause = (f"the missing values reported as {M_MISSING.id}" if M_MISSING.id in causes
             else f"the directory reported as {M_NO_FILES.id}")
    return [
        dataclasses.replace(
            f, severity=Severity.INFO, fix=None,
            message=f"follows from {cause}: {f.message}",
        )
        if f.rule == XSD_VIOLATION.id and f.xpath in sites else f
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
