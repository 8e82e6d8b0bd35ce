"""What EMPIAR has published validates: vocabulary of released entries and directory spellings.

A released header never fails: values EMPIAR published outside today's deposition vocabulary
are S127 warnings, and the directory forms EMPIAR writes (``/data`` itself, ``data/...``, a
trailing slash) are accepted (S110) and compared as one directory (S126, S122).
"""

from __future__ import annotations

import pytest
from released_headers import (
    ENTRY_10318,
    ENTRY_10511,
    ENTRY_10934,
    PUBLISHED_CATEGORIES,
    PUBLISHED_VOXEL_TYPES,
    header,
)

from empiar_validate.findings import Severity
from empiar_validate.validation import load_schemas, validate_tree
from empiar_validate.xmlsafe import parse_xml_bytes


def findings_of(text: str):
    tree, problems = parse_xml_bytes(text.encode("utf-8"), name="entry.xml")
    assert tree is not None, problems
    return validate_tree(tree, "entry.xml", load_schemas())


def errors(findings):
    return [f for f in findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize("category", PUBLISHED_CATEGORIES)
def test_published_category_validates_with_a_warning(category):
    frames = 1 if category.startswith("micrographs - single frame") else 45
    found = findings_of(header({**ENTRY_10934, "category": category, "framesPerImage": frames}))
    assert errors(found) == []
    assert [(f.rule, f.severity) for f in found] == [("S127", Severity.WARNING)]
    assert category in found[0].message


@pytest.mark.parametrize("voxel", PUBLISHED_VOXEL_TYPES)
def test_published_voxel_type_validates_with_a_warning(voxel):
    found = findings_of(header({**ENTRY_10934, "voxelType": voxel}))
    assert [(f.rule, f.severity) for f in found] == [("S127", Severity.WARNING)]


def test_single_frame_variants_still_need_one_frame():
    found = findings_of(header({
        **ENTRY_10934, "category": "micrographs - single frame - no-doseweighted",
        "framesPerImage": 45,
    }))
    assert "S105" in {f.rule for f in errors(found)}


def test_released_entries_validate_clean():
    # 10934 as released (/data/...), 10511 in /data itself, 10318 in the API spelling "data"
    assert findings_of(header(ENTRY_10934)) == []
    assert findings_of(header(ENTRY_10511)) == []
    assert findings_of(header(ENTRY_10318, experiment="MicroED")) == []


@pytest.mark.parametrize("directory", [
    "/data", "data", "/data/", "data/", "data/movies", "/data/movies/", "data/movies/",
])
def test_directory_spellings_are_valid(directory):
    found = findings_of(header({**ENTRY_10511, "directory": directory,
                                "micrographsFilePattern": "data/movies/*.mrc"
                                if "movies" in directory else "data/*.mrc"}))
    assert found == []


@pytest.mark.parametrize("directory", ["/movies", "/database/x", "/data//x", "datasets/x", "/"])
def test_directories_outside_data_fail(directory):
    found = findings_of(header({**ENTRY_10511, "directory": directory,
                                "micrographsFilePattern": ""}))
    assert [f.rule for f in found] == ["S110"]


@pytest.mark.parametrize("first, second", [
    ("/data/a", "data/a"), ("data/a", "/data/a"), ("/data/a/", "/data/a"), ("data/a/", "data/a"),
    ("/data", "data"), ("data/", "/data"),
])
def test_one_directory_in_two_spellings_is_one_duplicate(first, second):
    pattern = "data/a/*.mrc" if "a" in first.replace("data", "") else "data/*.mrc"
    found = findings_of(header(
        {**ENTRY_10511, "name": "one", "directory": first, "micrographsFilePattern": pattern},
        {**ENTRY_10511, "name": "two", "directory": second, "micrographsFilePattern": pattern},
    ))
    assert [f.rule for f in found] in (["S126"], ["S111"])
    assert len(found) == 1


def test_distinct_directories_in_unusual_spellings_are_not_duplicates():
    found = findings_of(header(
        {**ENTRY_10511, "name": "one", "directory": "data/a/", "micrographsFilePattern": ""},
        {**ENTRY_10511, "name": "two", "directory": "data/ab", "micrographsFilePattern": ""},
        {**ENTRY_10511, "name": "three", "directory": "/data", "micrographsFilePattern": ""},
    ))
    assert found == []


def test_file_pattern_outside_a_data_directory_set_is_warned():
    found = findings_of(header({**ENTRY_10511, "directory": "/data/a/",
                                "micrographsFilePattern": "data/b/*.mrc"}))
    assert [f.rule for f in found] == ["S122"]
