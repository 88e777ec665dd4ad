"""The wheel, as a user gets it: built from pyproject.toml, then `pip install`ed WITH its dependencies
into a new empty virtualenv (nothing from requirements.txt, no boto3), where an app outside the
repo synthesizes and the console script runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from glue_label_import.testing.requests import handler_asset_path

REPO = Path(__file__).parent.parent
NODE_BIN = REPO / "node_modules" / ".bin"
NOT_SOURCE = (".git", ".venv", "node_modules", "cdk.out", "build", "*.egg-info", "__pycache__", ".*_cache")
PIP_QUIET = ("--quiet", "--disable-pip-version-check", "--no-input")

GOOD_LABELS = "labeling_set_id,label,customer_id\ns1,A,1\ns1,A,2\ns1,B,3\n"
BAD_LABELS = "labeling_set_id,customer_id\ns1,1\ns1,2\n"  # no label column: Glue cannot import it

# Run by the clean venv's python from a folder outside the repo; argv[1] is the venv's prefix.
USER_APP = """
import importlib.util
import sys

assert importlib.util.find_spec("boto3") is None, "boto3 is installed: the test proves nothing"
import glue_label_import
assert glue_label_import.__file__.startswith(sys.argv[1]), glue_label_import.__file__

from aws_cdk import App, Stack
from aws_cdk import aws_glue as glue
from glue_label_import import LabelImport, LabelSource

app = App(outdir="cdk.out")
stack = Stack(app, "UserStack")
transform = glue.CfnMLTransform(
    stack,
    "Transform",
    role="arn:aws:iam::123456789012:role/GlueFindMatches",
    input_record_tables=glue.CfnMLTransform.InputRecordTablesProperty(
        glue_tables=[glue.CfnMLTransform.GlueTablesProperty(database_name="crm", table_name="customers")]
    ),
    transform_parameters=glue.CfnMLTransform.TransformParametersProperty(
        transform_type="FIND_MATCHES",
        find_matches_parameters=glue.CfnMLTransform.FindMatchesParametersProperty(
            primary_key_column_name="customer_id"
        ),
    ),
)
LabelImport(stack, "Labels", transform=transform, source=LabelSource.from_asset("labels.csv"))
app.synth()
print(sorted(name for name in sys.modules if name.split(".")[0] in {"crhelper", "boto3", "botocore"}))
"""


@dataclass(frozen=True)
class CleanVenv:
    """A virtualenv that holds only the wheel and what it declares, and how to run things in it."""

    root: Path

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.root / "bin" / "python"

    @property
    def script(self) -> Path:
        """The console script `glue-label-import` pip installed into the venv."""
        return self.root / "bin" / "glue-label-import"

    def env(self) -> dict[str, str]:
        """The environment of a user's shell with the venv active: nothing of the test's venv leaks in."""
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PYTHON") and key not in {"VIRTUAL_ENV", "CDK_OUTDIR"}
        }
        outer_venv = str(REPO / ".venv")
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not p.startswith(outer_venv)]
        return {
            **inherited,
            "PATH": os.pathsep.join([str(self.root / "bin"), str(NODE_BIN), *path]),
            "VIRTUAL_ENV": str(self.root),
            "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        }

    def run(self, *command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run `command` in `cwd` with the venv active; never raises on its exit status."""
        return subprocess.run(
            [str(part) for part in command], cwd=cwd, env=self.env(), capture_output=True, text=True, check=False
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the source tree (a build leaves nothing in the checkout)."""
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *PIP_QUIET, "--no-deps", "--no-build-isolation", "-w", out, source],
        check=True,
        cwd=out,
    )
    (built,) = out.glob("cdk_glue_label_import-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> CleanVenv:
    """A new empty virtualenv (no pip, no setuptools) with the wheel pip-installed WITH its dependencies.

    pip runs from the test's environment (`pip --python`) into the new venv, so the venv holds only
    what the wheel declares, resolved from the registry through pip's cache.
    """
    clean = CleanVenv(tmp_path_factory.mktemp("clean-venv") / "venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", clean.root], check=True)
    install = [sys.executable, "-m", "pip", "--python", clean.python, "install", *PIP_QUIET, "--no-compile", wheel]
    subprocess.run(install, check=True, env=clean.env())
    return clean


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the repo, as a user's project is."""
    assert not tmp_path.resolve().is_relative_to(REPO.resolve())
    return tmp_path


def test_wheel_contents(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    package = {name for name in names if name.startswith("glue_label_import/")}
    sources = REPO / "constructs" / "glue_label_import"
    expected = {f"glue_label_import/{path.name}" for path in sources.glob("*.py")}
    expected |= {f"glue_label_import/_handler/{path.name}" for path in (REPO / "lambda").glob("*.py")}
    expected |= {f"glue_label_import/testing/{path.name}" for path in (sources / "testing").glob("*.py")}
    assert package == {*expected, "glue_label_import/py.typed"}  # every module, the handler's too, and no other file
    assert not any(name.startswith(("constructs/", "tests/", "lambda/")) for name in names)
    metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Name: cdk-glue-label-import" in metadata
    requires = set(re.findall(r"^Requires-Dist: ([A-Za-z0-9._-]+)[^;\n]*$", metadata, re.MULTILINE))
    assert requires == {"aws-cdk-lib", "constructs", "crhelper"}  # what synth needs; boto3 is the Lambda's
    for field in (
        "Author:",
        "Project-URL:",
        "Classifier: Framework :: AWS CDK :: 2",
        "Keywords:",
        "License-Expression:",
    ):
        assert field in metadata, field
    entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "glue-label-import = glue_label_import.__main__:console_main" in entry_points


def test_the_clean_venv_has_no_boto3(venv: CleanVenv, outside: Path) -> None:
    result = venv.run(venv.python, "-c", "import boto3", cwd=outside)
    assert result.returncode == 1 and "No module named 'boto3'" in result.stderr
    assert venv.run(venv.python, "-c", "import crhelper.resource_helper", cwd=outside).returncode == 1


def test_installed_wheel_synthesizes_an_app_outside_the_repo(venv: CleanVenv, outside: Path) -> None:
    (outside / "labels.csv").write_text(GOOD_LABELS)
    (outside / "app.py").write_text(USER_APP)
    result = venv.run(venv.python, "app.py", venv.root, cwd=outside)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"  # synth imported neither crhelper nor boto3

    out = outside / "cdk.out"
    template = json.loads((out / "UserStack.template.json").read_text())
    (labels,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::GlueImportLabels"]
    assert labels["Properties"]["TransformId"] == {"Ref": "Transform"}
    asset = handler_asset_path(out, "UserStack")
    assert (asset / "glue_label_import_handler" / "index.py").read_bytes() == (
        REPO / "lambda" / "index.py"
    ).read_bytes()
    assert (asset / "crhelper" / "resource_helper.py").is_file() and (asset / "crhelper" / "LICENSE").is_file()


def test_version_is_the_installed_distributions(venv: CleanVenv, wheel: Path, outside: Path) -> None:
    result = venv.run(venv.python, "-c", "import glue_label_import; print(glue_label_import.__version__)", cwd=outside)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == wheel.name.split("-")[1]  # cdk_glue_label_import-VERSION-py3-none-any.whl


def test_console_script_validates_label_files(venv: CleanVenv, outside: Path) -> None:
    (outside / "good.csv").write_text(GOOD_LABELS)
    (outside / "bad.csv").write_text(BAD_LABELS)

    good = venv.run(venv.script, "validate", "good.csv", "--primary-key", "customer_id", cwd=outside)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("good.csv: 1 labeling set, 3 rows")
    bad = venv.run(venv.script, "validate", "bad.csv", cwd=outside)
    assert bad.returncode == 1
    assert "label" in bad.stdout


@pytest.mark.parametrize("prog", ["glue-label-import", "python -m glue_label_import"])
def test_help_of_the_script_and_the_module_names_the_command_run(venv: CleanVenv, outside: Path, prog: str) -> None:
    command = [venv.script] if prog == "glue-label-import" else [venv.python, "-m", "glue_label_import"]
    result = venv.run(*command, "--help", cwd=outside)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {prog} ")
    assert "validate" in result.stdout


def test_the_sdist_ships_the_changelog_readme_and_licence(tmp_path: Path) -> None:
    source = tmp_path / "repo"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    build = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    result = subprocess.run(
        [sys.executable, "-c", build, tmp_path / "dist"], cwd=source, capture_output=True, text=True, check=True
    )
    sdist = tmp_path / "dist" / result.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"CHANGELOG.md", "README.md", "LICENSE", "pyproject.toml"} <= names
    assert "constructs/glue_label_import/_handler/index.py" in names  # the handler, so a wheel built from it works


# Run by the clean venv's python: argv[1] is a folder with boto3 as the Lambda runtime provides it.
IMPORT_HANDLER = """
import importlib, pkgutil, sys
sys.path.append(sys.argv[1])
import glue_label_import._handler as handler
names = sorted(module.name for module in pkgutil.iter_modules(handler.__path__))
for name in names:
    importlib.import_module(f"glue_label_import._handler.{name}")
print(" ".join(names))
"""


def test_every_handler_module_imports_through_the_installed_wheel(
    venv: CleanVenv, outside: Path, tmp_path: Path
) -> None:
    from glue_label_import.testing.sandbox import runtime_packages

    boto3_only = runtime_packages(tmp_path / "runtime")
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    result = subprocess.run(
        [str(venv.python), "-c", IMPORT_HANDLER, str(boto3_only)],
        cwd=outside,
        env={**venv.env(), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {path.stem for path in (REPO / "lambda").glob("*.py")} - {"__init__"}
