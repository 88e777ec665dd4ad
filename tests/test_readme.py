"""The README as a newcomer reads it: every python block runs as shown, and its grant tables are the templates'."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from constructs import Construct

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import.testing.examples import find_matches_transform

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text()
NOT_RUN = "# not run:"
"""The first line of a README python block that is not meant to run, followed by why."""


def python_blocks() -> list[tuple[int, str]]:
    """Every ```python block of the README: the line it starts on, and its code."""
    return [
        (README.count("\n", 0, match.start()) + 1, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```$", README, re.MULTILINE | re.DOTALL)
    ]


BLOCKS = python_blocks()


def test_the_readme_has_python_blocks_to_run() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_a_readme_python_block_runs_as_shown_in_a_stack(
    line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if code.startswith(NOT_RUN):
        pytest.skip(code.splitlines()[0])
    shutil.copytree(REPO / "labels", tmp_path / "labels")
    shutil.copy(REPO / "labels" / "round-1.csv", tmp_path / "labels.csv")
    monkeypatch.chdir(tmp_path)
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Readme")
    namespace: dict[str, Any] = {
        "__name__": "readme",
        "self": stack,
        "stack": stack,
        "app": app,
        "transform": find_matches_transform(stack),
        "bucket": s3.Bucket(stack, "Bucket"),
    }
    exec(compile(code, f"README.md:{line}", "exec"), namespace)  # the README's own code
    for value in list(namespace.values()):
        if isinstance(value, type) and issubclass(value, Stack) and value.__module__ == "readme":
            value(app, value.__name__)
    app.synth()


def grant_tables() -> dict[str, set[str]]:
    """The actions of each table of "What each construct grants", by the bold title above it."""
    section = README.split("\n## What each construct grants\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, set[str]] = {}
    title = ""
    for row in section.splitlines():
        heading = re.fullmatch(r"\*\*(.+)\*\*", row)
        if heading:
            title = heading.group(1).strip("`")
            tables[title] = set()
        elif row.startswith("| ") and title:
            actions_column = row.split(" | ")[1]
            tables[title] |= set(re.findall(r"`([a-z0-9-]+:[A-Za-z*]+)`", actions_column))
    return tables


def granted_actions(stack: Stack) -> set[str]:
    """Every action an IAM policy or a key policy of ``stack`` allows a role (not the account's root)."""
    actions: set[str] = set()
    for resource in Template.from_stack(stack).to_json()["Resources"].values():
        document = resource["Properties"].get("PolicyDocument") or resource["Properties"].get("KeyPolicy") or {}
        for statement in document.get("Statement", []):
            if statement.get("Action") == "kms:*":  # the key's default policy: the account's root
                continue
            action = statement["Action"]
            actions |= {action} if isinstance(action, str) else set(action)
    return actions


def encrypted_bucket(stack: Stack) -> s3.Bucket:
    return s3.Bucket(stack, "Bucket", encryption_key=kms.Key(stack, "Key"))


def label_imports(stack: Stack, transform: Construct) -> None:
    labels = LabelSource.from_asset(str(REPO / "labels" / "round-1.csv"))
    LabelImport(stack, "FromAsset", transform=transform, source=labels)  # type: ignore[arg-type]
    source = LabelSource.from_bucket(encrypted_bucket(stack), "round-2.csv")
    LabelImport(stack, "FromBucket", transform=transform, source=source)  # type: ignore[arg-type]


def evaluation(stack: Stack, transform: Construct) -> None:
    TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.5)  # type: ignore[arg-type]


def generation(stack: Stack, transform: Construct) -> None:
    LabelingSetGeneration(stack, "NextRound", transform=transform, output_bucket=encrypted_bucket(stack))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("title", "declare"),
    [("LabelImport", label_imports), ("TransformEvaluation", evaluation), ("LabelingSetGeneration", generation)],
)
def test_each_constructs_grant_table_lists_exactly_the_actions_its_template_grants(
    title: str, declare: Callable[[Stack, Construct], None]
) -> None:
    tables = grant_tables()
    stack = Stack(App(), "Grants")
    declare(stack, find_matches_transform(stack))
    assert tables[title] | tables["The handler, once per stack"] == granted_actions(stack)


def test_the_readme_says_how_to_run_cdk_nag_3() -> None:
    (nag,) = [code for _, code in BLOCKS if "cdk_nag" in code]
    assert "Validations.of(app).add_plugins(AwsSolutionsChecks(app))" in nag
    assert "Aspects.of(app).add(AwsSolutionsChecks())`, the cdk-nag 2 way, fails" in README
