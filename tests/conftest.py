"""Shared test set-up: fake AWS credentials and region, moto's Glue with ML task runs, and the fixtures
more than one test module uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import CfnOutput, Duration, Stack, aws_s3
from aws_cdk.assertions import Template
from moto import mock_aws

from glue_label_import.testing import GlueMLTaskRuns, glue_ml, install, replies, stacks

# Set before any test module imports the handler: crhelper creates its boto3 clients on import.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)
install()

from glue_label_import import LabelImport, LabelSource  # noqa: E402
from glue_label_import.testing.examples import LABELS, find_matches_transform  # noqa: E402
from glue_label_import.testing.requests import (  # noqa: E402
    BUCKET,
    STACK_ID,
    create_transform,
)
from glue_label_import.testing.sandbox import LambdaSandbox, lambda_sandbox  # noqa: E402
from handler_driver import Handler, driven_handler  # noqa: E402  # imports the handler: after the variables above
from support import NO_RETRIES, REGION, CheckedResponses, FakeClock, new_stack  # noqa: E402


@pytest.fixture
def handler(task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch) -> Iterator[Handler]:
    """The handler module, in process, on moto and a controlled clock (see handler_driver)."""
    yield from driven_handler(task_runs, monkeypatch)


@pytest.fixture
def task_runs() -> Iterator[GlueMLTaskRuns]:
    """moto's Glue task runs (and the emulation's reply faults and stack statuses), reset before and after the test."""
    for emulation in (glue_ml, replies, stacks):
        emulation.reset()
    yield glue_ml
    for emulation in (glue_ml, replies, stacks):
        emulation.reset()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaSandbox]:
    """The handler from its synthesized asset over real HTTP (glue_label_import.testing.sandbox), one per module."""
    with lambda_sandbox(tmp_path_factory.mktemp("e2e")) as sandbox:
        yield sandbox


@pytest.fixture
def runs(sandbox: LambdaSandbox, task_runs: GlueMLTaskRuns) -> GlueMLTaskRuns:
    """The emulated Glue's runs, quick: a second and a half each; the requests' stack is UPDATE_IN_PROGRESS."""
    task_runs.starting_seconds = 0.5
    task_runs.running_seconds = 1.0
    stacks.set(STACK_ID, "UPDATE_IN_PROGRESS")
    return task_runs


@pytest.fixture
def labels_csv(tmp_path: Path) -> str:
    """A small label file with a name column, as a path."""
    path = tmp_path / "labels.csv"
    path.write_text("labeling_set_id,label,customer_id,name\ns1,A,1,Ann\ns1,A,2,Anne\ns1,B,3,Bob\n")
    return str(path)


@pytest.fixture
def labels(tmp_path: Path) -> LabelSource:
    """The example labels (LABELS) as a file asset."""
    path = tmp_path / "labels.csv"
    path.write_text(LABELS, encoding="utf-8")
    return LabelSource.from_asset(str(path))


@pytest.fixture(scope="module")
def three_imports() -> tuple[Stack, Template]:
    """Two transforms, three imports: one from an asset, one from S3, one from a bucket."""
    stack = new_stack()
    first = find_matches_transform(stack, "First")
    second = find_matches_transform(stack, "Second")
    labels = Path(__file__).parent.parent / "labels" / "round-1.csv"
    LabelImport(stack, "FromAsset", transform=first, source=LabelSource.from_asset(str(labels)))
    LabelImport(
        stack,
        "FromS3",
        transform=second,
        source=LabelSource.from_s3_path("s3://my-labels/round-2.csv"),
        replace_all_labels=True,
        timeout=Duration.minutes(20),
    )
    by_id = LabelImport(
        stack,
        "ById",
        transform="tfm-0123456789abcdef",
        source=LabelSource.from_bucket(aws_s3.Bucket.from_bucket_name(stack, "Bucket", "team-labels"), "r3.csv"),
    )
    CfnOutput(stack, "TaskRunId", value=by_id.task_run_id)
    return stack, Template.from_stack(stack)


# The Glue ML emulation's tests (test_glue_ml_*.py): moto in process on a clock of their own; a module
# that drives moto otherwise (test_cli_aws.py, test_glue_ml_faults.py) defines its own.
@pytest.fixture
def clock() -> FakeClock:
    """The emulation's clock, fake: sleeping moves it on."""
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def ml(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[GlueMLTaskRuns]:
    """The installed extension's controller, reset and driven by ``clock``."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    install()
    glue_ml.reset()
    glue_ml.clock = clock
    yield glue_ml
    glue_ml.reset()


@pytest.fixture
def aws(ml: GlueMLTaskRuns) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def served(aws: None) -> Iterator[CheckedResponses]:
    """What a Glue client on moto receives: every response must be valid against botocore's model."""
    checked = CheckedResponses(boto3.client("glue", region_name=REGION, config=NO_RETRIES))
    yield checked
    assert checked.problems == []


@pytest.fixture
def glue(served: CheckedResponses) -> Any:
    return served.client


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def transform_id(glue: Any) -> str:
    return create_transform(glue)
