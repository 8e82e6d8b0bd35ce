"""ScanResult -> EMPIAR entry XML, deterministically.

Elements follow the sequence order of ``schemas/empiar.xsd`` (which follows EMPIAR's 0.48
bindings); values the scan does not know are left out rather than invented, so an incomplete
entry fails validation instead of being deposited with a placeholder. The same result always
gives the same bytes: no timestamps, no version stamps, sorted image sets, fixed number
formatting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from empiar_validate.empiar import EMPIAR_NS
from empiar_validate.model import Citation, Contact, ImageSet, Person, ScanResult
from empiar_validate.scan.values import format_value
from empiar_validate.scan.xmlchars import NOT_XML

NS = EMPIAR_NS


def xml_safe(text: str) -> str:
    """``text`` with characters XML cannot hold replaced by U+FFFD."""
    return NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class EntryDocument:
    """The entry XML and where it lacks a required element because the value is unknown.

    ``gaps`` are the readable XPaths (as X100 findings carry them) of the places the XML Schema
    complains about each gap: the first element after the first missing required child, or the
    parent when nothing follows. They are known here, when the element is left out, so the
    scan can tell a schema complaint that only follows from a missing value from a real one
    without reading libxml2's message text.
    """

    xml: bytes
    sites: tuple[Any, ...]  # the elements of the tree the XML was written from

    @property
    def gaps(self) -> frozenset[str]:
        """The gaps' readable XPaths (computed on demand: it needs the validation package,
        which writing the XML alone does not)."""
        from empiar_validate.validation.locations import readable_path

        return frozenset(readable_path(el) for el in self.sites)


def entry_xml(result: ScanResult) -> bytes:
    """The entry XML for ``result`` as UTF-8 bytes with an XML declaration."""
    return entry_document(result).xml


def entry_document(result: ScanResult) -> EntryDocument:
    """The entry XML for ``result`` and its gaps (see :class:`EntryDocument`)."""
    from lxml import etree

    h = result.header
    gaps = _Gaps()
    root = etree.Element(f"{{{NS}}}entry", nsmap={None: NS})
    if h.accession_code:
        root.set("accessionCode", h.accession_code)
    root.set("public", "false")  # carries contact e-mails: a private header

    admin = _sub(root, "admin")
    _text(admin, "currentStatus", h.status, gaps)
    dates = _sub(admin, "keyDates")
    _text(dates, "depositionDate", h.deposition_date)
    _text(dates, "releaseDate", h.release_date)
    _text(admin, "title", h.title, gaps)
    if h.corresponding_author:
        _contact(admin, "correspondingAuthor", h.corresponding_author, gaps)
    else:
        gaps.mark(admin)
    for pi in h.principal_investigators:
        _contact(admin, "principalInvestigator", pi, gaps)
    if not h.principal_investigators:
        gaps.mark(admin)
    authors = _sub(admin, "authorsList")
    for person in h.authors:
        el = _text(authors, "author", person.name, gaps)
        if person.orcid and el is not None:
            el.set("authorORCID", xml_safe(person.orcid))
    if not h.authors:
        gaps.mark(authors)
    _text(admin, "scipionWorkflow", h.workflow_file)
    size = _text(admin, "datasetSize", h.dataset_size, gaps)
    if size is not None:
        size.set("units", h.dataset_size_units)
    if h.accession_code:
        _text(admin, "entryDOI", f"10.6019/{h.accession_code}")
    _text(admin, "experimentType", h.experiment_type, gaps)

    if h.emdb_entries or h.citations or h.biostudies_entries or h.idr_entries or \
            h.empiar_entries:
        refs = _sub(root, "crossReferences")
        _list(refs, "relatedEMDBEntries", "emdbEntry", h.emdb_entries)
        if h.citations:
            cites = _sub(refs, "citationList")
            for c in h.citations:
                _citation(_sub(cites, "universalCitation"), c)
        _list(refs, "relatedBioStudiesEntries", "bioStudiesEntry", h.biostudies_entries)
        _list(refs, "relatedIdrEntries", "idrEntry", h.idr_entries)
        _list(refs, "relatedEmpiarEntries", "empiarEntry", h.empiar_entries)

    for s in sorted(result.image_sets, key=lambda s: (s.directory, s.name)):
        _image_set(root, s, gaps)
    if not result.image_sets:
        gaps.mark(root)
    etree.indent(root, space="  ")
    body = etree.tostring(root, encoding="unicode")
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
    return EntryDocument(xml, tuple(gaps.sites()))


class _Gaps:
    """Required children left out, as (parent, number of children it had at that point)."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[Any, int]] = {}

    def mark(self, parent: Any) -> None:
        """A required child of ``parent`` is missing at its current end."""
        self._first.setdefault(id(parent), (parent, len(parent)))

    def sites(self) -> list[Any]:
        """Where the schema complains: the element after the first gap, else the parent."""
        return [parent[index] if index < len(parent) else parent
                for parent, index in self._first.values()]


def _sub(parent: Any, tag: str) -> Any:
    from lxml import etree

    return etree.SubElement(parent, f"{{{NS}}}{tag}")


def _text(parent: Any, tag: str, value: object, required: _Gaps | None = None) -> Any:
    """A child with text, or nothing when ``value`` is ``None`` (a gap when the schema requires
    the element: pass the gaps as ``required``)."""
    if value is None:
        if required is not None:
            required.mark(parent)
        return None
    el = _sub(parent, tag)
    el.text = xml_safe(format_value(value))
    return el


def _list(parent: Any, wrapper: str, tag: str, values: list[str]) -> None:
    if values:
        w = _sub(parent, wrapper)
        for v in values:
            _text(w, tag, v)


def _contact(parent: Any, tag: str, c: Contact, gaps: _Gaps) -> None:
    el = _sub(parent, tag)
    el.set("private", "true")
    _text(el, "authorORCID", c.orcid)
    _text(el, "title", c.title)
    _text(el, "firstName", c.first_name, gaps)
    _text(el, "middleName", c.middle_name)
    _text(el, "lastName", c.last_name, gaps)
    _text(el, "organization", c.organization, gaps)
    _text(el, "street", c.street)
    _text(el, "townOrCity", c.town_or_city, gaps)
    _text(el, "stateOrProvince", c.state_or_province)
    _text(el, "country", c.country, gaps)
    _text(el, "postOrZipCode", c.post_or_zip)
    _text(el, "email", c.email)
    for kind, number in (("telephone", c.telephone), ("fax", c.fax)):
        if number:
            _text(_sub(el, kind), "local", number)


def _people(parent: Any, tag: str, people: list[Person]) -> None:
    """Authors or editors in list order, numbered 1..n (the schema wants no gaps)."""
    for n, p in enumerate(people, start=1):
        el = _text(parent, tag, p.name)
        el.set("order", str(n))
        if p.orcid:
            el.set("authorORCID", xml_safe(p.orcid))


def _citation(parent: Any, c: Citation) -> None:
    el = _sub(parent, "journalCitation" if c.journal else "nonJournalCitation")
    el.set("published", "true" if c.published else "false")
    if c.journal and c.preprint is not None:
        el.set("preprint", "true" if c.preprint else "false")
    _people(el, "author", c.authors)
    _people(el, "editor", c.editors)
    if c.journal:
        _text(el, "title", c.title)
        _text(el, "journal", c.journal_name)
        _text(el, "journalAbbreviation", c.journal_abbreviation)
        _text(el, "country", c.country)
        _text(el, "issue", c.issue)
        _text(el, "volume", c.volume)
    else:
        _text(el, "bookTitle", c.title)
        _text(el, "bookChapterTitle", c.book_chapter_title)
        _text(el, "volume", c.volume)
        _text(el, "publisher", c.publisher)
        _text(el, "publicationLocation", c.publication_location)
        _text(el, "country", c.country)
    _text(el, "firstPage", c.first_page)
    _text(el, "lastPage", c.last_page)
    _text(el, "year", c.year)
    _text(el, "language", c.language)
    for kind, value in (("doi", c.doi), ("pubmed", c.pubmed)):
        ref = _text(el, "externalReferences", value)
        if ref is not None:
            ref.set("type", kind)
    _text(el, "details", c.details)


def _image_set(root: Any, s: ImageSet, gaps: _Gaps) -> None:
    from empiar_validate.scan.provenance import add_instruction

    el = _sub(root, "imageSet")
    add_instruction(el, s)  # which values came from the files: check's strict policy
    _text(el, "name", s.name, gaps)
    _text(el, "directory", s.directory, gaps)
    _text(el, "category", s.category, gaps)
    _text(el, "headerFormat", s.header_format, gaps)
    _text(el, "dataFormat", s.data_format, gaps)
    _text(el, "numImagesOrTiltSeries", s.num_images_or_tilt_series, gaps)
    _text(el, "framesPerImage", s.frames_per_image, gaps)
    if s.frame_range_min is not None and s.frame_range_max is not None:
        fr = _sub(el, "frameRange")
        _text(fr, "frameRangeMin", s.frame_range_min)
        _text(fr, "frameRangeMax", s.frame_range_max)
    _text(el, "voxelType", s.voxel_type, gaps)
    dims = _sub(el, "dimensions")
    _text(dims, "imageWidth", s.image_width, gaps)
    _text(dims, "pixelWidth", s.pixel_width, gaps)
    _text(dims, "imageHeight", s.image_height, gaps)
    _text(dims, "pixelHeight", s.pixel_height, gaps)
    _text(el, "details", s.details)
    _text(el, "micrographsFilePattern", s.micrographs_file_pattern)
    _text(el, "pickedParticlesFilePattern", s.picked_particles_file_pattern)
    _text(el, "pickedParticlesDirectory", s.picked_particles_directory)
