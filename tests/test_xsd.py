"""schemas/empiar.xsd: its shape, its documentation, and X100/X101 findings from validation."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import pytest
from lxml import etree

from empiar_validate.validation.schemas import load_xsd
from empiar_validate.validation.xsd import check_root, xsd_findings
from empiar_validate.xmlsafe import parse_xml_bytes

ROOT = Path(__file__).resolve().parent.parent
XSD_PATH = ROOT / "schemas" / "empiar.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
VALID_DIR = ROOT / "fixtures" / "xml" / "valid"
REAL = VALID_DIR / "real-header-like.xml"


@pytest.fixture(scope="module")
def xsd_tree() -> etree._ElementTree:
    return etree.parse(str(XSD_PATH))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return load_xsd()[0]


def validate_text(text: str, schema: etree.XMLSchema) -> list:
    tree, findings = parse_xml_bytes(text.encode(), "t.xml")
    assert tree is not None, findings
    return xsd_findings(tree, schema, "t.xml")


def line_of(text: str, marker: str) -> int:
    return text[: text.index(marker)].count("\n") + 1


def test_schema_header(xsd_tree):
    root = xsd_tree.getroot()
    assert root.get("targetNamespace") == "http://pdbe.org/empiar"
    assert root.get("elementFormDefault") == "qualified"
    assert re.fullmatch(r"\d+\.\d+-ev\d+", root.get("version"))
    # Nothing is imported or included, so compiling it never touches the network.
    assert not root.findall(f"{XS}import") + root.findall(f"{XS}include") + root.findall(
        f"{XS}redefine")
    assert all(el.get("schemaLocation") is None for el in root.iter(f"{XS}*"))


def test_changelog_names_the_schema_version(xsd_tree):
    version = xsd_tree.getroot().get("version")
    changelog = (ROOT / "schemas" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {version}" in changelog


def test_every_element_attribute_and_type_is_documented(xsd_tree):
    undocumented = []
    for node in xsd_tree.getroot().iter(f"{XS}element", f"{XS}attribute", f"{XS}complexType",
                                        f"{XS}simpleType"):
        if node.tag in (f"{XS}complexType", f"{XS}simpleType") and not node.get("name"):
            continue  # anonymous types are documented on their element
        doc = node.find(f"{XS}annotation/{XS}documentation")
        if doc is None or not "".join(doc.itertext()).strip():
            undocumented.append(node.get("name"))
    assert undocumented == []


def _children(xsd_tree, type_name: str) -> list[str]:
    ctype = xsd_tree.getroot().find(f"{XS}complexType[@name='{type_name}']")
    return [el.get("name") for el in ctype.iter(f"{XS}element")]


@pytest.mark.parametrize(
    ("type_name", "children"),
    [
        ("entryType", ["admin", "crossReferences", "imageSet"]),
        ("adminType", ["currentStatus", "keyDates", "title", "correspondingAuthor",
                       "principalInvestigator", "authorsList", "versionHistory", "grantSupport",
                       "scipionWorkflow", "datasetSize", "entryDOI", "experimentType"]),
        ("keyDatesType", ["depositionDate", "releaseDate", "obsoleteDate", "updateDate"]),
        ("contactDetailsType", ["authorORCID", "title", "firstName", "middleName", "lastName",
                                "organization", "street", "townOrCity", "stateOrProvince",
                                "country", "postOrZipCode", "email", "telephone", "fax"]),
        ("crossReferencesType", ["relatedEMDBEntries", "citationList",
                                 "relatedBioStudiesEntries", "relatedIdrEntries",
                                 "relatedEmpiarEntries"]),
        ("universalCitationType", ["journalCitation", "nonJournalCitation"]),
        ("journalCitationType", ["author", "editor", "title", "journal", "journalAbbreviation",
                                 "country", "issue", "volume", "firstPage", "lastPage", "year",
                                 "language", "externalReferences", "details"]),
        ("nonJournalCitationType", ["author", "editor", "bookTitle", "thesisTitle",
                                    "bookChapterTitle", "volume", "publisher",
                                    "publicationLocation", "country", "firstPage", "lastPage",
                                    "year", "language", "externalReferences", "details"]),
        ("versionType", ["versionNumber", "date", "statusCode", "annotator", "details"]),
        ("grantReferenceType", ["fundingBody", "code", "country"]),
        ("imageSetType", ["name", "directory", "category", "headerFormat", "dataFormat",
                          "numImagesOrTiltSeries", "framesPerImage", "frameRange", "voxelType",
                          "dimensions", "details", "segmentationList", "micrographsFilePattern",
                          "pickedParticlesFilePattern", "pickedParticlesDirectory"]),
        ("dimensionsType", ["imageWidth", "pixelWidth", "imageHeight", "pixelHeight"]),
        ("segmentationType", ["file", "description", "originalFiles", "originalFormat"]),
    ],
)
def test_child_names_and_order_follow_the_data_model(xsd_tree, type_name, children):
    assert _children(xsd_tree, type_name) == children


def _enumeration(xsd_tree, type_name: str) -> set[str]:
    stype = xsd_tree.getroot().find(f"{XS}simpleType[@name='{type_name}']")
    return {e.get("value") for e in stype.iter(f"{XS}enumeration")}


def test_enumerations_include_the_2023_deposition_values(xsd_tree):
    for new in ("DM3", "JPEG", "SMV", "EM", "TPX3"):
        assert new in _enumeration(xsd_tree, "headerFormatType")
        assert new in _enumeration(xsd_tree, "dataFormatType")
    assert {"diffraction images", "reconstructed volumes", "subtomograms", "stitched maps",
            "micrographs - multiframe"} <= _enumeration(xsd_tree, "imageDataCategoryType")
    assert {"X-RAY MICROCT", "SSET", "MicroED", "Exception", "ATUM-SEM", "EMDB"} <= (
        _enumeration(xsd_tree, "experimentTypeType"))
    assert _enumeration(xsd_tree, "statusCodeType") == {"PROC", "REL", "OBS", "WDRN", "UNARCH",
                                                         "WAIT"}
    assert "4 BIT INTEGER" in _enumeration(xsd_tree, "voxelTypeType")
    assert "BIG DATA VIEWER HDF5" in _enumeration(xsd_tree, "dataFormatType")


def test_inferred_experiment_types_are_flagged_as_inference(xsd_tree):
    stype = xsd_tree.getroot().find(f"{XS}simpleType[@name='experimentTypeType']")
    text = "".join(stype.find(f"{XS}annotation").itertext())
    assert "X-RAY MICROCT" in text and "SSET" in text and "inference" in text


@pytest.mark.parametrize("fixture", sorted(VALID_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_valid_fixtures_pass_the_xsd(fixture, schema):
    tree, findings = parse_xml_bytes(fixture.read_bytes(), fixture.name)
    assert findings == []
    assert xsd_findings(tree, schema, fixture.name) == []


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("<imageWidth>11520</imageWidth>", "<imageWidth>variable</imageWidth>", None),
        ("<pixelWidth>0.543</pixelWidth>", "<pixelWidth>variable</pixelWidth>", None),
        ("<pixelWidth>0.543</pixelWidth>", "<pixelWidth>abc</pixelWidth>", "pixelWidth"),
        ("<imageHeight>8184</imageHeight>", "<imageHeight>81.5</imageHeight>", "imageHeight"),
        ("<emdbEntry>EMD-13245</emdbEntry>", "<emdbEntry>EMD-123</emdbEntry>", "emdbEntry"),
        ("<emdbEntry>EMD-13245</emdbEntry>", "<emdbEntry>EMD-1234567</emdbEntry>", None),
        ('accessionCode="EMPIAR-10917"', 'accessionCode="EMPIAR-917"', "entry"),
        ("<entryDOI>10.6019/EMPIAR-10917</entryDOI>", "<entryDOI>10x6019/EMPIAR-10917</entryDOI>",
         "entryDOI"),
        ("<authorORCID>0000-0002-1825-0097</authorORCID>",
         "<authorORCID>0000-0002-1825-009</authorORCID>", "authorORCID"),
        ("<depositionDate>2021-11-18</depositionDate>",
         "<depositionDate>2020-02-30</depositionDate>", "depositionDate"),
        ("<depositionDate>2021-11-18</depositionDate>",
         "<depositionDate>2020-02-29</depositionDate>", None),  # a leap day
        ("<voxelType>UNSIGNED BYTE</voxelType>", "<voxelType>UINT8</voxelType>", "voxelType"),
        ("<currentStatus>REL</currentStatus>", "<currentStatus>HPUB</currentStatus>",
         "currentStatus"),
        ('<datasetSize units="TB">1.9</datasetSize>', '<datasetSize units="PB">1.9</datasetSize>',
         "datasetSize"),
        ('<datasetSize units="TB">1.9</datasetSize>', '<datasetSize units="TB">0</datasetSize>',
         "datasetSize"),
        ("<year>2022</year>", "<year>1899</year>", "year"),
        ('<author order="2">', '<author order="0">', "author"),
        ("<segmentationList/>", "<segmentationList><segmentation/></segmentationList>",
         "segmentation"),
    ],
)
def test_single_xsd_violations(schema, old, new, element):
    text = REAL.read_text(encoding="utf-8")
    assert old in text
    planted = text.replace(old, new, 1)
    findings = validate_text(planted, schema)
    if element is None:
        assert findings == []
        return
    assert findings, "expected an X100 finding"
    first = findings[0]
    assert first.rule == "X100" and first.severity == "error"
    assert first.line == line_of(planted, new)
    assert f"'{element}'" in first.message  # the element is named in the message
    assert "{http://pdbe.org/empiar}" not in first.message
    assert first.xpath and first.xpath.split("/")[-1].startswith(element)


def test_enumeration_errors_suggest_the_closest_value(schema):
    text = REAL.read_text(encoding="utf-8").replace(
        "<category>micrographs - multiframe</category>",
        "<category>micrographs - multi-frame</category>")
    (finding,) = validate_text(text, schema)
    assert "Did you mean 'micrographs - multiframe'?" in finding.message
    assert finding.xpath == "/entry/imageSet/category"


def test_missing_title_is_reported_where_it_was_expected(schema):
    text = REAL.read_text(encoding="utf-8")
    start = text.index("        <title>Cryo-EM")
    planted = text[:start] + text[text.index("\n", start) + 1:]
    (finding,) = validate_text(planted, schema)
    assert finding.rule == "X100"
    assert "Expected is ( title )" in finding.message
    assert finding.line == line_of(planted, "<correspondingAuthor>")


def test_real_header_quirks_are_accepted(schema):
    text = REAL.read_text(encoding="utf-8")
    assert not text.startswith("<?xml")
    assert "schemaVersion" not in text
    for quirk in ("<segmentationList/>",
                  "<pickedParticlesFilePattern></pickedParticlesFilePattern>",
                  "<country></country>", "Å", "μ", "&amp;amp;",
                  'xsi:schemaLocation="https://ftp.ebi.ac.uk/pub/databases/emtest/empiar/schema/'
                  'empiar.xsd"'):
        assert quirk in text
    assert validate_text(text, schema) == []


def test_root_must_be_an_empiar_entry():
    tree, _ = parse_xml_bytes(b"<entry accessionCode='EMPIAR-10001'/>", "old.xml")
    (finding,) = check_root(tree, "old.xml")
    assert (finding.rule, finding.line) == ("X101", 1)
    assert "without a namespace" in finding.message
    tree, _ = parse_xml_bytes(b"<x:entry xmlns:x='urn:other'/>", "other.xml")
    assert "urn:other" in check_root(tree, "other.xml")[0].message


class _Listener:
    """A local TCP server that records connections (a download attempt would connect)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.mark.parametrize("form", ["one-url", "pair"])
def test_schema_location_is_never_fetched(schema, form):
    listener = _Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/empiar.xsd"
        location = url if form == "one-url" else f"http://pdbe.org/empiar {url}"
        text = REAL.read_text(encoding="utf-8").replace(
            "https://ftp.ebi.ac.uk/pub/databases/emtest/empiar/schema/empiar.xsd", location)
        assert validate_text(text, schema) == []
    finally:
        listener.close()
    assert listener.connections == 0
