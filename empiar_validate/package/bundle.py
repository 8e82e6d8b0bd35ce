"""Build a deposition bundle: scan, advise, hash, write five files atomically.

The bundle directory holds ``entry.xml``, ``deposition.json``, ``SHA256SUMS``, ``MD5SUMS`` and
``SUMMARY.md`` (plus the hidden checksum cache), and nothing is ever written inside the dataset
unless the caller allows the bundle to live there. Every output is a pure function of the
dataset, the metadata and the paths given, so two runs give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from empiar_validate.atomic import write_bytes_atomic, write_text_atomic
from empiar_validate.findings import Finding
from empiar_validate.model import ScanResult
from empiar_validate.package.advice import deposition_advice, layout_advice
from empiar_validate.package.checksums import (
    CACHE_NAME,
    P_CACHE_IGNORED,
    ChecksumCache,
    ChecksumRun,
    checksum_files,
    format_checksums,
)
from empiar_validate.package.deposition import deposition_json, dump_json, schema_findings
from empiar_validate.package.inventory import inventory
from empiar_validate.package.plan import TransferPlan, build_plan, render_summary
from empiar_validate.paths import display_path, is_inside
from empiar_validate.textsafe import visible_text

if TYPE_CHECKING:
    from empiar_validate.scan.metadata import MetadataFile

ENTRY_XML = "entry.xml"
DEPOSITION_JSON = "deposition.json"
SHA256SUMS = "SHA256SUMS"
MD5SUMS = "MD5SUMS"
SUMMARY = "SUMMARY.md"
ENTRY_THUMBNAIL = "entry_thumbnail.png"  # written only with package --thumbnail
OUTPUTS = (ENTRY_XML, DEPOSITION_JSON, SHA256SUMS, MD5SUMS, SUMMARY)


@dataclass(slots=True)
class Bundle:
    """What a package run produced: the scan, the plan, the checksum counts and all findings."""

    root: str
    out: str
    scan: ScanResult
    plan: TransferPlan
    checksums: ChecksumRun
    findings: list[Finding] = field(default_factory=list)


def build_bundle(
    root: str,
    out: str,
    *,
    metadata: MetadataFile | str | None = None,
    jobs: int | None = None,
    quiet: bool = False,
    use_cache: bool = True,
    accession_code: str | None = None,
    deposition_date: str | None = None,
    scheduler: str | None = None,
    thumbnail: Callable[[ScanResult], bytes] | None = None,
) -> Bundle:
    """Scan ``root``, then write the bundle into ``out`` (created if absent).

    ``metadata`` is the file the command loaded once (or a path). Every fact is reported by
    one layer: the scan reports the data and the metadata, the bundle only what it alone sees
    (layout, checksums, what deposition.json cannot express). Raises ``OSError`` only when the
    metadata cannot be read or ``out`` cannot be written, and ``ClusterError`` when the
    checksums were sent to the Dask ``scheduler`` and it failed. ``thumbnail``, when given,
    makes the PNG written as ``entry_thumbnail.png`` (``package --thumbnail``) from the scan.
    """
    from empiar_validate.scan import consequences, scan_dataset, shower, validate_entry
    from empiar_validate.scan.emit import entry_document

    root_abs, out_abs = os.path.abspath(root), os.path.abspath(out)
    inside = is_inside(out_abs, root_abs)
    show = shower(root)
    result = scan_dataset(root, metadata, jobs=jobs, quiet=quiet,
                          accession_code=accession_code, deposition_date=deposition_date)
    findings = list(result.findings)
    if inside:
        bundle_dir = show(display_path(os.path.relpath(os.path.realpath(out_abs),
                                                       os.path.realpath(root_abs))))
        findings = [f for f in findings if not (f.file and (
            f.file == bundle_dir or f.file.startswith(bundle_dir + "/")))]

    # scan_dataset has already put the extracted acquisition facts into each image set's details,
    # so the XML and the JSON carry the same text.
    ours: list[Finding] = []
    entry = entry_document(result)
    xml = entry.xml
    findings += consequences(validate_entry(xml, ENTRY_XML), result.findings, entry.gaps)

    files = inventory(root, exclude=out_abs if inside else None)
    ours += layout_advice(root_abs, files, scanned={r.path for r in result.records})
    ours += deposition_advice(result.image_sets, files, result.metadata)
    doc, doc_findings = deposition_json(result.image_sets, result.metadata, after_scan=True)
    doc_findings += schema_findings(doc)  # never "OK" with a JSON EMPIAR's API would refuse

    os.makedirs(out_abs, exist_ok=True)
    cache = ChecksumCache(os.path.join(out_abs, CACHE_NAME) if use_cache else None)
    # Git LFS pointers: the content's SHA-256 and size are in the pointer; nothing to read
    lfs = {r.path: (str(r.extra["lfs_sha256"]), r.size or 0) for r in result.records
           if "lfs_sha256" in r.extra}
    sums = checksum_files(((f.path, f.rel) for f in files if f.regular and not f.hidden),
                          cache=cache, jobs=jobs, quiet=quiet, scheduler=scheduler,
                          absent={f.rel: lfs[f.display] for f in files if f.display in lfs})
    cache_findings = [f for f in sums.findings if f.rule == P_CACHE_IGNORED.id]
    ours += [f for f in sums.findings if f.rule != P_CACHE_IGNORED.id]
    # our findings name paths relative to the root; print them as the scan does
    ours = [dataclasses.replace(f, file=show(f.file)) if f.file is not None else f
            for f in ours]
    cache_findings = [dataclasses.replace(f, file=display_path(os.path.join(out, CACHE_NAME)))
                      for f in cache_findings]
    findings = findings + ours + doc_findings + cache_findings

    plan = build_plan(root_abs, result.image_sets, files)
    title = result.metadata.get("title")
    png = thumbnail(result) if thumbnail is not None else None
    summary = render_summary(plan, out_dir=out_abs, listed=len(sums.sums), findings=findings,
                             title=title if isinstance(title, str) else None,
                             thumbnail=ENTRY_THUMBNAIL if png is not None else None)
    if png is not None:
        write_bytes_atomic(os.path.join(out_abs, ENTRY_THUMBNAIL), png)

    write_bytes_atomic(os.path.join(out_abs, ENTRY_XML), xml)
    write_bytes_atomic(os.path.join(out_abs, DEPOSITION_JSON), dump_json(doc))
    write_bytes_atomic(os.path.join(out_abs, SHA256SUMS), format_checksums(sums.sums, "sha256"))
    write_bytes_atomic(os.path.join(out_abs, MD5SUMS), format_checksums(sums.sums, "md5"))
    write_text_atomic(os.path.join(out_abs, SUMMARY), visible_text(summary))  # user text in it
    return Bundle(root_abs, out_abs, result, plan, sums, findings)
