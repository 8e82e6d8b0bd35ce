"""How scan reports: corrupt members, values EMPIAR does not list, repeats, consequences."""

from __future__ import annotations

import numpy as np


def test_corrupt_file_is_not_counted(tmp_path):
    import mrcfile

    from empiar_validate.scan import scan_dataset

    mics = tmp_path / "micrographs"
    mics.mkdir()
    for i in range(3):
        with mrcfile.new(mics / f"m{i}.mrc") as mrc:
            mrc.set_data(np.zeros((16, 12), dtype=np.float32))
            mrc.voxel_size = 1.1
    (mics / "garbage.mrc").write_bytes(b"\x01" * 3000)
    result = scan_dataset(str(tmp_path), quiet=True)
    [image_set] = result.image_sets
    assert image_set.num_images_or_tilt_series == 3
    assert (image_set.image_width, image_set.image_height) == (12, 16)
    garbage = [f for f in result.findings if f.file and f.file.endswith("garbage.mrc")]
    assert [f.rule for f in garbage] == ["F007"]
    assert not any(f.rule == "G105" for f in result.findings)


def test_values_empiar_does_not_list_get_a_clear_finding(tmp_path):
    import h5py
    import mrcfile

    from empiar_validate.scan import scan_dataset

    (tmp_path / "half").mkdir()
    with mrcfile.new(tmp_path / "half" / "a.mrc") as mrc:
        mrc.set_data(np.zeros((8, 8), dtype=np.float16))
        mrc.voxel_size = 1.0
    (tmp_path / "h5").mkdir()
    with h5py.File(tmp_path / "h5" / "stack.h5", "w") as fh:
        fh.create_dataset("data", data=np.zeros((4, 8, 8), dtype=np.float32))
    result = scan_dataset(str(tmp_path), quiet=True)
    outside = sorted((f.field_name, f.actual) for f in result.findings if f.rule == "G115")
    assert outside == [("dataFormat", "HDF5"), ("headerFormat", "HDF5")]
    # 16 BIT FLOAT is a value EMPIAR has published: no G115 (the schema's S127 warns instead,
    # tests/test_published_values.py)


def test_repeated_file_warnings_are_one_text_line_but_every_finding_is_kept(tmp_path):
    import io

    from empiar_validate.findings import Finding, Severity
    from empiar_validate.records import FileRecord
    from empiar_validate.reporters import render
    from empiar_validate.reporting import Report
    from empiar_validate.scan import file_problems

    REPEAT_LIMIT = 5
    records = [
        FileRecord(f"p/s{i}.mrcs", problems=[
            Finding("F106", Severity.WARNING, "no pixel size", file=f"ds/p/s{i}.mrcs"),
            Finding("F107", Severity.ERROR, "truncated", file=f"ds/p/s{i}.mrcs"),
        ])
        for i in range(REPEAT_LIMIT + 7)
    ]
    out = file_problems(records)
    assert sum(f.rule == "F107" for f in out) == REPEAT_LIMIT + 7
    warnings = [f for f in out if f.rule == "F106"]
    assert len(warnings) == REPEAT_LIMIT + 7
    text = io.StringIO()
    render(Report("scan", out), "text", text)
    lines = [line for line in text.getvalue().splitlines() if " F106 " in line]
    assert len(lines) == 1 and "(x12 in ds/p; also " in lines[0] and "and 9 more)" in lines[0]


def test_xsd_errors_that_follow_from_missing_values_are_infos(tmp_path, run_cli):
    import json

    import mrcfile

    (tmp_path / "mics").mkdir()
    with mrcfile.new(tmp_path / "mics" / "a.mrc") as mrc:
        mrc.set_data(np.zeros((8, 8), dtype=np.float32))  # no pixel size, no metadata
    code, out, _ = run_cli("scan", tmp_path, "-o", tmp_path / "e.xml", "--format", "json", "-q")
    findings = json.loads(out)["findings"]
    assert code == 1
    assert any(f["rule"] == "M104" and f["severity"] == "error" for f in findings)
    x100 = [f for f in findings if f["rule"] == "X100"]
    assert x100 and all(f["severity"] == "info" and "M104" in f["message"] for f in x100)


def _mrcs(directory, n, shape=(8, 8)):
    import mrcfile

    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        with mrcfile.new(directory / f"m{i}.mrc") as mrc:
            mrc.set_data(np.zeros(shape, dtype=np.float32))
            mrc.voxel_size = 1.0


def _check_findings(run_cli, root, xml):
    import json

    code, out, _ = run_cli("check", root, "--xml", xml, "--format", "json", "-q")
    return code, [f["rule"] for f in json.loads(out)["findings"] if f["rule"][0] in "CG"]


def test_glob_characters_in_directory_names_round_trip(tmp_path, run_cli):
    """A pattern for movies[1]/ must escape the brackets, or check can never pass."""
    root = tmp_path / "ds"
    _mrcs(root / "movies[1]", 3)
    (root / "other").mkdir()
    xml = tmp_path / "e.xml"
    _, out, _ = run_cli("scan", root, "-o", xml, "-q")
    assert "data/movies[[]1]/" in xml.read_text()
    assert "S122" not in out  # the Schematron reads the escaped directory too
    _, rules = _check_findings(run_cli, root, xml)
    assert rules == []


def test_check_and_scan_agree_on_a_corrupt_member(tmp_path, run_cli):
    root = tmp_path / "ds"
    _mrcs(root / "mics", 3)
    (root / "mics" / "bad.mrc").write_bytes(b"\x07" * 100)
    xml = tmp_path / "e.xml"
    run_cli("scan", root, "-o", xml, "-q")
    assert "<numImagesOrTiltSeries>3<" in xml.read_text()
    _, rules = _check_findings(run_cli, root, xml)
    assert "C102" not in rules and "C106" not in rules


def test_package_also_shows_xsd_consequences_as_infos(tmp_path, run_cli):
    import json

    _mrcs(tmp_path / "ds" / "mics", 2)
    code, out, _ = run_cli("package", tmp_path / "ds", "-o", tmp_path / "out", "--format",
                           "json", "-q")
    findings = json.loads(out)["findings"]
    assert code == 1 and any(f["rule"] == "M104" for f in findings)
    consequences = [f for f in findings if f["rule"] == "X100" and "Expected is" in f["message"]]
    assert consequences and all(f["severity"] == "info" for f in consequences)


def test_each_metadata_and_mdoc_file_is_read_once(tmp_path, run_cli, monkeypatch):
    """The pipeline runs one way: the command loads --metadata once and hands it to the scan;
    the read stage parses each .mdoc once for grouping, the tilt checks and the details."""
    import json

    import empiar_validate.mdoc as mdoc
    import empiar_validate.scan.metadata as metadata

    root = tmp_path / "ds"
    _mrcs(root / "tomo", 2)
    for i in range(2):
        (root / "tomo" / f"m{i}.mrc.mdoc").write_text(
            "PixelSpacing = 1.0\n\n[ZValue = 0]\nTiltAngle = 0.0\nExposureDose = 1.5\n",
            encoding="utf-8")
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"title": "A dataset with two tilt files"}), encoding="utf-8")
    calls: dict[str, int] = {"mdoc": 0, "metadata": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(mdoc, "read_mdoc", counting("mdoc", mdoc.read_mdoc))
    monkeypatch.setattr(metadata, "load_metadata", counting("metadata", metadata.load_metadata))
    for command in ("scan", "package"):
        calls.update(mdoc=0, metadata=0)
        out = tmp_path / command
        out.mkdir()
        code, _, err = run_cli(command, root, "--metadata", meta, "-o",
                               out / "e.xml" if command == "scan" else out / "bundle", "-q")
        assert code == 1 and not err  # the metadata is incomplete
        assert calls == {"mdoc": 2, "metadata": 1}, command


def test_a_set_whose_only_image_file_is_damaged_gets_one_finding_not_one_per_value(tmp_path):
    """A truncated BigDataViewer file alone in a directory the metadata names (found in a
    new-user pass): its own F401, one M108 naming it, no M104 per header value it would have
    given, and its companion XML is not "outside every image set" (G111)."""
    import json

    from bdvwriters import write_bdv, write_xml

    from empiar_validate.scan import scan_dataset

    data = tmp_path / "data"
    (data / "good").mkdir(parents=True)
    (data / "trunc").mkdir()
    for folder in ("good", "trunc"):
        write_bdv(data / folder / "cells.h5", {0: ((5, 6, 8), "int16")})
        write_xml(data / folder / "cells.xml", "cells.h5", {0: "8 6 5"})
    whole = (data / "trunc" / "cells.h5").read_bytes()
    (data / "trunc" / "cells.h5").write_bytes(whole[:len(whole) // 2])
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"imagesets": [
        {"directory": "/data/good", "name": "good", "category": "('T6', '')"},
        {"directory": "/data/trunc", "name": "trunc", "category": "('T6', '')"},
    ]}), encoding="utf-8")
    result = scan_dataset(str(data), str(meta), quiet=True)
    about = [f for f in result.findings
             if f.image_set == "trunc" or "trunc" in (f.file or "")]
    assert sorted(f.rule for f in about) == ["F401", "M108"], [(f.rule, f.message) for f in about]
    [m108] = [f for f in about if f.rule == "M108"]
    assert "no readable image files: 1 damaged (cells.h5)" in m108.message
    assert not any(f.rule == "G111" for f in result.findings)
