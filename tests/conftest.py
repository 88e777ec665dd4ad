"""Shared test set-up: fake AWS credentials and region, and moto's Glue with ML task runs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

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

from glue_label_import.testing.requests import STACK_ID  # noqa: E402
from glue_label_import.testing.sandbox import LambdaSandbox, lambda_sandbox  # noqa: E402
from handler_driver import Handler, driven_handler  # noqa: E402  # imports the handler: after the variables above


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
