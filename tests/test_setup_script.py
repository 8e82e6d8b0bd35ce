"""tools/setup finds a Python >= 3.12 by itself and fails clearly when there is none."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of tools/setup with a PATH holding only coreutils and a too-old 'python3'."""
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "setup", tmp_path / "tools" / "setup")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    for tool in ("dirname", "ls", "sort", "rm", "touch", "grep", "tail", "cat", "env"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, fakebin / tool)
    old = fakebin / "python3"
    old.write_text("#!/bin/sh\n# pretends to be Python 3.11: fails the version check\nexit 1\n")
    old.chmod(0o755)
    env = {"PATH": str(fakebin), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "nopyenv")}
    return tmp_path, env


def test_setup_fails_clearly_without_a_suitable_python(tmp_path):
    root, env = _sandbox(tmp_path)
    proc = subprocess.run([shutil.which("bash") or "/bin/bash", str(root / "tools" / "setup")],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "needs Python >= 3.12" in proc.stderr
    assert "EMPIAR_VALIDATE_PYTHON" in proc.stderr
    assert not (root / ".venv").exists()


@pytest.mark.slow  # creates a real venv and installs into it (~8 s)
def test_setup_finds_python_in_pyenv_versions(tmp_path):
    """With nothing usable on PATH, a pyenv version directory is found (checked up to venv)."""
    root, env = _sandbox(tmp_path)
    import sys

    versions = tmp_path / "nopyenv" / "versions" / "3.12.99" / "bin"
    versions.mkdir(parents=True)
    # A wrapper that runs this interpreter: passes the version check, then creates the venv.
    (versions / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (versions / "python").chmod(0o755)
    proc = subprocess.run([shutil.which("bash") or "/bin/bash", str(root / "tools" / "setup")],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert f"creating .venv with {versions / 'python'}" in proc.stderr
