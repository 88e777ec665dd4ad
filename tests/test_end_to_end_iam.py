"""End to end with IAM at work: the synthesized handler, in its subprocess, acting as its own role.

The handler's credentials are those of the template's handler role, whose policies are the
synthesized template's, and moto's access control checks every call it makes while it runs; the
emulated Glue reads the label file as the transform's role.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from glue_label_import import LabelImport, LabelSource
from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.examples import LABELS, find_matches_transform
from glue_label_import.testing.iam import grants_of, without_grant
from glue_label_import.testing.requests import BUCKET, props
from glue_label_import.testing.sandbox import LambdaSandbox, lambda_sandbox

START = "glue:StartImportLabelsTaskRun"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LambdaSandbox]:
    """The handler of a stack with a transform and a label file in its bucket, over real HTTP."""
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Labels")
    bucket = s3.Bucket(stack, "Labels", bucket_name=BUCKET)
    transform = find_matches_transform(stack)
    LabelImport(stack, "Import", transform=transform, source=LabelSource.from_bucket(bucket, "r1.csv"))
    app.synth()
    with lambda_sandbox(tmp_path, tmp_path / "cdk.out", stack.stack_name) as sandbox:
        yield sandbox


def import_as_handler_role(sandbox: LambdaSandbox, template: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Create the import with the handler acting as its role (the template's), IAM enforced."""
    transform_id = sandbox.transform()
    path = sandbox.upload("r1.csv", LABELS)
    checks = sandbox.act_as_handler_role({"Transform": transform_id}, template=template)
    create = sandbox.event("Create", props(transform_id, path), logical_id="ImportLabels")
    sandbox.invoke(create)
    return sandbox.answer(create), checks


def test_an_import_is_created_by_the_handler_acting_as_its_own_role(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    answer, checks = import_as_handler_role(sandbox, sandbox.template)

    assert answer["Status"] == "SUCCESS", answer
    assert answer["Data"]["LabelCount"] == 3
    assert checks.denied == []
    assert checks.checked >= 4  # the ledger, the header read, the start, its status reads


def test_without_the_glue_start_grant_the_create_fails_naming_the_action(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    (grant,) = [grant for grant in grants_of(sandbox.template) if grant.action == START]
    answer, checks = import_as_handler_role(sandbox, without_grant(sandbox.template, grant))

    assert answer["Status"] == "FAILED", answer
    assert answer["Reason"].startswith("AccessDeniedException: User: ")
    assert "not authorized to perform: glue:StartImportLabels" in answer["Reason"]  # shortened in the Reason
    assert [denial.split(" on resource: ")[0].rsplit(" ", 1)[-1] for denial in checks.denied] == [START]
    assert runs.calls_to("StartImportLabelsTaskRun") == []
