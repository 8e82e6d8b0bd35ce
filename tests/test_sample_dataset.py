"""The README's main job on the committed sample dataset, and the dataset's reproducibility."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "fixtures" / "dataset"
METADATA = ROOT / "fixtures" / "metadata.json"
NS = {"e": "http://pdbe.org/empiar"}


def test_readme_main_job_on_the_sample_dataset(run_cli, tmp_path):
    out = tmp_path / "entry.xml"
    code, stdout, _ = run_cli("scan", DATASET, "--metadata", METADATA, "-o", out, "-q")
    assert code == 0, stdout
    tree = etree.parse(str(out))
    sets = {s.findtext("e:directory", namespaces=NS): s
            for s in tree.findall("e:imageSet", NS)}
    assert sorted(sets) == ["/data/dm4", "/data/lightsheet", "/data/micrographs",
                            "/data/movies", "/data/particles", "/data/tomo", "/data/volume"]
    movies = sets["/data/movies"]
    assert movies.findtext("e:numImagesOrTiltSeries", namespaces=NS) == "4"
    assert movies.findtext("e:framesPerImage", namespaces=NS) == "8"
    assert movies.findtext("e:category", namespaces=NS) == "micrographs - multiframe"
    particles = sets["/data/particles"]
    assert particles.findtext("e:numImagesOrTiltSeries", namespaces=NS) == "64"
    # acquisition facts from the SerialEM .mdoc reach the details, labelled as extracted
    details = sets["/data/tomo"].findtext("e:details", namespaces=NS)
    assert "Extracted from SerialEM .mdoc files by empiar-validate" in details
    assert "300 kV" in details
    # the data are unchanged and nothing was written beside them
    assert not any(p.name.endswith((".tmp", ".xml")) and p.parent.name != "lightsheet"
                   for p in DATASET.rglob("*"))
    code2, _, _ = run_cli("check", DATASET, "--xml", out, "-q")
    assert code2 == 0


def test_sample_dataset_rebuilds_identically(tmp_path):
    """fixtures/make_dataset.py reproduces the committed files (HDF5 compared by content)."""
    out = tmp_path / "dataset"
    subprocess.run([sys.executable, str(ROOT / "fixtures" / "make_dataset.py"), "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    committed = sorted(p.relative_to(DATASET) for p in DATASET.rglob("*") if p.is_file())
    rebuilt = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert committed == rebuilt
    for rel in committed:
        if rel.suffix == ".h5":
            continue  # HDF5 bytes may differ between h5py versions; the reader test covers it
        assert filecmp.cmp(DATASET / rel, out / rel, shallow=False), rel
