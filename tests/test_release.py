"""What makes the library look released: a version the CHANGELOG dates, install instructions, CI and a release
workflow that `make test` checks against GitHub's schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import glue_label_import

REPO = Path(__file__).parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
CHECK_WORKFLOWS = "check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml"


def workflow(name: str) -> dict[str, Any]:
    """A workflow of .github/workflows, parsed (PyYAML reads the key `on` as True)."""
    parsed: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    parsed["on"] = parsed.pop(True, parsed.get("on"))
    return parsed


def steps(job: dict[str, Any]) -> str:
    """Every step of a job, as text: what it uses and what it runs."""
    return "\n".join(f"{step.get('uses', '')} {step.get('run', '')} {step.get('with', '')}" for step in job["steps"])


def test_the_reported_version_has_a_dated_changelog_section_below_the_unreleased_one() -> None:
    version = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.MULTILINE).group(1)  # type: ignore[union-attr]
    assert glue_label_import.__version__ == version
    changelog = (REPO / "CHANGELOG.md").read_text()
    released = re.search(rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$", changelog, re.MULTILINE)
    assert released, f"CHANGELOG.md has no dated section '## [{version}] - YYYY-MM-DD'"
    unreleased = changelog.index("## [Unreleased]")
    assert unreleased < released.start()
    assert re.findall(r"^## \[(.+?)\]", changelog, re.MULTILINE)[:2] == ["Unreleased", version]


def test_the_readme_says_how_to_install_from_a_clone_and_from_pypi() -> None:
    readme = (REPO / "README.md").read_text()
    assert "pip install '.[aws]'" in readme
    assert "pip install cdk-glue-label-import" in readme


def test_ci_runs_make_test_on_pushes_and_pull_requests_on_python_3_10_to_3_12() -> None:
    ci = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    (job,) = ci["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12"]
    text = steps(job)
    assert "actions/setup-python" in text and "${{ matrix.python-version }}" in text
    node = re.search(r"actions/setup-node\S* \s*\{'node-version': '(\d+)'\}", text)
    assert node and int(node.group(1)) >= 20, text
    assert re.search(r"^\s*make test\s*$", " ".join(step.get("run", "") for step in job["steps"]), re.MULTILINE)


def test_a_version_tag_builds_checks_and_publishes_with_trusted_publishing() -> None:
    release = workflow("release.yml")
    assert list(release["on"]) == ["push"] and release["on"]["push"]["tags"] == ["v*"]
    jobs = release["jobs"]
    build = steps(jobs["build"])
    assert "python -m build" in build and "twine check" in build
    publish = jobs["publish"]
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert "pypa/gh-action-pypi-publish@" in steps(publish)
    assert "password" not in steps(publish)  # trusted publishing: no token


def test_make_test_validates_the_workflows_against_their_schema() -> None:
    makefile = (REPO / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert f"\n\t{CHECK_WORKFLOWS}" in lint and re.search(r"^test: lint$", makefile, re.MULTILINE)
    assert "check-jsonschema==" in (REPO / "requirements.txt").read_text()


@pytest.fixture
def offline() -> dict[str, str]:
    """An environment whose every HTTP(S) request goes to a closed port: any download fails."""
    return {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}


def check_workflows(*files: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the Makefile's check on `files`."""
    command = [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, check=False, env=env)


def test_the_workflows_pass_the_schema_check_offline(offline: dict[str, str]) -> None:
    result = check_workflows(*sorted(WORKFLOWS.glob("*.yml")), env=offline)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path: Path, offline: dict[str, str]) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "ci.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    result = check_workflows(broken, env=offline)
    assert result.returncode == 1 and "runs-on" in result.stdout, result.stdout + result.stderr
