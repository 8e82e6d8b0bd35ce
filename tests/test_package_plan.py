"""SUMMARY.md: sizes per image set, the transfer estimate, and the ascp/Globus commands."""

from __future__ import annotations

import os
import re
import shlex

from empiar_validate.findings import Finding, Severity
from empiar_validate.model import ImageSet
from empiar_validate.package.inventory import inventory
from empiar_validate.package.plan import (
    build_plan,
    format_duration,
    human_size,
    render_summary,
    transfer_seconds,
)
from empiar_validate.records import FileRecord


def make(root, rel: str, size: int) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)


def dataset(tmp_path):
    root = tmp_path / "my data"
    make(root, "movies/a.tif", 1000)
    make(root, "movies/b.tif", 2000)
    make(root, "movies/a.tif.mdoc", 10)
    make(root, "movies/gain/gain.mrc", 500)
    make(root, "particles/p.mrcs", 4000)
    make(root, "particles/ptcl.star", 30)
    make(root, "notes.txt", 7)
    make(root, ".DS_Store", 99)
    sets = [
        ImageSet("Movies", "/data/movies", "movies",
                 files=[FileRecord("movies/a.tif"), FileRecord("movies/b.tif")],
                 companions=["movies/a.tif.mdoc"]),
        ImageSet("Gain", "/data/movies/gain", "movies/gain"),
        ImageSet("Particles", "/data/particles", "particles",
                 files=[FileRecord("particles/p.mrcs")]),
    ]
    return str(root), sets


def test_files_are_assigned_to_image_sets(tmp_path):
    root, sets = dataset(tmp_path)
    plan = build_plan(root, sets, inventory(root))
    assert [(r.name, r.files, r.bytes) for r in plan.rows] == [
        ("Movies", 3, 3010), ("Gain", 1, 500), ("Particles", 2, 4030)]
    assert (plan.other.files, plan.other.bytes) == (1, 7)  # notes.txt; hidden files not counted
    assert (plan.total_files, plan.total_bytes) == (7, 7547)
    assert plan.top_level == ["movies", "notes.txt", "particles"]


def test_sizes_and_durations():
    assert human_size(0) == "0 B" and human_size(1_500_000_000) == "1.5 GB"
    assert transfer_seconds(25_000_000) == 1.0  # 200 Mbit/s = 25 MB/s
    assert format_duration(transfer_seconds(2_000_000_000_000)) == "about 22 h 13 min"
    assert format_duration(3600) == "about 1 h" and format_duration(86400 * 3) == "about 3 days"


def test_summary_has_table_estimate_and_commands(tmp_path):
    root, sets = dataset(tmp_path)
    plan = build_plan(root, sets, inventory(root))
    findings = [Finding("P110", Severity.WARNING, "no image set holds multi-frame micrographs"),
                Finding("F005", Severity.ERROR, "file is empty", file="x|y.mrc")]
    text = render_summary(plan, out_dir="/out dir", listed=7, findings=findings,
                          title="Vibrio cholerae toxin-coregulated pilus machine")
    assert "Entry title: Vibrio cholerae toxin-coregulated pilus machine" in text
    assert "| Movies | `/data/movies` | 3 | 3.01 kB |" in text
    assert "| (not in an image set) | | 1 | 7 B |" in text
    assert "| **Total** | | **7** | **7.55 kB** |" in text
    assert "Total: 7,547 bytes." in text
    assert "the upload takes under a minute" in text
    quoted_root = shlex.quote(root)
    assert f"cd {quoted_root}\n" in text
    assert ("ascp -QT -l 200M -P 33001 -L- -k3 movies notes.txt particles "
            "emp_dep@hx-fasp-1.ebi.ac.uk:upload/<ENTRY_DIRECTORY>/data") in text
    assert "export ASPERA_SCP_PASS='<EMPIAR_TRANSFER_PASSWORD>'" in text
    assert (f"globus transfer --recursive '<YOUR_GLOBUS_ENDPOINT_ID>:'{quoted_root} "
            "d50a0618-6d04-11e5-ba46-22000b92c6ec:upload/<ENTRY_DIRECTORY>/data") in text
    assert "sha256sum -c '/out dir/SHA256SUMS'" in text
    # errors first, table cells escaped
    assert text.index("- error F005 `x\\|y.mrc`") < text.index("- warning P110")
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", text)  # no timestamps
    assert render_summary(plan, out_dir="/out dir", listed=7, findings=findings) == \
        render_summary(plan, out_dir="/out dir", listed=7, findings=list(reversed(findings)))


def test_commands_parse_as_shell(tmp_path):
    root, sets = dataset(tmp_path)
    text = render_summary(build_plan(root, sets, inventory(root)), out_dir="/o", listed=0,
                          findings=[])
    blocks = text.split("```sh\n")[1:]
    for block in blocks:
        for line in block.split("```")[0].splitlines():
            assert shlex.split(line)  # balanced quoting
    assert "None: the dataset is ready to deposit." in text
