"""Metadata files: parsing with line numbers, the key spec, conversions, merging with headers."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml
from dataset_builders import working_example
from lxml import etree

from empiar_validate import vocab
from empiar_validate.model import ImageSet
from empiar_validate.records import FileRecord
from empiar_validate.scan.merge import apply_metadata, metadata_entries
from empiar_validate.scan.metaconvert import HeaderOptions, entry_header
from empiar_validate.scan.metadata import load_metadata
from empiar_validate.scan.metaspec import TOP, Spec, check_structure

ROOT = Path(__file__).resolve().parent.parent
XS = "{http://www.w3.org/2001/XMLSchema}"


def on_disk(root: Path):
    """What the read stage would have found under ``root``."""
    return lambda rel: (root / rel).is_file()


def load(tmp_path: Path, text: str, name: str = "meta.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_metadata(str(path), name)


def header(tmp_path: Path, data: dict, **options: str):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    meta, found = load_metadata(str(path), "m.json")
    assert meta is not None and not found
    return entry_header(meta, HeaderOptions(**options), present=on_disk(tmp_path))


# --------------------------------------------------------------------------- parsing


def test_json_syntax_error_names_the_line(tmp_path):
    meta, [f] = load(tmp_path, '{\n  "title": "x",\n  "authors": [\n}\n')
    assert meta is None and (f.rule, f.file, f.line) == ("M101", "meta.json", 4)


def test_yaml_syntax_error_names_the_line(tmp_path):
    meta, [f] = load(tmp_path, "title: ok\nauthors:\n  - name: [a\n", "meta.yaml")
    assert meta is None and f.rule == "M101" and f.line == 4


def test_yaml_aliases_are_refused(tmp_path):
    text = "a: &x [1, 2]\nb: *x\n"
    meta, [f] = load(tmp_path, text, "meta.yml")
    assert meta is None and f.rule == "M101" and "aliases" in f.message


def test_top_level_must_be_an_object(tmp_path):
    meta, [f] = load(tmp_path, "[1, 2]")
    assert meta is None and f.rule == "M101"


def test_unknown_keys_and_wrong_types_name_their_lines(tmp_path):
    text = ('{\n  "title": "A title long enough",\n  "experiment_typ": 3,\n'
            '  "imagesets": [\n    {"directory": "/data/x",\n     "frames_per_image": "40"}\n'
            '  ],\n  "title": "again"\n}\n')
    meta, found = load(tmp_path, text)
    assert [(f.rule, f.line) for f in found] == [("M111", 8)]
    structure = check_structure(meta)
    assert [(f.rule, f.severity, f.line) for f in structure] == [
        ("M102", "warning", 3), ("M103", "error", 6)]
    assert "imagesets[0].frames_per_image is a string, expected integer" in structure[1].message


def test_yaml_with_the_same_keys_gives_the_same_header(tmp_path):
    example = working_example()
    json_meta, _ = load(tmp_path, json.dumps(example))
    yaml_meta, _ = load(tmp_path, yaml.safe_dump(example), "meta.yaml")
    assert yaml_meta.data == json_meta.data
    assert yaml_meta.line("corresponding_author", "country") is not None
    a = entry_header(json_meta, HeaderOptions(), present=on_disk(tmp_path))
    b = entry_header(yaml_meta, HeaderOptions(), present=on_disk(tmp_path))
    assert a[0] == b[0]


def _spec_keys(schema: dict, spec: Spec, where: str) -> list[str]:
    """Keys of the depositor's JSON schema that our spec does not know, recursively."""
    missing = []
    props = schema.get("properties", {})
    for key, sub in props.items():
        if spec.keys is None or key not in spec.keys:
            missing.append(f"{where}.{key}")
            continue
        inner = spec.keys[key]
        if sub.get("type") == "object":
            missing += _spec_keys(sub, inner, f"{where}.{key}")
        elif sub.get("type") == "array" and "items" in sub and inner.items is not None:
            missing += _spec_keys(sub["items"], inner.items, f"{where}.{key}[]")
    return missing


def test_spec_knows_every_key_of_the_depositor_schema():
    ref = resources.files("empiar_depositor") / "empiar_deposition.schema.json"
    schema = json.loads(ref.read_text(encoding="utf-8"))
    assert _spec_keys(schema, TOP, "") == []


def test_working_example_has_no_structure_findings(tmp_path):
    meta, found = load(tmp_path, json.dumps(working_example()))
    assert found == [] and check_structure(meta) == []


# --------------------------------------------------------------------------- conversions


def test_vocab_conversions():
    assert vocab.author_name("('Smith', 'JW')") == "Smith JW"
    assert vocab.author_name(["De Biasio", "A"]) == "De Biasio A"
    assert vocab.author_tuple("De Biasio A") == "('De Biasio', 'A')"
    assert vocab.country_name("US") == "United States"
    assert vocab.country_name("GB") == "United Kingdom"
    assert vocab.country_code("United Kingdom") == vocab.country_code("UK") == "GB"
    assert len(vocab.COUNTRIES) == 251  # ISO 3166-1 plus the depositor's FX and XK
    assert vocab.experiment_type_name(3) == "EMDB" and vocab.experiment_type_name(9) == "MicroED"
    assert vocab.experiment_type_code("3VIEW") == 4
    assert vocab.decode_code("category", "('T2', '')") == "micrographs - multiframe"
    assert vocab.decode_code("data_format", "('T8', '')") == "BIG DATA VIEWER HDF5"
    assert vocab.decode_code("header_format", "('T8', '')") == "XML"
    assert vocab.decode_code("voxel_type", "('OT', 'HALF FLOAT')") == "HALF FLOAT"
    assert vocab.encode_code("category", "tilt series") == "('T9', '')"
    assert vocab.encode_code("category", "micrographs - tilt series") == \
        "('OT', 'micrographs - tilt series')"
    for bad in (("category", "('T15', '')"), ("voxel_type", "('OT', 'lower case')"),
                ("category", "T2")):
        with pytest.raises(vocab.VocabError):
            vocab.decode_code(*bad)
    with pytest.raises(vocab.VocabError):
        vocab.country_name("XX")
    with pytest.raises(vocab.VocabError):
        vocab.experiment_type_name(10)


def _xsd_enum(type_name: str) -> set[str]:
    tree = etree.parse(str(ROOT / "schemas" / "empiar.xsd"))
    node = tree.find(f"{XS}simpleType[@name='{type_name}']")
    return {e.get("value") for e in node.iter(f"{XS}enumeration")}


def test_every_vocabulary_string_is_in_the_shipped_schema():
    assert set(vocab.EXPERIMENT_TYPES.values()) <= _xsd_enum("experimentTypeType")
    assert set(vocab.CATEGORY_CODES.values()) <= _xsd_enum("imageDataCategoryType")
    assert set(vocab.HEADER_FORMAT_CODES.values()) <= _xsd_enum("headerFormatType")
    assert set(vocab.DATA_FORMAT_CODES.values()) <= _xsd_enum("dataFormatType")
    assert set(vocab.VOXEL_TYPE_CODES.values()) <= _xsd_enum("voxelTypeType")


def test_entry_header_converts_the_working_example(tmp_path):
    (tmp_path / "workflow.json").write_text("{}", encoding="utf-8")
    h, found = header(tmp_path, working_example(), deposition_date="2024-02-29",
                      accession_code="EMPIAR-10001")
    assert found == []
    assert (h.title, h.experiment_type, h.emdb_entries) == (
        "Vibrio cholerae toxin-coregulated pilus machine", "EMDB", ["EMD-8000"])
    assert [(p.name, p.order) for p in h.authors] == [("Smith JW", 1), ("Test T", 2)]
    assert h.corresponding_author.country == "United States"
    assert h.corresponding_author.telephone == "012345" and h.corresponding_author.fax is None
    [c] = h.citations
    assert (c.journal, c.published, c.doi, c.pubmed, c.country) == (
        True, True, "10.1038/nmicrobiol.2016.269", "28165453", "United States")
    assert (h.status, h.release_date) == ("PROC", None)  # RE: released after processing


def test_hold_for_a_year_sets_the_release_date(tmp_path):
    data = working_example() | {"release_date": "HO"}
    h, _ = header(tmp_path, data, deposition_date="2024-02-29")
    assert h.release_date == "2025-02-28"


def test_bad_values_and_missing_items(tmp_path):
    data = working_example()
    data["corresponding_author"]["country"] = "USA"
    data["corresponding_author"].pop("email")
    data["authors"][1]["name"] = "Test T"
    data["authors"][0]["order_id"] = 5
    data["release_date"] = "NOW"
    data["cross_references"] = []
    data["citation"][0]["j_or_nj_citation"] = False
    h, found = header(tmp_path, data, accession_code="EMPIAR-1")
    got = [(f.rule, f.message) for f in found]
    for rule, text in (
        ("M103", "corresponding_author.country: country 'USA' is not an ISO 3166-1 alpha-2"),
        ("M104", "corresponding_author has no email"),
        ("M103", "authors[1].name: author name 'Test T' is not in the deposition form"),
        ("M113", "authors order_id values are [5]"),  # the unreadable name is left out
        ("M103", "release_date 'NOW' is not one of RE, EP, HP, HO"),
        ("M104", "EMDB reference"),
        ("M103", "accession code 'EMPIAR-1' is not EMPIAR-NNNNN"),
        ("M115", "deposition date not given yet"),
        ("M114", "workflow file 'data/workflow.json' not found"),
    ):
        assert any(r == rule and m.startswith(text) for r, m in got), (rule, text, got)
    assert not h.citations[0].journal  # j_or_nj_citation false: a book or thesis
    # the accession code was given (badly: M103), so it is not also "not given yet"
    assert [m.split(" not given")[0] for r, m in got if r == "M115"] == ["deposition date"]


def test_accession_code_and_deposition_date_may_wait_for_empiar(tmp_path):
    """Before deposition neither is known: warnings (M115), never errors, and none once given."""
    data = working_example()
    (tmp_path / "workflow.json").write_text("{}", encoding="utf-8")
    h, found = header(tmp_path, data)
    assert (h.accession_code, h.deposition_date) == (None, None)
    assert sorted((f.rule, str(f.severity), f.message.split(" not given")[0]) for f in found) == [
        ("M115", "warning", "accession code"), ("M115", "warning", "deposition date")]
    assert all("--accession-code" in f.message or "--deposition-date" in f.message
               for f in found)
    _, found = header(tmp_path, data | {"accession_code": "EMPIAR-10001",
                                        "deposition_date": "2024-05-02"})
    assert found == []


def test_without_metadata_every_required_item_is_named(tmp_path):
    h, found = entry_header(None, HeaderOptions(), present=on_disk(tmp_path))
    assert h.title is None and h.authors == []
    assert {f.rule for f in found} == {"M104", "M105", "M115"}
    assert all("no --metadata file" in f.message for f in found)
    assert len(found) == 9


# --------------------------------------------------------------------------- image sets


def _derived() -> ImageSet:
    rec = FileRecord("movies/a.tiff", format="TIFF", header_format="TIFF",
                     voxel_type="UNSIGNED BYTE", width=64, height=48, depth=6, pixel_width=1.0,
                     pixel_height=1.0, layout="stack")
    s = ImageSet("Micrographs - multiframe (movies)", "/data/movies", "movies",
                 category="micrographs - multiframe", header_format="TIFF", data_format="TIFF",
                 num_images_or_tilt_series=1, frames_per_image=6, voxel_type="UNSIGNED BYTE",
                 image_width=64, image_height=48, pixel_width=1.0, pixel_height=1.0,
                 files=[rec])
    s.derived = {"header_format", "data_format", "num_images_or_tilt_series", "frames_per_image",
                 "voxel_type", "image_width", "image_height", "pixel_width", "pixel_height"}
    return s


def _apply(tmp_path: Path, entries: list[dict]):
    meta, _ = load(tmp_path, json.dumps({"imagesets": entries}, indent=2))
    found_entries, found = metadata_entries(meta)
    sets, more, renamed = apply_metadata(meta, found_entries, [_derived()], str)
    return sets, found + more, renamed


def test_metadata_overrides_names_and_completes_but_headers_win_numbers(tmp_path):
    sets, found, renamed = _apply(tmp_path, [{
        "directory": "/data/movies", "name": "Movies", "details": "Dose 1 e/A2.",
        "frames_per_image": 40, "num_images_or_tilt_series": 1, "pixel_width": 0.5,
        "voxel_type": "('T1', '')", "category": "('T1', '')",
    }])
    [s] = sets
    assert (s.name, s.details, s.frames_per_image, s.pixel_width) == (
        "Movies", "Dose 1 e/A2.", 6, 0.5)
    assert renamed == {"Micrographs - multiframe (movies)": "Movies"}
    by_rule = {f.rule: f for f in found}
    assert by_rule["M106"].severity == "error" and by_rule["M106"].field_name == "framesPerImage"
    assert (by_rule["M106"].expected, by_rule["M106"].actual) == ("40", "6")
    assert by_rule["M106"].line == 7  # the frames_per_image line
    assert by_rule["M107"].severity == "warning"
    assert by_rule["M110"].severity == "warning"  # single frame, but the files are movies
    assert sorted(by_rule) == ["M106", "M107", "M110"]


def test_metadata_directory_without_files_and_duplicates(tmp_path):
    sets, found, _ = _apply(tmp_path, [
        {"directory": "/data/movies"}, {"directory": "/data/movies/"},
        {"directory": "/data/nothing", "name": "Ghost", "category": "('T1', '')"},
        {"directory": "movies"},
    ])
    assert sorted(f.rule for f in found) == ["M103", "M104", "M104", "M104", "M104", "M104",
                                             "M104", "M104", "M104", "M104", "M108", "M112"]
    ghost = next(s for s in sets if s.name == "Ghost")
    assert ghost.directory == "/data/nothing" and ghost.files == []
