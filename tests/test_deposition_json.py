"""deposition.json against EMPIAR's own deposition schema, read from the installed package."""

from __future__ import annotations

import copy
import json
from importlib.resources import files

import pytest

from empiar_validate.model import ImageSet
from empiar_validate.package.deposition import (
    P_MISSING_FIELD,
    P_NO_METADATA,
    code,
    deposition_json,
    dump_json,
)

jsonschema = pytest.importorskip("jsonschema")


def depositor_schema() -> dict:
    """empiar_deposition.schema.json as shipped inside the empiar-depositor package."""
    return json.loads((files("empiar_depositor") / "empiar_deposition.schema.json").read_text())


def working_example() -> dict:
    """empiar-depositor's own example metadata (tests/deposition_json/working_example.json)."""
    path = files("empiar_depositor") / "tests" / "deposition_json" / "working_example.json"
    return json.loads(path.read_text())


def schema_errors(doc: dict) -> list[str]:
    schema = depositor_schema()
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in cls(schema).iter_errors(doc))


def image_sets() -> list[ImageSet]:
    return [
        ImageSet("Raw movies", "/data/movies", "movies", category="micrographs - multiframe",
                 header_format="TIFF", data_format="TIFF", num_images_or_tilt_series=12,
                 frames_per_image=40, voxel_type="UNSIGNED BYTE", image_width=4096,
                 image_height=4096, pixel_width=0.83, pixel_height=0.83,
                 details="Gain reference rotated 90 degrees.",
                 micrographs_file_pattern="data/movies/*.tif"),
        ImageSet("Particles", "/data/particles", "particles",
                 category="picked particles - single frame - processed",
                 header_format="MRCS", data_format="MRCS", num_images_or_tilt_series=5000,
                 frames_per_image=1, voxel_type="32 BIT FLOAT", image_width=256,
                 image_height=256, pixel_width="variable", pixel_height="variable"),
        ImageSet("Tilts", "/data/tilts", "tilts", category="micrographs - tilt series",
                 header_format="MRC", data_format="HDF5", num_images_or_tilt_series=3,
                 frames_per_image=41, frame_range_min=1, frame_range_max=41,
                 voxel_type="16 BIT FLOAT", image_width="variable", image_height=2048),
        ImageSet("Views", "/data/bdv", "bdv", category="reconstructed volumes",
                 header_format="XML", data_format="BIG DATA VIEWER HDF5",
                 num_images_or_tilt_series=1, frames_per_image=1, voxel_type="4 BIT INTEGER"),
    ]


def test_codes_in_and_outside_empiars_lists():
    assert code("category", "micrographs - multiframe") == "('T2', '')"
    assert code("category", "subtomograms") == "('T14', '')"
    assert code("category", "micrographs - tilt series") == "('OT', 'micrographs - tilt series')"
    assert code("header_format", "XML") == "('T8', '')"
    assert code("data_format", "BIG DATA VIEWER HDF5") == "('T8', '')"
    assert code("data_format", "EER") == "('T9', '')"
    assert code("voxel_type", "BIT") == "('T8', '')"
    assert code("voxel_type", "16 BIT FLOAT") == "('OT', '16 BIT FLOAT')"
    assert code("data_format", "Hdf-5 (legacy)") == "('OT', 'HDF 5 LEGACY')"


def test_full_document_is_accepted_by_empiars_schema():
    metadata = working_example()
    doc, findings = deposition_json(
        image_sets(), metadata,
        details={"/data/movies": "Extracted from file headers by empiar-validate: 300 kV."})
    assert schema_errors(doc) == []
    assert findings == []
    movies, particles, tilts, views = doc["imagesets"]
    assert movies == {
        "name": "Raw movies", "directory": "/data/movies", "category": "('T2', '')",
        "header_format": "('T3', '')", "data_format": "('T3', '')",
        "num_images_or_tilt_series": 12, "frames_per_image": 40, "frame_range_min": None,
        "frame_range_max": None, "voxel_type": "('T1', '')", "pixel_width": 0.83,
        "pixel_height": 0.83,
        "details": "Gain reference rotated 90 degrees.\n\n"
                   "Extracted from file headers by empiar-validate: 300 kV.",
        "image_width": 4096, "image_height": 4096,
        "micrographs_file_pattern": "data/movies/*.tif",
    }
    assert (particles["category"], particles["voxel_type"]) == ("('T7', '')", "('T7', '')")
    assert particles["pixel_width"] is None and particles["num_images_or_tilt_series"] == 5000
    assert tilts["category"] == "('OT', 'micrographs - tilt series')"
    assert tilts["data_format"] == "('OT', 'HDF5')"
    assert tilts["voxel_type"] == "('OT', '16 BIT FLOAT')"
    assert (tilts["image_width"], tilts["image_height"]) == (None, 2048)
    assert (tilts["frame_range_min"], tilts["frame_range_max"]) == (1, 41)
    assert (views["header_format"], views["data_format"], views["voxel_type"]) == (
        "('T8', '')", "('T8', '')", "('T9', '')")
    # every metadata field is carried over unchanged, in the example's order
    for key, value in metadata.items():
        if key != "imagesets":
            assert doc[key] == value
    assert list(doc) == list(metadata)


def test_dump_is_stable_utf8():
    doc, _ = deposition_json(image_sets(), working_example(),
                             details={"/data/movies": "pixel size 0.83 Å"})
    data = dump_json(doc)
    assert data == dump_json(copy.deepcopy(doc)) and data.endswith(b"}\n")
    assert "0.83 Å".encode() in data  # readable UTF-8, not \u escapes
    assert json.loads(data) == doc


def test_missing_values_are_findings_and_the_schema_agrees():
    incomplete = ImageSet("Unknown", "/data/x", "x", header_format="MRC", data_format="MRC")
    metadata = working_example()
    del metadata["citation"]
    doc, findings = deposition_json([incomplete], metadata)
    got = sorted((f.rule, f.field_name) for f in findings)
    assert got == [(P_MISSING_FIELD.id, "category"), (P_MISSING_FIELD.id, "citation"),
                   (P_MISSING_FIELD.id, "frames_per_image"),
                   (P_MISSING_FIELD.id, "num_images_or_tilt_series"),
                   (P_MISSING_FIELD.id, "voxel_type")]
    errors = schema_errors(doc)
    for name in ("'citation' is a required property", "'category' is a required property",
                 "'voxel_type' is a required property",
                 "'num_images_or_tilt_series' is a required property"):
        assert any(name in e for e in errors), errors


def test_without_metadata_only_image_sets_and_one_warning():
    doc, findings = deposition_json(image_sets()[:1], {})
    assert list(doc) == ["imagesets"]
    assert [f.rule for f in findings] == [P_NO_METADATA.id]


def test_keys_outside_the_deposition_schema_are_not_carried():
    metadata = working_example() | {"accession_code": "EMPIAR-10001", "tittle": "typo",
                                     "imagesets": [{"name": "ignored"}]}
    doc, findings = deposition_json(image_sets(), metadata)
    assert "tittle" not in doc and "accession_code" not in doc
    assert doc["imagesets"][0]["name"] == "Raw movies" and findings == []
    assert schema_errors(doc) == []


def test_no_image_sets_is_an_error():
    doc, findings = deposition_json([], working_example())
    assert [f.field_name for f in findings] == ["imagesets"]
    assert any("imagesets" in e for e in schema_errors(doc))


def test_unknown_frames_are_left_out_and_reported():
    from empiar_validate.model import ImageSet
    from empiar_validate.package.deposition import deposition_json

    doc, findings = deposition_json(
        [ImageSet(name="Movies", directory="/data/movies", rel_dir="movies",
                  category="micrographs - multiframe")], {"title": "A title of ten chars"})
    [entry] = doc["imagesets"]
    assert "frames_per_image" not in entry
    assert any(f.rule == "P121" and "frames_per_image" in f.message for f in findings)


def test_yaml_dates_are_written_as_iso_text():
    import datetime
    import json

    from empiar_validate.package.deposition import dump_json

    out = json.loads(dump_json({"citation": [{"details": datetime.date(2024, 5, 2)}]}))
    assert out == {"citation": [{"details": "2024-05-02"}]}


def test_values_take_the_schemas_types_and_the_written_json_is_validated():
    """The schema's own examples write "scale": 3, but it asks for a string: the metadata's
    number becomes "1" and the JSON passes; a value the schema refuses is P122."""
    from empiar_validate.package.deposition import P_SCHEMA, schema_findings, schema_typed

    doc = working_example()
    doc["scale"] = schema_typed("scale", 1)
    assert doc["scale"] == "1" and schema_findings(doc) == []
    assert schema_typed("experiment_type", "3") == 3
    doc["scale"] = "9"
    [f] = schema_findings(doc)
    assert f.rule == P_SCHEMA.id and "deposition.json.scale" in f.message
