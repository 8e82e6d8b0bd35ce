"""schemas/empiar.sch: conventions, one fixture per rule, and agreement between engines.

Engines compared on every fixture: our driver on pyschematron's schema model with libxml2 XPath
(what ``validate`` uses), the same driver with pyschematron's elementpath query binding, and
``lxml.isoschematron`` (XSLT 1.0). pyschematron's own ``validate_document`` driver is compared on
a sample: it takes about 1 s per fixture, too slow for all of them; its agreement with the
elementpath path of our driver on those, and that path's agreement with the others on all
fixtures, covers the rest.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from empiar_validate.findings import RULES, Severity
from empiar_validate.validation import load_schemas, validate_file, validate_tree
from empiar_validate.validation.schemas import load_schematron, parse_schema_document, schema_source
from empiar_validate.validation.schematron import SHIPPED_RULES, schematron_findings
from empiar_validate.validation.schematron_engine import rooted
from empiar_validate.validation.svrl import isoschematron_hits, pyschematron_hits
from empiar_validate.xmlsafe import parse_xml_bytes, parse_xml_file

ROOT = Path(__file__).resolve().parent.parent
SCH_PATH = ROOT / "schemas" / "empiar.sch"
SCH = "{http://purl.oclc.org/dsdl/schematron}"
FIXTURES = ROOT / "fixtures" / "xml"
INVALID = sorted((FIXTURES / "invalid").glob("*.xml"))
ALL_FIXTURES = sorted(FIXTURES.glob("*/*.xml"))
REAL = FIXTURES / "valid" / "real-header-like.xml"
EXPECT = re.compile(
    r"expect (?P<rule>[A-Z]\d{3}) (?P<severity>error|warning) at line (?P<line>\d+)"
)


def expectations(path: Path) -> list[tuple[str, str, int]]:
    """The ``expect RULE SEVERITY at line N`` clauses of a fixture's leading comment."""
    head = path.read_text(encoding="utf-8")[:600]
    return [(m["rule"], m["severity"], int(m["line"])) for m in EXPECT.finditer(head)]


@pytest.fixture(scope="module")
def sch_tree() -> etree._ElementTree:
    return parse_schema_document(schema_source("empiar.sch"))


@pytest.fixture(scope="module")
def compiled():
    return load_schematron()


def parse(path: Path) -> etree._ElementTree | None:
    tree, _ = parse_xml_file(path)
    return tree


# --------------------------------------------------------------------------- conventions


def test_schema_conventions(sch_tree):
    root = sch_tree.getroot()
    assert root.get("queryBinding") == "xslt"
    ids = []
    for pattern in root.iter(f"{SCH}pattern"):
        assert pattern.findtext(f"{SCH}title"), pattern.get("id")
        assert pattern.findtext(f"{SCH}p"), pattern.get("id")
        for check in pattern.iter(f"{SCH}assert", f"{SCH}report"):
            ids.append(check.get("id"))
            assert re.fullmatch(r"S1\d\d", check.get("id") or "")
            assert check.get("role") in ("error", "warning")
            assert "Fix:" in "".join(check.itertext())
            # XPath 1.0 only, portable between engines
            selects = [v.get("select") for v in check.iter(f"{SCH}value-of")]
            for expr in [check.get("test"), *selects]:
                assert "current()" not in expr and "key(" not in expr
            assert not check.findall(f"{SCH}name")  # name() prefixes differ between engines
    assert len(ids) == len(set(ids)) >= 20


def test_every_schematron_rule_is_registered(sch_tree):
    checks = {c.get("id"): c.get("role")
              for c in sch_tree.getroot().iter(f"{SCH}assert", f"{SCH}report")}
    assert {r.id for r in SHIPPED_RULES} == set(checks)
    for rule_id, role in checks.items():
        assert RULES[rule_id].severity == Severity(role)
        assert RULES[rule_id].title and RULES[rule_id].fix


def test_compiled_rules_match_the_registry(compiled):
    assert compiled.binding == "xslt"
    for rule_id, rule in compiled.rules.items():
        assert RULES[rule_id] == rule


def test_one_invalid_fixture_per_rule():
    named = {p.name.split("-")[0] for p in INVALID}
    # X003 (too large) and X004 (unreadable) cannot be fixture files; test_xmlsafe covers them.
    wanted = {r.id for r in SHIPPED_RULES} | {"X001", "X002", "X100", "X101"}
    assert wanted <= named, sorted(wanted - named)
    for path in INVALID:
        assert expectations(path), f"{path.name} has no 'expect' comment"
        assert path.name.split("-")[0] in {rule for rule, _, _ in expectations(path)}


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_gives_its_rule_on_its_line(path):
    result = validate_file(path, load_schemas())
    got = {(f.rule, str(f.severity), f.line) for f in result.findings}
    for expected in expectations(path):
        assert expected in got, f"{expected} not in {sorted(got)}"
    # One planted violation: every finding is on one of the expected lines.
    assert {f.line for f in result.findings} <= {line for _, _, line in expectations(path)}
    wanted_errors = any(sev == "error" for _, sev, _ in expectations(path))
    assert result.valid is not wanted_errors


@pytest.mark.parametrize("path", sorted((FIXTURES / "valid").glob("*.xml")), ids=lambda p: p.name)
def test_valid_fixtures_are_clean(path):
    assert validate_file(path, load_schemas()).findings == []


# --------------------------------------------------------------------------- differential


def _ids_lines(hits) -> list[tuple[str, int]]:
    return sorted((h.rule_id, h.line) for h in hits)


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.name)
def test_engines_agree(path, sch_tree, compiled):
    tree = parse(path)
    if tree is None:
        pytest.skip("not parseable (X001/X002): no Schematron run")
    ours = sorted((h.rule.id, h.element.sourceline) for h in compiled.check(tree))
    reference = sorted(
        (h.rule.id, h.element.sourceline) for h in compiled.check(tree, backend="elementpath")
    )
    lxml_iso = _ids_lines(isoschematron_hits(sch_tree, tree))
    assert ours == reference == lxml_iso
    # the same verdict per rule id as the fixture's expectations
    expected_s = {rule for rule, _, _ in expectations(path) if rule.startswith("S")}
    assert {rule for rule, _ in ours} == expected_s


@pytest.mark.parametrize(
    "name",
    ["real-header-like.xml", "S111-directory-unique.xml", "S116-citation-order.xml"],
)
def test_pyschematron_own_driver_agrees(name, sch_tree, compiled):
    path = next(p for p in ALL_FIXTURES if p.name == name)
    tree = parse(path)
    ours = sorted((h.rule.id, h.element.sourceline) for h in compiled.check(tree))
    assert _ids_lines(pyschematron_hits(sch_tree, tree)) == ours


# --------------------------------------------------------------------------- rule details


def orcid_check_digit(base15: str) -> str:
    total = 0
    for ch in base15:
        total = (total + int(ch)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def _entry_with_authors(orcids: list[str]) -> bytes:
    text = REAL.read_text(encoding="utf-8")
    authors = "".join(
        f'            <author authorORCID="{o}">Author{i} A</author>\n'
        for i, o in enumerate(orcids)
    )
    start = text.index("        <authorsList>\n") + len("        <authorsList>\n")
    end = text.index("        </authorsList>")
    return (text[:start] + authors + text[end:]).encode()


def test_orcid_checksum_matches_iso_7064(sch_tree, compiled):
    rng = random.Random(20240501)
    orcids, bad = [], set()
    for _ in range(150):
        base = "".join(rng.choice("0123456789") for _ in range(15))
        check = orcid_check_digit(base)
        if rng.random() < 0.4:
            check = rng.choice([c for c in "0123456789X" if c != check])
            bad.add(len(orcids))
        digits = base + check
        orcids.append("-".join(digits[i:i + 4] for i in range(0, 16, 4)))
    orcids[:3] = ["0000-0002-1825-0097", "0000-0002-1694-233X", "0000-0001-5109-3700"]
    bad -= {0, 1, 2}
    tree, _ = parse_xml_bytes(_entry_with_authors(orcids), "orcids.xml")
    flagged = {
        h.element.text for h in compiled.check(tree) if h.rule.id == "S101"
        and h.element.tag.endswith("author") and h.element.getparent().tag.endswith("authorsList")
    }
    assert flagged == {f"Author{i} A" for i in bad}
    iso = [h for h in isoschematron_hits(sch_tree, tree) if h.rule_id == "S101"]
    assert len(iso) == len(bad)


def _plant(compiled, replacements: list[tuple[str, str]], source: Path = REAL):
    text = source.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    tree, findings = parse_xml_bytes(text.encode(), "t.xml")
    assert tree is not None, findings
    return {f.rule for f in schematron_findings(tree, compiled, "t.xml")}


EXPERIMENT = "<experimentType>EMDB</experimentType>"
PIXEL = "<pixelWidth>0.543</pixelWidth>"


@pytest.mark.parametrize(
    ("experiment", "pixel", "category", "warned"),
    [
        ("EMDB", "0.543", None, False),
        ("EMDB", "0.1", None, True),
        ("EMDB", "25", None, True),
        ("EMDB", "500", "stitched maps", False),
        ("MicroED", "0.05", "diffraction images", False),
        ("SBF-SEM", "80", None, False),
        ("SBF-SEM", "0.5", None, True),
        ("FIB-SEM", "50", None, False),
        ("SXT", "300", None, False),
        ("SXT", "3", None, True),
        ("X-RAY MICROCT", "50000", None, False),
        ("Exception", "123456", None, False),
        ("EMDB", "variable", None, False),
    ],
)
def test_pixel_size_plausibility_depends_on_experiment(compiled, experiment, pixel, category,
                                                       warned):
    changes = [(EXPERIMENT, f"<experimentType>{experiment}</experimentType>"),
               (PIXEL, f"<pixelWidth>{pixel}</pixelWidth>"),
               (PIXEL.replace("Width", "Height"), f"<pixelHeight>{pixel}</pixelHeight>")]
    if category:
        changes.append(("<category>micrographs - multiframe</category>",
                        f"<category>{category}</category>"))
    assert ("S109" in _plant(compiled, changes)) is warned


@pytest.mark.parametrize(
    ("header", "data", "rules"),
    [
        ("TIFF", "TIFF", set()),
        ("MRC", "MRCS", set()),
        ("FEI EPU", "TIFF", set()),
        ("XML", "EER", set()),
        ("EMX", "SPIDER", set()),
        ("XML", "BIG DATA VIEWER HDF5", set()),
        ("TIFF", "BIG DATA VIEWER HDF5", {"S113"}),
        ("DM4", "TIFF", {"S114"}),
        ("PNG", "JPEG", {"S114"}),
    ],
)
def test_format_pairs(compiled, header, data, rules):
    got = _plant(compiled, [
        ("<headerFormat>TIFF</headerFormat>", f"<headerFormat>{header}</headerFormat>"),
        ("<dataFormat>TIFF</dataFormat>", f"<dataFormat>{data}</dataFormat>"),
    ])
    assert got & {"S113", "S114"} == rules


@pytest.mark.parametrize(
    ("orders", "flagged"),
    [((1, 2, 3, 4), False), ((4, 3, 2, 1), False), ((1, 2, 2, 4), True), ((1, 2, 3, 5), True),
     ((2, 3, 4, 5), True)],
)
def test_citation_order_runs_from_one(compiled, orders, flagged):
    changes = [(f'<author order="{i}"', f'<author order="x{o}"') for i, o in zip(
        (1, 2, 3, 4), orders, strict=True)] + [('order="x', 'order="')]
    assert ("S116" in _plant(compiled, changes)) is flagged


@pytest.mark.parametrize(
    ("public", "flagged"), [('public="true"', False), ('public="false"', True), ("", True)]
)
def test_private_headers_need_emails(compiled, public, flagged):
    got = _plant(compiled, [('public="true"', public)])
    assert ("S118" in got) is flagged
    assert "S119" not in got


def test_public_email_marked_not_private_is_fine(compiled):
    email = ("<postOrZipCode>LE1 7HB</postOrZipCode>\n        </correspondingAuthor>",
             '<postOrZipCode>LE1 7HB</postOrZipCode>\n<email private="false">a@b.org</email>\n'
             "        </correspondingAuthor>")
    assert "S119" not in _plant(compiled, [email])
    assert "S119" in _plant(compiled, [(email[0], email[1].replace(' private="false"', ""))])


def test_obsolete_status_needs_its_date(compiled):
    status = ("<currentStatus>REL</currentStatus>", "<currentStatus>OBS</currentStatus>")
    assert "S121" in _plant(compiled, [status])
    dated = ("<updateDate>2022-03-09</updateDate>",
             "<obsoleteDate>2022-03-10</obsoleteDate>\n<updateDate>2022-03-10</updateDate>")
    assert "S121" not in _plant(compiled, [status, dated])
    early = (dated[0], "<obsoleteDate>2020-01-01</obsoleteDate>")
    assert "S120" in _plant(compiled, [status, early])


PRIVATE = FIXTURES / "valid" / "complete-private-entry.xml"
NO_CODE = [(' accessionCode="EMPIAR-10917"', ""),
           ("<entryDOI>10.6019/EMPIAR-10917</entryDOI>", "")]
NO_DATE = [("<depositionDate>2021-11-18</depositionDate>", "")]
PRIVATE_NO_CODE = [(' accessionCode="EMPIAR-12345"', ""),
                   ("<entryDOI>10.6019/EMPIAR-12345</entryDOI>", "")]
PRIVATE_NO_DATE = [("<depositionDate>2024-05-02</depositionDate>", "")]


@pytest.mark.parametrize(
    ("source", "changes", "expected"),
    [
        (REAL, NO_CODE + NO_DATE, {("S123", "error", "entry/@accessionCode, admin/entryDOI, "
                                    "keyDates/depositionDate,")}),
        (REAL, NO_DATE, {("S123", "error", "lacks keyDates/depositionDate,")}),
        (PRIVATE, PRIVATE_NO_CODE + PRIVATE_NO_DATE,
         {("S124", "warning", "no entry/@accessionCode, admin/entryDOI yet"),
          ("S125", "warning", "no keyDates/depositionDate yet")}),
        (PRIVATE, [*PRIVATE_NO_CODE[1:], (' public="false"', "")],  # absent: private
         {("S124", "warning", "no admin/entryDOI yet")}),
        (PRIVATE, PRIVATE_NO_DATE, {("S125", "warning", "no keyDates/depositionDate yet")}),
        (PRIVATE, [], set()),
        (REAL, [], set()),
    ],
)
def test_assigned_values_required_in_public_headers_only(compiled, source, changes, expected):
    """accessionCode, entryDOI and depositionDate are optional in the XSD (pre-deposition
    headers); the Schematron requires them in public headers and warns in private ones."""
    text = source.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    tree, _ = parse_xml_bytes(text.encode(), "t.xml")
    assert validate_tree(tree, "t.xml", load_schemas()) == schematron_findings(
        tree, compiled, "t.xml")  # nothing from the XSD: all three are optional there
    got = [f for f in schematron_findings(tree, compiled, "t.xml")
           if f.rule in ("S123", "S124", "S125")]
    assert len(got) == len(expected)
    for rule_id, severity, words in expected:
        assert any(f.rule == rule_id and str(f.severity) == severity and words in f.message
                   for f in got), (rule_id, [f.message for f in got])


# --------------------------------------------------------------------------- engine


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ("e:imageSet", "//e:imageSet"),
        ("/e:entry", "/e:entry"),
        ("e:a | @b", "//e:a | //@b"),
        ("e:a[@x = 'p|q'] | e:b[c | d]", "//e:a[@x = 'p|q'] | //e:b[c | d]"),
        ("id('x')/e:a", "id('x')/e:a"),
    ],
)
def test_rule_contexts_are_rooted(context, expected):
    assert rooted(context) == expected


CUSTOM_SCH = """<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="{binding}">
  <ns prefix="e" uri="http://pdbe.org/empiar"/>
  <pattern>
    <rule context="@accessionCode">
      <assert id="C1" role="warning" test="starts-with(., 'EMPIAR-2')"
        >code <value-of select="."/></assert>
    </rule>
  </pattern>
  <pattern>
    <rule context="e:imageSet/e:name">
      <report id="C2" test="contains(., 'CMG')">name has <name/> CMG</report>
    </rule>
    <rule context="e:imageSet/*">
      <report id="C3" test="true()">never for name: the first rule of the pattern wins</report>
    </rule>
  </pattern>
  <pattern>
    <rule context="e:imageSet/e:framesPerImage">
      <let name="n" value="number(.)"/>
      <assert id="C4" test="$n = 40">x</assert>
    </rule>
  </pattern>
</schema>"""


@pytest.mark.parametrize("binding", ["xslt", "xslt2"])
def test_engine_handles_attributes_reports_first_rule_and_bindings(tmp_path, binding):
    """An attribute context (libxml2 cannot take one) runs on pyschematron's elementpath
    binding; so does any XPath 2 schema."""
    sch = tmp_path / "custom.sch"
    sch.write_text(CUSTOM_SCH.format(binding=binding), encoding="utf-8")
    compiled = load_schematron(sch)
    hits = compiled.check(parse(REAL))
    seen = {(h.rule.id, str(h.rule.severity), h.attribute) for h in hits}
    assert ("C1", "warning", "accessionCode") in seen
    assert ("C2", "warning", None) in seen  # a report without a role is a warning
    assert not any(h.rule.id == "C4" for h in hits)
    assert sum(1 for h in hits if h.rule.id == "C3") == 13  # every imageSet child but name
    assert next(h.message for h in hits if h.rule.id == "C1") == "code EMPIAR-10917"
    assert next(h for h in hits if h.rule.id == "C1").element.sourceline == 1


def test_xslt_current_function_is_supported(tmp_path):
    sch = tmp_path / "current.sch"
    sch.write_text("""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">
  <ns prefix="e" uri="http://pdbe.org/empiar"/>
  <pattern>
    <rule context="e:imageSet/e:directory">
      <assert id="U1" test="count(../../e:imageSet[e:directory = current()]) = 1">dup</assert>
    </rule>
  </pattern>
</schema>""", encoding="utf-8")
    compiled = load_schematron(sch)
    duplicate = next(p for p in INVALID if p.name.startswith("S111"))
    lines = sorted(h.element.sourceline for h in compiled.check(parse(duplicate)))
    assert lines == [77, 98]  # both image sets share the directory
    assert compiled.check(parse(REAL)) == []


def test_unusable_schematron_expression_is_a_runtime_error(tmp_path):
    sch = tmp_path / "bad.sch"
    sch.write_text("""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">
  <pattern><rule context="*"><assert id="B1" test="no-such-function(.)">x</assert></rule></pattern>
</schema>""", encoding="utf-8")
    from empiar_validate.validation import SchematronRuntimeError

    with pytest.raises(SchematronRuntimeError, match="no-such-function"):
        load_schematron(sch).check(parse(REAL))


def test_validation_does_not_import_pyschematron_until_compiling():
    code = (
        "import sys; import empiar_validate.validation, empiar_validate.commands.validate; "
        "assert 'pyschematron' not in sys.modules, 'eager'; "
        "from empiar_validate.validation.schemas import load_schematron; load_schematron(); "
        "assert 'pyschematron' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


DOCUMENT_SCH = """<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">
  <ns prefix="e" uri="http://pdbe.org/empiar"/>
  <pattern>
    <rule context="/">
      <assert id="D1" test="count(e:entry/e:imageSet) = 2">sets: <value-of
        select="count(e:entry/e:imageSet)"/></assert>
    </rule>
  </pattern>
  <pattern>
    <rule context="comment()"><report id="D2" test="true()">a comment</report></rule>
  </pattern>
</schema>"""


@pytest.mark.parametrize("name", ["real-header-like.xml", "complete-private-entry.xml"])
def test_document_and_comment_contexts_agree_with_isoschematron(tmp_path, name):
    """lxml cannot hand back the document node or run XPath from a comment, so such rules run
    on the elementpath path; the verdicts must still match lxml.isoschematron."""
    sch = tmp_path / "document.sch"
    sch.write_text(DOCUMENT_SCH, encoding="utf-8")
    tree = parse(FIXTURES / "valid" / name)
    ours = sorted(h.rule.id for h in load_schematron(sch).check(tree))
    iso = sorted(h.rule_id for h in isoschematron_hits(etree.parse(str(sch)), tree))
    assert ours == iso
    assert "D1" in ours  # neither fixture has two image sets
