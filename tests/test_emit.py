"""entry_xml: schema order, every optional part, determinism, nothing invented."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from empiar_validate.model import (
    VARIABLE,
    Citation,
    Contact,
    EntryHeader,
    ImageSet,
    Person,
    ScanResult,
)
from empiar_validate.scan import validate_entry
from empiar_validate.scan.emit import entry_xml

ROOT = Path(__file__).resolve().parent.parent
NS = {"e": "http://pdbe.org/empiar"}


def _contact(first: str) -> Contact:
    return Contact(first, "García Ortega", "CNB-CSIC", "Spain", f"{first.lower()}@example.org",
                   "0000-0002-1825-0097", "Dr.", "Luisa", "Calle Darwin 3", "Madrid", "Madrid",
                   "28049", "+34 915 850 000", "+34 915 850 001")


def full_result() -> ScanResult:
    people = [Person("García Ortega ML", "0000-0002-1825-0097", 1), Person("Okafor CN", None, 2)]
    header = EntryHeader(
        accession_code="EMPIAR-10917", deposition_date="2024-05-02", release_date="2025-05-02",
        title="Apoferritin movies, micrographs and particles for testing",
        corresponding_author=_contact("Marta"), principal_investigators=[_contact("Jonas")],
        authors=people, workflow_file="data/workflow.json", dataset_size="812",
        dataset_size_units="GB", experiment_type="EMDB", emdb_entries=["EMD-12345"],
        biostudies_entries=["S-BSST1"], idr_entries=["idr0001"], empiar_entries=["EMPIAR-10002"],
        citations=[
            Citation(True, False, "Structure of apoferritin", True, people, [], "eLife",
                     "eLife", "United Kingdom", "3", "12", "1630.e3", "1640", 2024, "English",
                     "10.7554/eLife.1", "12345678", "In preparation."),
            Citation(False, True, "Methods in cryo-EM", None, people[:1], people[1:],
                     book_chapter_title="Sample preparation", publisher="Academic Press",
                     publication_location="San Diego", year=2016, volume="579"),
        ],
    )
    movies = ImageSet("Movies", "/data/movies", "movies", category="micrographs - multiframe",
                      header_format="TIFF", data_format="TIFF", num_images_or_tilt_series=1200,
                      frames_per_image=40, frame_range_min=1, frame_range_max=40,
                      voxel_type="UNSIGNED BYTE", image_width=VARIABLE, image_height=VARIABLE,
                      pixel_width=0.83, pixel_height=0.83, details="Gain in the same directory.",
                      micrographs_file_pattern="data/movies/*.tiff")
    particles = ImageSet("Particles", "/data/particles", "particles",
                         category="picked particles - single frame - processed",
                         header_format="MRCS", data_format="MRCS", num_images_or_tilt_series=50000,
                         frames_per_image=1, voxel_type="32 BIT FLOAT", image_width=256,
                         image_height=256,
                         pixel_width=1.0600000619888306, pixel_height=VARIABLE,
                         picked_particles_file_pattern="data/particles/particles.star")
    return ScanResult("data", [particles, movies], [], header=header)


def test_a_complete_entry_validates_against_the_shipped_schemas():
    xml = entry_xml(full_result())
    schema = etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "empiar.xsd")))
    assert schema.validate(etree.fromstring(xml).getroottree()), schema.error_log
    assert [f for f in validate_entry(xml, "entry.xml") if f.severity == "error"] == []


def test_values_are_written_in_the_xml_vocabulary():
    root = etree.fromstring(entry_xml(full_result()))
    assert [s.findtext("e:directory", namespaces=NS) for s in root.findall("e:imageSet", NS)] \
        == ["/data/movies", "/data/particles"]  # sorted, whatever the input order
    particles = root.findall("e:imageSet", NS)[1]
    assert particles.findtext("e:dimensions/e:pixelWidth", namespaces=NS) == "1.06"
    assert particles.findtext("e:dimensions/e:pixelHeight", namespaces=NS) == "variable"
    book = root.find(".//e:nonJournalCitation", NS)
    assert book.findtext("e:bookTitle", namespaces=NS) == "Methods in cryo-EM"
    assert book.find("e:editor", NS).get("order") == "1"
    assert root.find(".//e:journalCitation", NS).get("preprint") == "true"
    phone = root.find("e:admin/e:correspondingAuthor/e:telephone/e:local", NS)
    assert phone.text == "+34 915 850 000"
    assert root.get("public") == "false"
    assert root.findtext("e:admin/e:entryDOI", namespaces=NS) == "10.6019/EMPIAR-10917"


def test_output_is_deterministic():
    assert entry_xml(full_result()) == entry_xml(full_result())


def test_unknown_values_are_left_out_not_invented():
    result = full_result()
    result.header.accession_code = None
    result.header.title = None
    result.image_sets[0].pixel_width = None
    root = etree.fromstring(entry_xml(result))
    assert root.get("accessionCode") is None
    assert root.find("e:admin/e:title", NS) is None
    assert root.find("e:admin/e:entryDOI", NS) is None
    dims = root.find("e:imageSet[2]/e:dimensions", NS)
    assert [etree.QName(c).localname for c in dims] == ["imageWidth", "imageHeight",
                                                       "pixelHeight"]


def test_text_xml_cannot_hold_is_replaced():
    result = full_result()
    result.header.title = "Bad\x01title with a control character"
    root = etree.fromstring(entry_xml(result))
    assert root.findtext("e:admin/e:title", namespaces=NS) == \
        "Bad\ufffdtitle with a control character"


def _gappy_results() -> list[ScanResult]:
    """Entries lacking required values in every place the scan can leave one out."""
    import dataclasses

    full = full_result()
    empty_contact = Contact(None, None, None, None, None)
    bare_set = ImageSet(name="Movies", directory="/data/movies", rel_dir="movies")
    half_set = ImageSet(name="Mics", directory="/data/mics", rel_dir="mics", category="micrographs"
                        " - single frame", header_format="MRC", data_format="MRC",
                        num_images_or_tilt_series=3, frames_per_image=1, image_width=8,
                        pixel_width=1.0)
    return [
        ScanResult(root=".", image_sets=[], records=[], header=EntryHeader()),
        ScanResult(root=".", image_sets=[bare_set, half_set], records=[],
                   header=EntryHeader()),
        dataclasses.replace(full, header=dataclasses.replace(
            full.header, title=None, corresponding_author=empty_contact,
            principal_investigators=[], authors=[])),
        dataclasses.replace(full, image_sets=[half_set]),
    ]


def test_gaps_are_exactly_where_the_schema_complains():
    """The emitter knows which required elements it left out: the X100 findings about element
    content are at its gaps and nowhere else, so the scan never reads libxml2's messages.
    (libxml2 stops at the first content error of an element, so a gap after it may draw none.)"""
    from empiar_validate.scan.emit import entry_document

    for result in _gappy_results():
        doc = entry_document(result)
        complaints = {f.xpath for f in validate_entry(doc.xml, "e.xml")
                      if f.rule == "X100" and "Expected is" in f.message}
        assert complaints and complaints <= doc.gaps
    assert entry_document(full_result()).gaps == frozenset()
