"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit framework.

pre-commit installs this repository into its own virtualenv from a git commit (dependencies from
the package index, ~20 s with a warm pip cache). pre-commit only sees committed files, so the
test commits a snapshot of the working tree (tracked and untracked, minus ignored files) into a
scratch repository and points a lab's ``.pre-commit-config.yaml`` at that.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dataset_builders import build_dataset, depositor_metadata

ROOT = Path(__file__).resolve().parent.parent
GIT = ["git", "-c", "user.name=empiar-validate tests", "-c", "user.email=tests@example.org",
       "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]

pytestmark = pytest.mark.slow


def git(*args: str, cwd: Path) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def snapshot(dest: Path) -> str:
    """Commit the working tree of this repository into ``dest``; return the commit."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.split(b"\0")
    for raw in listed:
        rel = raw.decode()
        if rel and (ROOT / rel).is_file() and not (ROOT / rel).is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot", cwd=dest)
    return git("rev-parse", "HEAD", cwd=dest).strip()


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_hooks_with_the_real_pre_commit(tmp_path, python):
    """Both hooks from a lab's config. Every step uses the same repo and rev, so pre-commit
    builds its environment once (~25 s); ``try-repo`` would build another."""
    hooks_repo = tmp_path / "hooks"
    hooks_repo.mkdir()
    rev = snapshot(hooks_repo)
    home = tmp_path / "pre-commit-home"

    lab = tmp_path / "lab"
    build_dataset(lab / "data", dm=False, bdv=False)
    # other XML a data repository holds: not EMPIAR entries, must not fail the XML hook
    (lab / "data" / "bdv.xml").write_text("<SpimData version='0.2'/>\n", encoding="utf-8")
    (lab / "processing").mkdir()
    (lab / "processing" / "workflow.xml").write_text(
        '<?xml version="1.0"?>\n<workflow xmlns="urn:example:workflow"><step/></workflow>\n',
        encoding="utf-8")
    (lab / "metadata.json").write_text(json.dumps(depositor_metadata(dm=False, bdv=False)),
                                       encoding="utf-8")
    subprocess.run([python, "-m", "empiar_validate", "scan", "data", "--metadata",
                    "metadata.json", "-o", "entry.xml", "-q"], cwd=lab, check=True,
                   capture_output=True)
    (lab / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks_repo}\n  rev: {rev}\n  hooks:\n"
        "  - id: empiar-validate-xml\n"
        "  - id: empiar-validate-check\n    args: [data, --xml, entry.xml, -q]\n",
        encoding="utf-8")
    # an invalid EMPIAR entry, under a name no entry-header pattern would pick
    good = (lab / "entry.xml").read_text(encoding="utf-8")
    bad = good.replace("<framesPerImage>6</framesPerImage>", "<framesPerImage>six</framesPerImage>")
    assert bad != good
    (lab / "processing" / "draft-header.xml").write_text(bad, encoding="utf-8")
    git("init", "-q", cwd=lab)
    git("add", "-A", cwd=lab)

    # the first commit: the staged files, as `git commit` would check them
    done = pre_commit("run", cwd=lab, home=home)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    line = next(i for i, text in enumerate(bad.splitlines(), start=1) if ">six<" in text)
    assert f"processing/draft-header.xml:{line}: error X100" in out and "framesPerImage" in out
    assert "entry.xml: valid" in out
    for other in ("data/bdv.xml", "processing/workflow.xml"):
        assert f"{other}: skipped (root element <" in out, other
        assert not re.search(rf"^{re.escape(other)}:\d+:", out, re.MULTILINE)  # no finding
    assert "validate: FAILED: 2 checked, " in out  # the two entries, not the others
    assert out.count("Failed") == 1 and out.count("Passed") == 1  # the check hook passed

    os.remove(lab / "processing" / "draft-header.xml")
    git("add", "-A", cwd=lab)
    done = pre_commit("run", "--all-files", cwd=lab, home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("Passed") == 2

    os.remove(lab / "data" / "micrographs" / "FoilHole_102_DW.mrc")
    git("add", "-A", cwd=lab)
    done = pre_commit("run", "empiar-validate-check", "--all-files", cwd=lab, home=home)
    assert done.returncode == 1
    assert "C102" in done.stdout and "Motion-corrected micrographs" in done.stdout
