"""HDF5 and BigDataViewer header reader: real files from pybdv and h5py, hostile files, and the
companion XML. Every file is tiny; no test reads pixel data."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
import warnings

import h5py
import numpy as np
import pytest
from bdvwriters import write_bdv, write_xml

# hdf5: the reader's rules, registered with the real limits (HDF5 files are read in worker
# processes, so otherwise its first import could come inside a test that patched the limits)
from empiar_validate.formats import bdv_xml, h5model, h5tree, read_header, registry
from empiar_validate.formats import hdf5 as _hdf5  # noqa: F401


@pytest.fixture(autouse=True, params=["pure-python", "libhdf5"])
def hdf5_reader(request, monkeypatch):
    """Every test runs twice: once as shipped (BigDataViewer files the pure-Python reader of
    formats/bdv_fast.py covers are read by it, in process) and once with libhdf5 alone, so
    both readers are held to the same findings."""
    if request.param == "libhdf5":
        reader = dataclasses.replace(registry.BY_KEY["hdf5"], fast=None)
        monkeypatch.setitem(registry.BY_KEY, "hdf5", reader)
    return request.param


def rules(record):
    return sorted(p.rule for p in record.problems)


def finding(record, rule_id):
    found = [p for p in record.problems if p.rule == rule_id]
    assert found, f"{rule_id} not in {[(p.rule, p.message) for p in record.problems]}"
    return found[0]


# --- BigDataViewer files written by pybdv (real software) ----------------------------------


@pytest.fixture(scope="module")
def pybdv_files(tmp_path_factory):
    """Two BDV datasets written by pybdv: 2 setups x 2 timepoints uint16, and one uint8."""
    import pybdv

    folder = tmp_path_factory.mktemp("pybdv")
    vol = np.arange(5 * 6 * 8, dtype="uint16").reshape(5, 6, 8)  # z y x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for setup, tp in ((0, 0), (1, 0), (0, 1), (1, 1)):
            pybdv.make_bdv(
                vol, str(folder / "multi.h5"), downscale_factors=[[1, 2, 2]],
                resolution=[1.0, 0.5, 0.25], unit="micrometer", setup_id=setup, timepoint=tp,
            )
        pybdv.make_bdv(
            vol.astype("uint8"), str(folder / "bytes.h5"), resolution=[2.0, 2.0, 2.0],
            unit="nm", setup_id=0, timepoint=0,
        )
    return folder


def test_pybdv_multi_setup_file(pybdv_files):
    rec = read_header(pybdv_files / "multi.h5", "multi.h5")
    assert rec.format == "BIG DATA VIEWER HDF5"
    assert rec.header_format == "XML"
    assert (rec.width, rec.height, rec.depth) == (8, 6, 5)
    assert rec.voxel_type == "UNSIGNED 16 BIT INTEGER"  # pybdv stores uint16 as legacy int16
    assert rec.pixel_width == 2500.0  # 0.25 µm
    assert rec.pixel_height == 5000.0
    assert rec.extra["pixel_depth"] == 10000.0
    assert rec.layout == "volume"
    assert rec.extra["setups"] == 2
    assert rec.extra["timepoints"] == 2
    assert rec.extra["levels"] == 2
    assert rec.extra["stored_dtype"] == "int16"
    assert rec.extra["xml"] == "multi.xml"
    assert [s["size_xyz"] for s in rec.extra["bdv_setups"]] == [[8, 6, 5], [8, 6, 5]]
    assert rec.problems == []


def test_pybdv_uint8_without_data_type_attribute(pybdv_files):
    rec = read_header(pybdv_files / "bytes.h5", "bytes.h5")
    assert rec.voxel_type == "UNSIGNED BYTE"
    assert rec.pixel_width == rec.pixel_height == 20.0  # 2 nm
    assert rec.extra["levels"] == 1
    assert rules(rec) == ["F426"]
    assert "/s00 (uint8)" in finding(rec, "F426").message


def test_missing_companion_xml(pybdv_files, tmp_path):
    shutil.copy(pybdv_files / "bytes.h5", tmp_path / "alone.h5")
    rec = read_header(tmp_path / "alone.h5", "alone.h5")
    assert rec.format == "BIG DATA VIEWER HDF5"
    assert rec.pixel_width is None and rec.pixel_height is None
    assert "F420" in rules(rec)
    assert rec.width == 8


# --- BigDataViewer files written by hand ----------------------------------------------------


def test_hand_written_bdv_with_data_type_and_angstrom(tmp_path):
    write_bdv(tmp_path / "d.h5", {0: ((7, 9, 11), "float32")}, timepoints=(0, 1, 2),
              levels=3, data_type="float32")
    write_xml(tmp_path / "d.xml", "d.h5", {0: "11 9 7"}, unit="Å", voxel="1.06 1.06 2.12")
    rec = read_header(tmp_path / "d.h5", "d.h5")
    assert rec.problems == []
    assert rec.voxel_type == "32 BIT FLOAT"
    assert (rec.width, rec.height, rec.depth) == (11, 9, 7)
    assert (rec.pixel_width, rec.pixel_height) == (1.06, 1.06)
    assert rec.extra["timepoints"] == 3
    assert rec.extra["levels"] == 3
    assert rec.extra["bdv_data_type"] == "float32"


@pytest.mark.parametrize(("unit", "angstrom"), [
    ("nm", 15.0), ("µm", 15000.0), ("μm", 15000.0), ("um", 15000.0), ("micron", 15000.0),
    ("mm", 15000000.0), ("Å", 1.5), ("angstrom", 1.5),
])
def test_voxel_size_units(tmp_path, unit, angstrom):
    write_bdv(tmp_path / "u.h5", {0: ((2, 3, 4), "int16")})
    write_xml(tmp_path / "u.xml", "u.h5", {0: "4 3 2"}, unit=unit, voxel="1.5 1.5 1.5")
    rec = read_header(tmp_path / "u.h5", "u.h5")
    assert rec.pixel_width == rec.pixel_height == angstrom
    assert rec.problems == []


def test_single_plane_setup_is_an_image(tmp_path):
    write_bdv(tmp_path / "p.h5", {0: ((1, 3, 4), "int16")})
    write_xml(tmp_path / "p.xml", "p.h5", {0: "4 3 1"})
    rec = read_header(tmp_path / "p.h5", "p.h5")
    assert (rec.layout, rec.depth) == ("image", 1)


def test_pixel_unit_and_bad_voxel_size(tmp_path):
    write_bdv(tmp_path / "a.h5", {0: ((2, 3, 4), "int16")})
    write_xml(tmp_path / "a.xml", "a.h5", {0: "4 3 2"}, unit="pixel", voxel="1 1 1")
    rec = read_header(tmp_path / "a.h5", "a.h5")
    assert rules(rec) == ["F424"]
    assert rec.pixel_width is None
    write_xml(tmp_path / "a.xml", "a.h5", {0: "4 3 2"}, unit="nm", voxel="1 -1 nan")
    rec = read_header(tmp_path / "a.h5", "a.h5")
    assert rules(rec) == ["F425"]
    assert finding(rec, "F425").line is not None
    assert rec.pixel_width is None


def test_xml_size_mismatch_is_an_error_with_a_line(tmp_path):
    write_bdv(tmp_path / "m.h5", {0: ((2, 3, 4), "int16")})
    write_xml(tmp_path / "m.xml", "m.h5", {0: "4 3 5"})
    rec = read_header(tmp_path / "m.h5", "data/m.h5")
    f = finding(rec, "F423")
    assert f.severity == "error"
    assert f.file == "data/m.xml"
    assert f.line == 7  # the <size> element
    assert (f.expected, f.actual) == ("4 3 5", "4 3 2")
    assert not rec.ok


def test_xml_and_hdf5_setups_must_agree(tmp_path):
    write_bdv(tmp_path / "s.h5", {0: ((2, 3, 4), "int16"), 1: ((2, 3, 4), "int16")})
    write_xml(tmp_path / "s.xml", "s.h5", {0: "4 3 2", 5: "4 3 2"})
    rec = read_header(tmp_path / "s.h5", "s.h5")
    assert "ViewSetup 5 has no /s05" in finding(rec, "F429").message
    assert "/s01" in finding(rec, "F430").message


def test_xml_pointing_at_another_file(tmp_path):
    write_bdv(tmp_path / "mine.h5", {0: ((2, 3, 4), "int16")})
    write_xml(tmp_path / "mine.xml", "other.h5", {0: "4 3 2"})
    rec = read_header(tmp_path / "mine.h5", "mine.h5")
    assert rules(rec) == ["F422"]
    assert "'other.h5'" in finding(rec, "F422").message
    assert rec.pixel_width == 15.0  # the voxel size is still read


def test_xml_with_absolute_path_and_other_loader(tmp_path):
    write_bdv(tmp_path / "abs.h5", {0: ((2, 3, 4), "int16")})
    write_xml(tmp_path / "abs.xml", "abs.h5", {0: "4 3 2"})
    text = (tmp_path / "abs.xml").read_text()
    (tmp_path / "abs.xml").write_text(
        text.replace('<hdf5 type="relative">abs.h5', '<hdf5 type="absolute">/lab/abs.h5')
    )
    assert rules(read_header(tmp_path / "abs.h5", "abs.h5")) == ["F432"]
    (tmp_path / "abs.xml").write_text(text.replace('<hdf5 type="relative">', "<hdf5>"))
    rec = read_header(tmp_path / "abs.h5", "abs.h5")
    assert 'without type="relative"' in finding(rec, "F432").message
    (tmp_path / "abs.xml").write_text(text.replace('format="bdv.hdf5"', 'format="bdv.n5"'))
    rec = read_header(tmp_path / "abs.h5", "abs.h5")
    assert "'bdv.n5'" in finding(rec, "F422").message


@pytest.mark.parametrize(("xml", "rule_ids"), [
    # billion laughs: must be refused, never expanded
    ('<?xml version="1.0"?><!DOCTYPE SpimData [<!ENTITY a "aaaaaaaaaa">'
     '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
     "<SpimData>&c;</SpimData>", ["X002"]),
    # external entity: must never be read
    ('<?xml version="1.0"?><!DOCTYPE SpimData [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     "<SpimData>&x;</SpimData>", ["X002"]),
    ("<SpimData><unclosed></SpimData>", ["X001"]),
    (b"\xff\xfe garbage".decode("latin-1"), ["X001"]),
    ("<Other/>", ["F421"]),
    ("<SpimData><SequenceDescription/></SpimData>", ["F421", "F430"]),
])
def test_hostile_or_broken_xml_is_refused(tmp_path, xml, rule_ids):
    write_bdv(tmp_path / "h.h5", {0: ((2, 3, 4), "int16")})
    (tmp_path / "h.xml").write_text(xml, encoding="utf-8")
    rec = read_header(tmp_path / "h.h5", "h.h5")
    assert rules(rec) == rule_ids
    assert finding(rec, rule_ids[0]).file == "h.xml"
    assert "root:" not in json.dumps(rec.to_dict())  # /etc/passwd's first line never appears
    assert rec.pixel_width is None
    assert rec.width == 4  # the HDF5 side is still described


def test_xml_that_is_a_fifo_is_not_opened(tmp_path):
    import os

    write_bdv(tmp_path / "q.h5", {0: ((2, 3, 4), "int16")})
    os.mkfifo(tmp_path / "q.xml")
    rec = read_header(tmp_path / "q.h5", "q.h5")
    assert "not a regular file" in finding(rec, "X004").message


def test_data_type_attribute_disagreeing_with_cells(tmp_path):
    write_bdv(tmp_path / "t.h5", {0: ((2, 3, 4), "int16")}, data_type="uint16")
    write_xml(tmp_path / "t.xml", "t.h5", {0: "4 3 2"})
    rec = read_header(tmp_path / "t.h5", "t.h5")
    assert rec.voxel_type == "UNSIGNED 16 BIT INTEGER"
    assert "dataType uint16 but cells are int16" in finding(rec, "F427").message
    write_bdv(tmp_path / "t.h5", {0: ((2, 3, 4), "int16")}, data_type="rgb")
    rec = read_header(tmp_path / "t.h5", "t.h5")
    assert "'rgb' is not a BDV type" in finding(rec, "F427").message


def test_pyramid_metadata_inconsistent(tmp_path):
    write_bdv(tmp_path / "r.h5", {0: ((8, 8, 8), "int16")}, levels=2, res_rows=3,
              subdivisions=False)
    write_xml(tmp_path / "r.xml", "r.h5", {0: "8 8 8"})
    rec = read_header(tmp_path / "r.h5", "r.h5")
    msg = finding(rec, "F428").message
    assert "lists 3 levels, the data has 2" in msg
    assert "subdivisions is missing" in msg


def test_setups_of_different_shapes(tmp_path):
    write_bdv(tmp_path / "k.h5", {0: ((2, 3, 4), "int16"), 1: ((5, 6, 7), "int16")})
    write_xml(tmp_path / "k.xml", "k.h5", {0: "4 3 2", 1: "7 6 5"})
    rec = read_header(tmp_path / "k.h5", "k.h5")
    assert rules(rec) == ["F431"]
    assert (rec.width, rec.height, rec.depth) == (4, 3, 2)


def test_broken_bdv_without_cells(tmp_path):
    with h5py.File(tmp_path / "b.h5", "w") as f:
        f["s00/resolutions"] = np.ones((1, 3))
        f["s00/subdivisions"] = np.ones((1, 3))
        f.create_group("t00000/s00/0")
    rec = read_header(tmp_path / "b.h5", "b.h5")
    assert rec.format == "BIG DATA VIEWER HDF5"
    assert "/t00000/s00/0/cells is missing" in finding(rec, "F429").message
    assert rec.width is None


def test_partitioned_bdv_master_is_not_followed(tmp_path):
    """BigDataViewer's partitioned export: the master links each view to a partition file."""
    write_bdv(tmp_path / "p-00-00.h5", {0: ((2, 3, 4), "int16")})
    with h5py.File(tmp_path / "p.h5", "w") as f:
        f["s00/resolutions"] = np.ones((1, 3))
        f["s00/subdivisions"] = np.ones((1, 3))
        f.create_group("t00000")
        f["t00000/s00"] = h5py.ExternalLink("p-00-00.h5", "/t00000/s00")
    write_xml(tmp_path / "p.xml", "p.h5", {0: "4 3 2"},
              extra='<partition><path type="relative">p-00-00.h5</path></partition>')
    rec = read_header(tmp_path / "p.h5", "p.h5")
    assert rules(rec) == ["F405"]
    assert "p-00-00.h5" in finding(rec, "F405").message
    assert rec.extra["size_from"] == "xml"
    assert (rec.width, rec.height, rec.depth) == (4, 3, 2)
    assert rec.voxel_type is None  # only the partition file knows
    # the partition file finds the master's XML and is listed there
    part = read_header(tmp_path / "p-00-00.h5", "p-00-00.h5")
    assert part.problems == []
    assert part.extra["xml"] == "p.xml"


def test_bdv_soft_link_loop_terminates(tmp_path):
    with h5py.File(tmp_path / "l.h5", "w") as f:
        f["s00/resolutions"] = np.ones((1, 3))
        f["s00/subdivisions"] = np.ones((1, 3))
        f.create_group("t00000")
        f["t00000/s00"] = h5py.SoftLink("/t00000/s01")
        f["t00000/s01"] = h5py.SoftLink("/t00000/s00")
    rec = read_header(tmp_path / "l.h5", "l.h5")
    assert rec.format == "BIG DATA VIEWER HDF5"
    assert rec.width is None


def test_bdv_soft_link_to_a_view_is_resolved(tmp_path):
    write_bdv(tmp_path / "v.h5", {0: ((2, 3, 4), "int16")})
    with h5py.File(tmp_path / "v.h5", "a") as f:
        f.move("t00000/s00", "store")
        f["t00000/s00"] = h5py.SoftLink("/store")
    write_xml(tmp_path / "v.xml", "v.h5", {0: "4 3 2"})
    rec = read_header(tmp_path / "v.h5", "v.h5")
    assert rec.problems == []
    assert rec.width == 4


def test_bdv_absurd_cells(tmp_path):
    with h5py.File(tmp_path / "z.h5", "w") as f:
        f["s00/resolutions"] = np.ones((1, 3))
        f["s00/subdivisions"] = np.ones((1, 3))
        f.create_dataset("t00000/s00/0/cells", shape=(2**40, 2**40, 2**40), chunks=(1, 1, 1),
                         dtype="int16")
    rec = read_header(tmp_path / "z.h5", "z.h5")
    assert "F408" in rules(rec)
    assert rec.width is None


# --- other HDF5 files ----------------------------------------------------------------------


def test_generic_dominant_stack(tmp_path):
    with h5py.File(tmp_path / "g.h5", "w") as f:
        f.create_dataset("entry/data", shape=(10, 20, 30), dtype="uint16")
        f["entry/mask"] = np.zeros((20, 30), dtype="uint8")
        f["entry/title"] = "a string"
        f["entry/angles"] = np.zeros(10)
        f["link"] = h5py.SoftLink("/entry/data")
    rec = read_header(tmp_path / "g.h5", "g.h5")
    assert (rec.format, rec.header_format) == ("HDF5", "HDF5")
    assert (rec.width, rec.height, rec.depth) == (30, 20, 10)
    assert rec.voxel_type == "UNSIGNED 16 BIT INTEGER"
    assert rec.layout == "stack"
    assert rec.extra["image_dataset"] == "/entry/data"
    assert rec.extra["datasets"] == [
        {"path": "/entry/angles", "shape": [10], "dtype": "float64"},
        {"path": "/entry/data", "shape": [10, 20, 30], "dtype": "uint16"},
        {"path": "/entry/mask", "shape": [20, 30], "dtype": "uint8"},
        {"path": "/entry/title", "shape": [], "dtype": "string"},
    ]
    assert rec.extra["soft_links"] == [{"path": "/link", "target": "/entry/data"}]
    assert rec.problems == []


def test_generic_single_image(tmp_path):
    with h5py.File(tmp_path / "i.h5", "w") as f:
        f.create_dataset("img", shape=(20, 30), dtype="float32")
    rec = read_header(tmp_path / "i.h5", "i.h5")
    assert (rec.width, rec.height, rec.depth, rec.layout) == (30, 20, 1, "image")
    assert rec.voxel_type == "32 BIT FLOAT"


def test_generic_without_dominant_dataset(tmp_path):
    with h5py.File(tmp_path / "two.h5", "w") as f:
        f.create_dataset("raw", shape=(4, 8, 8), dtype="uint8")
        f.create_dataset("labels", shape=(4, 8, 8), dtype="uint32")
    rec = read_header(tmp_path / "two.h5", "two.h5")
    assert rules(rec) == ["F406"]
    assert finding(rec, "F406").severity == "info"
    assert "/labels" in finding(rec, "F406").message and "/raw" in finding(rec, "F406").message
    assert rec.width is None and rec.voxel_type is None


def test_generic_without_image_dataset(tmp_path):
    with h5py.File(tmp_path / "none.h5", "w") as f:
        f["table"] = np.zeros(5, dtype=[("a", "i4"), ("b", "f8")])
        f["vec"] = np.zeros(5)
        f["empty"] = h5py.Empty("f4")
    rec = read_header(tmp_path / "none.h5", "none.h5")
    assert rules(rec) == ["F407"]
    dtypes = {d["path"]: d["dtype"] for d in rec.extra["datasets"]}
    assert dtypes == {"/empty": "float32", "/table": "compound", "/vec": "float64"}


def test_eman2_stack(tmp_path):
    with h5py.File(tmp_path / "ptcls.hdf", "w") as f:
        images = f.create_group("MDF/images")
        images.attrs["imageid_max"] = 2
        for i in range(3):
            g = images.create_group(str(i))
            g.attrs["EMAN.apix_x"] = 1.35
            g.attrs["EMAN.apix_y"] = 1.35
            g.create_dataset("image", shape=(16, 24), dtype="float32")
    rec = read_header(tmp_path / "ptcls.hdf", "ptcls.hdf")
    assert rec.format == "HDF5"
    assert (rec.width, rec.height, rec.depth, rec.layout) == (24, 16, 3, "stack")
    assert (rec.pixel_width, rec.pixel_height) == (1.35, 1.35)
    assert rec.extra["eman2_images"] == 3
    assert rec.problems == []


def test_eman2_volume(tmp_path):
    with h5py.File(tmp_path / "map.hdf", "w") as f:
        f.create_dataset("MDF/images/0/image", shape=(12, 16, 24), dtype="float32")
    rec = read_header(tmp_path / "map.hdf", "map.hdf")
    assert (rec.width, rec.height, rec.depth, rec.layout) == (24, 16, 12, "volume")
    assert rec.pixel_width is None


def test_external_links_are_never_followed(tmp_path):
    with h5py.File(tmp_path / "target.h5", "w") as f:
        f.create_dataset("big", shape=(100, 100, 100), dtype="uint16")
    with h5py.File(tmp_path / "master.h5", "w") as f:
        f["entry/data_000001"] = h5py.ExternalLink("target.h5", "/big")
        f["entry/escape"] = h5py.ExternalLink("/etc/passwd", "/")
    rec = read_header(tmp_path / "master.h5", "master.h5")
    assert rules(rec) == ["F405"]
    assert rec.width is None
    assert rec.extra["datasets"] == []
    assert rec.extra["external_links"] == [
        {"path": "/entry/data_000001", "file": "target.h5", "object": "/big"},
        {"path": "/entry/escape", "file": "/etc/passwd", "object": "/"},
    ]


def test_dataset_contents_are_never_read(tmp_path):
    """The data of this dataset lives in a raw file that does not exist: any read would fail."""
    raw = tmp_path / "raw.bin"
    raw.write_bytes(bytes(2 * 6 * 8))
    with h5py.File(tmp_path / "ext.h5", "w") as f:
        f.create_dataset("data", shape=(6, 8), dtype="uint16", external=[(str(raw), 0, 96)])
    raw.unlink()
    rec = read_header(tmp_path / "ext.h5", "ext.h5")
    assert rec.problems == []
    assert (rec.width, rec.height) == (8, 6)


def test_hard_link_cycle_terminates(tmp_path):
    with h5py.File(tmp_path / "cyc.h5", "w") as f:
        f.create_dataset("a/data", shape=(3, 4), dtype="int8")
        f["a/b/back"] = f["a"]
    rec = read_header(tmp_path / "cyc.h5", "cyc.h5")
    assert [d["path"] for d in rec.extra["datasets"]] == ["/a/data"]
    assert rec.voxel_type == "SIGNED BYTE"


def test_absurd_shape(tmp_path):
    with h5py.File(tmp_path / "absurd.h5", "w") as f:
        f.create_dataset("data", shape=(2**40, 2**40), chunks=(1, 1), dtype="uint16")
    assert (tmp_path / "absurd.h5").stat().st_size < 100_000
    rec = read_header(tmp_path / "absurd.h5", "absurd.h5")
    assert sorted(rules(rec)) == ["F407", "F408"]
    assert str(2**40) in finding(rec, "F408").message
    assert rec.width is None


def test_too_many_groups_gives_partial_listing(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPIAR_VALIDATE_ISOLATION", "off")  # patched limits are in-process
    with h5py.File(tmp_path / "many.h5", "w") as f:
        f.create_dataset("a_data", shape=(4, 5), dtype="uint8")
        for i in range(300):
            f.create_group(f"g{i:03d}")
    monkeypatch.setattr(h5model, "MAX_OBJECTS", 50)
    rec = read_header(tmp_path / "many.h5", "many.h5")
    assert rules(rec) == ["F403"]
    assert "more than 50" in finding(rec, "F403").message
    assert rec.width == 5  # what was seen is still reported


def test_too_deep_gives_partial_listing(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPIAR_VALIDATE_ISOLATION", "off")  # patched limits are in-process
    with h5py.File(tmp_path / "deep.h5", "w") as f:
        f.create_dataset("/".join(["d"] * 12) + "/x", shape=(2, 2), dtype="uint8")
    monkeypatch.setattr(h5model, "MAX_DEPTH", 8)
    rec = read_header(tmp_path / "deep.h5", "deep.h5")
    assert rules(rec) == ["F403", "F407"]
    monkeypatch.setattr(h5model, "MAX_DEPTH", 32)
    assert rules(read_header(tmp_path / "deep.h5", "deep.h5")) == []


def test_listing_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPIAR_VALIDATE_ISOLATION", "off")  # patched limits are in-process
    with h5py.File(tmp_path / "lots.h5", "w") as f:
        for i in range(12):
            f[f"v{i:02d}"] = np.zeros(3)
    monkeypatch.setattr(h5model, "MAX_LISTED", 5)
    rec = read_header(tmp_path / "lots.h5", "lots.h5")
    assert [d["path"] for d in rec.extra["datasets"]] == [f"/v{i:02d}" for i in range(5)]
    assert rec.extra["datasets_total"] == 12


# --- damaged files -------------------------------------------------------------------------


def test_truncated_file(pybdv_files, tmp_path):
    data = (pybdv_files / "multi.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    rec = read_header(tmp_path / "cut.h5", "cut.h5")
    f = finding(rec, "F401")
    assert f"{len(data) // 2} bytes on disk" in f.message and str(len(data)) in f.message
    assert rules(rec) == ["F401"]


@pytest.mark.parametrize("tail", [bytes(4000), bytes(range(256)) * 16, b"\xff" * 4000])
def test_signature_then_garbage(tmp_path, tail):
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + tail)
    rec = read_header(tmp_path / "junk.h5", "junk.h5")
    assert rules(rec) == ["F400"]
    assert "junk.h5" not in finding(rec, "F400").message


def test_gzip_wrapped_hdf5(pybdv_files, tmp_path):
    data = (pybdv_files / "bytes.h5").read_bytes()
    (tmp_path / "w.h5.gz").write_bytes(gzip.compress(data))
    rec = read_header(tmp_path / "w.h5.gz", "w.h5.gz")
    assert rec.format == "HDF5"
    assert rules(rec) == ["F402"]


def test_output_is_deterministic(pybdv_files):
    one = json.dumps(read_header(pybdv_files / "multi.h5", "m").to_dict(), sort_keys=True)
    two = json.dumps(read_header(pybdv_files / "multi.h5", "m").to_dict(), sort_keys=True)
    assert one == two


def test_no_hdf5_diagnostics_on_stderr(tmp_path, capfd):
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(4000))
    read_header(tmp_path / "junk.h5", "junk.h5")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_unit_table():
    assert bdv_xml.unit_factor(" NM ") == 10.0
    assert bdv_xml.unit_factor("Å") == 1.0  # U+212B ANGSTROM SIGN
    assert bdv_xml.unit_factor("pixel") is None
    assert bdv_xml.unit_factor("furlong") is None


def test_companion_xml_lookup(tmp_path):
    (tmp_path / "x.xml").write_text("<SpimData/>")
    assert bdv_xml.companion_xml(str(tmp_path / "x.h5")) == str(tmp_path / "x.xml")
    assert bdv_xml.companion_xml(str(tmp_path / "x-00-03.h5")) == str(tmp_path / "x.xml")
    assert bdv_xml.companion_xml(str(tmp_path / "y.h5")) is None



def test_damaged_copies_never_escape_as_exceptions(tmp_path):
    """Random byte damage (fixed seed) in a BDV file: every copy gets findings, none a stray
    exception (F009, the dispatcher's safety net) and none takes long."""
    import random
    import time

    write_bdv(tmp_path / "base.h5", {0: ((5, 6, 7), "int16"), 1: ((5, 6, 7), "int16")},
              timepoints=(0, 1), levels=2)
    data = (tmp_path / "base.h5").read_bytes()
    rng = random.Random(1)
    seen = set()
    for i in range(40):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(8, len(damaged))] = rng.randrange(256)
        path = tmp_path / f"m{i}.h5"
        if rng.random() < 0.2:
            damaged = damaged[: rng.randrange(len(data) // 2, len(data))]
        path.write_bytes(bytes(damaged))
        start = time.monotonic()
        rec = read_header(path, path.name)
        assert time.monotonic() - start < 2
        assert "F009" not in rules(rec)
        seen.update(rules(rec))
    assert {"F401", "F404"} <= seen  # the damage did reach the reader's own checks


def test_hdf5_with_a_user_block_is_recognised(tmp_path):
    import h5py
    import numpy as np

    from empiar_validate.formats import read_header

    path = tmp_path / "ublock.h5"
    with h5py.File(path, "w", userblock_size=512) as fh:
        fh.create_dataset("data", data=np.zeros((3, 8, 6), dtype=np.float32))
    rec = read_header(path, "ublock.h5")
    assert (rec.format, rec.width, rec.height, rec.depth) == ("HDF5", 6, 8, 3)


def test_locate_in_one_pass_agrees_with_the_link_by_link_walk(tmp_path):
    """Hard links only: one H5Lget_info per prefix and one open; any other link on the way
    takes the link-by-link walk. Both must agree on every path."""
    with h5py.File(tmp_path / "links.h5", "w") as f:
        f.create_dataset("a/b/c/cells", shape=(2, 3, 4), dtype="int16")
        f["a/soft"] = h5py.SoftLink("/a/b")
        f["a/b/rel"] = h5py.SoftLink("c")
        f["a/b/loop"] = h5py.SoftLink("/a/b/loop")
        f["ext"] = h5py.ExternalLink("elsewhere.h5", "/x/y")
        f["a/hard"] = f["a/b"]  # a second hard link to the same group
        f.create_dataset("d", data=np.zeros(3))
    paths = [b"a", b"a/b/c/cells", b"/a/b/c/cells", b"./a/./b", b"a/soft/c/cells", b"a/b/rel/cells",
             b"a/b/loop/x", b"ext/y/z", b"ext", b"d/x", b"d", b"missing", b"a/missing/x",
             b"a/hard/c/cells", b"", b"/"]

    def key(obj):
        if obj is None or isinstance(obj, h5tree.ExternalTarget):
            return obj
        return (type(obj).__name__, h5py.h5i.get_name(obj))

    with h5py.File(tmp_path / "links.h5", "r") as f:
        root = f.id
        for path in paths:
            parts = [p for p in path.split(b"/") if p and p != b"."]
            slow = h5tree._locate_link_by_link(root, parts) if parts else root
            assert key(h5tree.locate(root, path)) == key(slow), path
        assert isinstance(h5tree.locate(root, b"ext/y/z"), h5tree.ExternalTarget)
        assert h5tree.locate(root, b"d/x") is None
        cells = h5tree.locate(root, b"a/b/c/cells")
        assert h5tree.locate(cells, b"x") is None  # not a group: nothing below it


def test_companion_xml_read_by_its_size_up_to_the_bound(tmp_path, monkeypatch):
    """The XML is read by the size stat gave (not a 64 MiB request per file); a file that grew
    since stat is still read whole, and nothing past the bound + 1 byte is read."""
    import os

    doc = tmp_path / "x.xml"
    doc.write_bytes(b"<SpimData>" + b" " * 5000 + b"</SpimData>")
    fd = os.open(doc, os.O_RDONLY)
    try:
        assert bdv_xml._read_bounded(fd, 10) == doc.read_bytes()  # grew after stat
    finally:
        os.close(fd)
    monkeypatch.setattr(bdv_xml.xmlsafe, "MAX_XML_BYTES", 100)
    fd = os.open(doc, os.O_RDONLY)
    try:
        assert len(bdv_xml._read_bounded(fd, 10)) == 101
    finally:
        os.close(fd)


def test_hdf5_file_closed_after_the_read(pybdv_files, monkeypatch):
    """Files are opened with low-level h5f.open; the read leaves no file or object open."""
    monkeypatch.setenv("EMPIAR_VALIDATE_ISOLATION", "off")
    before = h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_ALL)
    rec = read_header(pybdv_files / "bytes.h5", "bytes.h5")
    assert rec.format == "BIG DATA VIEWER HDF5"
    assert h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_ALL) == before
    bad = pybdv_files.parent / "not-hdf5.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert "F400" in rules(read_header(bad, "not-hdf5.h5"))
    assert h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_ALL) == before
