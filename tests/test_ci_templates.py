"""action.yml and the GitLab CI template, their shell steps run locally as the runners would.

GitHub runs a composite action's ``run`` steps with bash, the ``${{ ... }}`` expressions
substituted, ``GITHUB_PATH``/``GITHUB_OUTPUT`` files between steps; GitLab runs a job's
``script`` lines in one shell with the job's ``variables`` in the environment. The tests do the
same on a scratch dataset: the install step really installs this checkout (into a scratch
environment that borrows the dependencies already installed for the tests, so no download), and
the check step really runs the installed ``empiar-validate``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from dataset_builders import scanned_repository

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")]
EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
OFFLINE_PIP = "--no-deps --no-build-isolation --no-index"



@pytest.fixture(scope="module")
def lab_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lab's data repository: data/ and the committed entry.xml."""
    return scanned_repository(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment standing for the runner's Python: empiar-validate is not in it,
    its dependencies (and hatchling, to build this checkout) are reachable through a ``.pth``
    line, so ``pip install --no-deps --no-build-isolation`` works offline."""
    env = tmp_path_factory.mktemp("runner") / "py"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    py = env / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path("
                              "'purelib'))"], check=True, capture_output=True,
                             text=True).stdout.strip()
    Path(purelib, "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    probe = subprocess.run([str(py), "-c", "import empiar_validate.cli"], capture_output=True,
                           cwd=env, env=_clean_env())
    assert probe.returncode != 0, "the runner must not see the tests' empiar_validate"
    return py


def _clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH: a runner does not see the tests' checkout."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _expand(text: str, inputs: dict[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]  # KeyError: an undeclared input
        if expr == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"expression the test runner does not know: {expr}")

    return EXPR.sub(value, text)


def run_action(cwd: Path, tmp: Path, **with_: str) -> tuple[int, str, dict]:
    """Run action.yml's steps as GitHub's runner does; returns (exit code of the last step
    run, its output, the step outputs)."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    for key, value in with_.items():
        assert key in inputs, f"action.yml has no input {key}"
        inputs[key] = value
    gh_path, gh_output = tmp / "GITHUB_PATH", tmp / "GITHUB_OUTPUT"
    gh_path.write_text("")
    gh_output.write_text("")
    path = os.environ["PATH"]
    outputs: dict[str, dict[str, str]] = {}
    code, text = 0, ""
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash" and "run" in step, step
        env = dict(_clean_env(), PATH=path, GITHUB_PATH=str(gh_path),
                   GITHUB_OUTPUT=str(gh_output), RUNNER_TEMP=str(tmp))
        env.update({k: _expand(str(v), inputs) for k, v in step.get("env", {}).items()})
        gh_output.write_text("")
        # GitHub's bash invocation for composite steps: bash --noprofile --norc -eo pipefail
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               _expand(step["run"], inputs)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600)
        code, text = proc.returncode, proc.stdout + proc.stderr
        if "id" in step:
            outputs[step["id"]] = dict(line.split("=", 1) for line in
                                       gh_output.read_text().splitlines() if "=" in line)
        # GITHUB_PATH entries are prepended for the following steps
        added = [p for p in gh_path.read_text().splitlines() if p]
        path = os.pathsep.join([*reversed(added), os.environ["PATH"]])
        if code != 0:
            break
    return code, text, outputs


def test_action_installs_and_checks_with_annotations(lab_repo, runner_python, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(lab_repo, repo)
    code, out, outputs = run_action(repo, tmp_path,
                                    python=str(runner_python), **{"pip-args": OFFLINE_PIP})
    assert code == 0, out
    assert outputs["check"]["exit-code"] == "0"
    scripts = runner_python.parent
    assert (scripts / "empiar-validate").exists()  # installed by the action's first step
    # drift: a movie removed -> exit 1, a GitHub annotation on the XML line
    movie = sorted((repo / "data" / "movies").glob("*.tiff"))[0]
    movie.unlink()
    code, out, outputs = run_action(repo, tmp_path,
                                    python=str(runner_python), **{"pip-args": OFFLINE_PIP})
    assert code == 1 and outputs["check"]["exit-code"] == "1"
    assert re.search(r"^::error file=entry\.xml,line=\d+,title=C102::", out, re.M), out


def test_gitlab_template_runs_its_script(lab_repo, runner_python, tmp_path):
    doc = yaml.safe_load((ROOT / "ci" / "empiar-validate.gitlab-ci.yml").read_text())
    job = doc[".empiar-validate-check"]
    assert job["artifacts"]["reports"]["junit"] == "empiar-check.xml"
    repo = tmp_path / "repo"
    shutil.copytree(lab_repo, repo)

    def gitlab(**variables: str) -> subprocess.CompletedProcess[str]:
        env = dict(_clean_env(), **{k: str(v) for k, v in job["variables"].items()})
        env.update(variables)
        env["PATH"] = os.pathsep.join([str(runner_python.parent), os.environ["PATH"]])
        script = "set -eo pipefail\n" + "\n".join(job["script"])  # GitLab's shell semantics
        return subprocess.run(["bash", "-c", script], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=600)

    offline = {"EMPIAR_VALIDATE_PACKAGE": str(ROOT), "EMPIAR_VALIDATE_PIP_ARGS": OFFLINE_PIP}
    proc = gitlab(**offline)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = (repo / "empiar-check.xml").read_text()
    assert "<testsuite" in report and "<failure" not in report
    (repo / "data" / "volume").rename(repo / "data" / "volume-moved")
    proc = gitlab(**offline)
    assert proc.returncode == 1
    assert "<failure" in (repo / "empiar-check.xml").read_text()
