"""HDF5 headers are read in worker processes: a worker killed by a signal, or hanging, costs one
finding for its file, and the rest of the run is reported (issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from dataset_builders import write_mrc


def _directory(root: Path) -> Path:
    root.mkdir()
    for name in ("a.h5", "b.h5", "c.h5"):
        with h5py.File(root / name, "w") as f:
            f.create_dataset("image", data=np.zeros((4, 6, 8), np.uint16))
    write_mrc(root / "good.mrc", np.zeros((8, 8), np.float32), 1.0)
    return root


def _inspect(root: Path, **env: str) -> tuple[int, dict[str, dict], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "empiar_validate", "inspect", "--format", "json", str(root)],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    # inspect names files under the path as given (here absolute): key them relative to it
    files = {os.path.relpath(f["path"], root): f for f in json.loads(proc.stdout)["files"]}
    return proc.returncode, files, proc.stderr


# The per-file limit also covers a fresh worker's start and its first `import h5py`, which
# took over 2 s on a loaded machine (a.h5 was then F014 too); 10 s leaves room for that.
LIMIT_S = "10"


@pytest.mark.parametrize(("fault", "says"), [
    ("kill:b.h5", "killed by SIGKILL"),
    ("hang:b.h5", f"no answer within {LIMIT_S} s"),
])
def test_a_dead_or_hung_worker_is_one_finding_and_the_rest_is_reported(tmp_path, fault, says):
    root = _directory(tmp_path / "ds")
    code, files, err = _inspect(root, EMPIAR_VALIDATE_FAULT=fault,
                                EMPIAR_VALIDATE_HDF5_SECONDS=LIMIT_S)
    assert code == 1 and "Traceback" not in err, err
    assert [(p["rule"], says in p["message"]) for p in files["b.h5"]["problems"]] == [
        ("F014", True)], files["b.h5"]
    for name in ("a.h5", "c.h5"):  # before and after the dead worker: read normally
        assert files[name]["problems"] == [] and files[name]["depth"] == 4, files[name]
    assert files["good.mrc"]["problems"] == []


def test_scan_writes_its_entry_despite_a_dead_worker(tmp_path):
    root = _directory(tmp_path / "ds")
    out = tmp_path / "entry.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "empiar_validate", "scan", str(root), "-o", str(out),
         "--format", "json", "-q"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "EMPIAR_VALIDATE_FAULT": "kill:a.h5"})
    assert "Traceback" not in proc.stderr, proc.stderr
    found = json.loads(proc.stdout)["findings"]
    assert [Path(f["file"]).name for f in found if f["rule"] == "F014"] == ["a.h5"]
    assert out.exists() and b"/data" in out.read_bytes()


def test_isolated_and_in_process_reads_agree(tmp_path):
    root = _directory(tmp_path / "ds")
    _, isolated, _ = _inspect(root)
    _, direct, _ = _inspect(root, EMPIAR_VALIDATE_ISOLATION="off")
    assert isolated == direct


def test_the_main_process_never_imports_h5py(tmp_path):
    root = _directory(tmp_path / "ds")
    code = ("import sys; from empiar_validate.formats import read_header; "
            f"r = read_header({str(root / 'a.h5')!r}); assert r.depth == 4, r; "
            "print('h5py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
