"""Image sets: the unit EMPIAR describes, derived from files and completed from metadata.

Shared by ``scan`` (derives them), ``check`` (compares them), the XML emitter and ``package``
(deposition JSON, checksums, advice). Plain data; no I/O here.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

from empiar_validate.findings import Finding
from empiar_validate.records import FileRecord

VARIABLE = "variable"  # EMPIAR's literal for dimensions that differ between files


@dataclass(slots=True)
class ImageSet:
    """One EMPIAR ``imageSet``: values in the XML's vocabulary and units (pixels, Å).

    ``directory`` is the XML's ``/data/...`` path; ``rel_dir`` the directory relative to the
    dataset root on disk. ``image_width``/``pixel_width`` etc. hold a number, ``"variable"``, or
    ``None`` when unknown. ``files`` are the records the values were derived from (empty when the
    image set comes only from metadata). ``derived`` names the fields that came from headers, so a
    report can say which numbers are measured and which were typed in.
    """

    name: str
    directory: str
    rel_dir: str
    _: KW_ONLY  # values by keyword: fifteen optional fields are unreadable by position
    category: str | None = None
    header_format: str | None = None
    data_format: str | None = None
    num_images_or_tilt_series: int | None = None
    frames_per_image: int | None = None
    frame_range_min: int | None = None
    frame_range_max: int | None = None
    voxel_type: str | None = None
    image_width: int | str | None = None
    image_height: int | str | None = None
    pixel_width: float | str | None = None
    pixel_height: float | str | None = None
    details: str | None = None
    micrographs_file_pattern: str | None = None
    picked_particles_file_pattern: str | None = None
    picked_particles_directory: str | None = None
    files: list[FileRecord] = field(default_factory=list)
    companions: list[str] = field(default_factory=list)  # .mdoc/.tlt/.rawtlt/.star paths (rel)
    derived: set[str] = field(default_factory=set)
    # Why the image set has its category: the metadata, names, layouts, voxel types, shapes,
    # companions (shown in the JSON report as ``category_evidence``).
    evidence: list[str] = field(default_factory=list)
    slices: int | None = None  # a volume stored one slice per file: the number of slices


@dataclass(slots=True)
class Person:
    """A name in the XML's spelling (``Smith JW``) with its ORCID iD and 1-based position."""

    name: str
    orcid: str | None = None
    order: int = 1


@dataclass(slots=True)
class Contact:
    """``correspondingAuthor`` / ``principalInvestigator`` in the XML's vocabulary (country as a
    name, not an ISO code). ``None`` means absent."""

    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    country: str | None = None
    email: str | None = None
    orcid: str | None = None
    title: str | None = None
    middle_name: str | None = None
    street: str | None = None
    town_or_city: str | None = None
    state_or_province: str | None = None
    post_or_zip: str | None = None
    telephone: str | None = None
    fax: str | None = None


@dataclass(slots=True)
class Citation:
    """One ``universalCitation``: a journal article (``journal=True``) or a book/thesis.

    ``title`` is the article title for journals and the book title otherwise; ``doi`` and
    ``pubmed`` become ``externalReferences`` of type ``doi`` and ``pubmed``.
    """

    journal: bool
    published: bool
    title: str | None = None
    preprint: bool | None = None
    authors: list[Person] = field(default_factory=list)
    editors: list[Person] = field(default_factory=list)
    journal_name: str | None = None
    journal_abbreviation: str | None = None
    country: str | None = None
    issue: str | None = None
    volume: str | None = None
    first_page: str | None = None
    last_page: str | None = None
    year: int | None = None
    language: str | None = None
    doi: str | None = None
    pubmed: str | None = None
    details: str | None = None
    book_chapter_title: str | None = None
    publisher: str | None = None
    publication_location: str | None = None


@dataclass(slots=True)
class EntryHeader:
    """The entry-level part of the XML (``admin`` and ``crossReferences``), converted from the
    user's metadata; ``None``/empty where the metadata is silent. ``dataset_size`` is the decimal
    text and ``dataset_size_units`` its unit, both derived from the files on disk."""

    accession_code: str | None = None
    status: str = "PROC"
    deposition_date: str | None = None
    release_date: str | None = None
    title: str | None = None
    corresponding_author: Contact | None = None
    principal_investigators: list[Contact] = field(default_factory=list)
    authors: list[Person] = field(default_factory=list)
    workflow_file: str | None = None
    dataset_size: str | None = None
    dataset_size_units: str = "GB"
    experiment_type: str | None = None
    emdb_entries: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    biostudies_entries: list[str] = field(default_factory=list)
    idr_entries: list[str] = field(default_factory=list)
    empiar_entries: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ScanResult:
    """Everything ``scan`` learned about a dataset directory.

    ``records`` covers every file walked (images and others) in walk order; ``uncovered`` lists
    relative paths of files that belong to no image set; ``metadata`` is the user's deposition
    metadata in empiar-depositor's JSON shape (``{}`` when none was given); ``header`` is that
    metadata converted to the XML's vocabulary, plus the dataset size measured on disk.
    """

    root: str
    image_sets: list[ImageSet]
    records: list[FileRecord]
    findings: list[Finding] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    metadata: dict[str, object] = field(default_factory=dict)
    header: EntryHeader = field(default_factory=EntryHeader)
