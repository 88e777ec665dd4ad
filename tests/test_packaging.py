"""The wheel: built from pyproject.toml, installed elsewhere, used by an app outside the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stacks import handler_asset_path

REPO = Path(__file__).parent.parent
NOT_SOURCE = (".git", ".venv", "node_modules", "cdk.out", "build", "*.egg-info", "__pycache__", ".*_cache")

USER_APP = """
import sys
import glue_label_import
assert glue_label_import.__file__.startswith(sys.argv[1]), glue_label_import.__file__
from aws_cdk import App, Stack
from glue_label_import import LabelImport, LabelSource
app = App(outdir="cdk.out")
stack = Stack(app, "UserStack")
LabelImport(stack, "Labels", transform="tfm-user", source=LabelSource.from_asset("labels.csv"))
app.synth()
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the source tree (a build leaves nothing in the checkout)."""
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        cwd=out,
    )
    (built,) = out.glob("cdk_glue_label_import-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {name for name in names if name.startswith("glue_label_import/")}
    assert package == {
        "glue_label_import/__init__.py",
        "glue_label_import/__main__.py",
        "glue_label_import/py.typed",
        "glue_label_import/handler_asset.py",
        "glue_label_import/label_file.py",
        "glue_label_import/label_import.py",
        "glue_label_import/label_source.py",
        "glue_label_import/provider.py",
        "glue_label_import/_handler/__init__.py",
        "glue_label_import/_handler/index.py",
        "glue_label_import/_handler/glue_runs.py",
        "glue_label_import/_handler/request.py",
        "glue_label_import/_handler/retries.py",
    }
    assert not any(name.startswith(("constructs/", "tests/", "lambda/")) for name in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Name: cdk-glue-label-import" in metadata
    assert "Requires-Dist: crhelper" in metadata and "Requires-Dist: aws-cdk-lib" in metadata


def test_installed_wheel_synthesizes_an_app_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
    )
    app_dir = tmp_path / "user-app"
    app_dir.mkdir()
    (app_dir / "labels.csv").write_text("labeling_set_id,label,id\ns1,A,1\ns1,A,2\n")
    (app_dir / "app.py").write_text(USER_APP)
    env = {**os.environ, "PYTHONPATH": str(target)}
    subprocess.run([sys.executable, "app.py", str(target)], check=True, cwd=app_dir, env=env)

    asset = handler_asset_path(app_dir / "cdk.out", "UserStack")
    assert (asset / "index.py").is_file() and (asset / "crhelper" / "resource_helper.py").is_file()
    assert (asset / "index.py").read_bytes() == (REPO / "lambda" / "index.py").read_bytes()

    validate = [sys.executable, "-m", "glue_label_import", "validate", "labels.csv", "--primary-key", "id"]
    report = subprocess.run(validate, cwd=app_dir, env=env, capture_output=True, text=True, check=True)
    assert report.stdout.startswith("labels.csv: 1 labeling set, 2 rows")
