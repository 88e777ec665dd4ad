"""What the tests share: small stacks, CloudFormation events, a Lambda context, label files, a fake clock.

One module, so that no test file keeps its own copy of a helper.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from botocore.config import Config
from botocore.exceptions import ClientError

from glue_label_import._handler.handover import HANDOVER_MARGIN_S
from glue_label_import.testing.examples import GLUE_ROLE_ARN
from glue_label_import.testing.requests import BUCKET, FUNCTION_ARN, create_transform


def new_stack(outdir: str | None = None) -> Stack:
    """An empty stack in a fresh app."""
    return Stack(App(outdir=outdir), "Labels")


def logical_id(stack: Stack, construct: Any) -> str:
    """The logical id of the custom resource of a construct of this library (its child "Resource")."""
    return str(stack.resolve(construct.node.find_child("Resource").node.default_child.logical_id))


def glue_role(stack: Stack) -> iam.IRole:
    """An imported Glue service role."""
    return iam.Role.from_role_arn(stack, "GlueRole", GLUE_ROLE_ARN)


def share(seconds: float) -> float:
    """The remaining time of an invocation whose own share of time (before its hand-over margin) is
    `seconds`: `share(1)` starts or waits a second, then hands the request over."""
    return HANDOVER_MARGIN_S + seconds


def wait_for(condition: Callable[[], Any], timeout_s: float = 30) -> Any:
    """Poll `condition` (in real time) until it answers something truthy; return that answer."""
    deadline = time.monotonic() + timeout_s
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
    return found


OTHER_STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Other/77aa0c10-0a6b-11ef-9b7e-0a1b2c3d4e5f"


class LambdaContext:
    """The parts of Lambda's context object the handler uses; remaining time from a clock."""

    def __init__(self, remaining_s: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._end = clock() + remaining_s
        self.function_name = FUNCTION_ARN.rsplit(":", 1)[1]
        self.invoked_function_arn = FUNCTION_ARN
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - self._clock()) * 1000))


class FakeClock:
    """Fake time for the handler's Clock: sleeping moves it on at once, and each sleep is recorded."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


FETCHED = """\
labeling_set_id,label,customer_id,name,email,city
s1,,1,Ana Silva,ana@example.com,Lisbon
s1,,2,Ana Silva,ana.silva@example.com,Lisbon
s1,,3,Ana Sylva,ana@example.com,Lisbon
s2,,4,Bo Chen,bo@example.com,Oslo
s2,,5,Bo Chen,bo@example.com,Bergen
s2,,6,Cy Dahl,cy@example.com,Oslo
s2,,7,Bo Chen,bo@example.com,Oslo
s3,,8,Di Ek,di@example.com,Rome
s3,,9,Di Ek,di@example.com,Rome
"""
"""A labeling set as `glue-label-import fetch` writes it, still to label: 3 sets, 9 rows."""


def write_fetched(folder: Path, content: str = FETCHED) -> Path:
    """Write ``content`` (default :data:`FETCHED`) as ``fetched.csv`` in ``folder``; its path."""
    path = folder / "fetched.csv"
    path.write_text(content, encoding="utf-8")
    return path


# Errors any AWS JSON service may answer without its model listing them.
COMMON_ERROR_CODES = frozenset({"ThrottlingException", "AccessDeniedException", "UnrecognizedClientException"})


def shape_errors(shape: Any, value: Any, where: str = "") -> list[str]:
    """Where a decoded JSON value breaks a botocore shape: unknown or missing members, wrong types,
    values outside an enum, a length or a range. Empty when the value is valid."""
    name = where or shape.name
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{name}: a structure, got {value!r}"]
        errors = [f"{name}: unknown member {key}" for key in value if key not in shape.members]
        errors += [f"{name}: missing {key}" for key in shape.required_members if key not in value]
        for key, member in shape.members.items():
            if key in value:
                errors += shape_errors(member, value[key], f"{name}.{key}")
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{name}: a list, got {value!r}"]
        errors = _size_errors(shape, len(value), name)
        for index, item in enumerate(value):
            errors += shape_errors(shape.member, item, f"{name}[{index}]")
        return errors
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{name}: a map, got {value!r}"]
        return [e for key, item in value.items() for e in shape_errors(shape.value, item, f"{name}[{key}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{name}: a string, got {value!r}"]
        if shape.enum and value not in shape.enum:
            return [f"{name}: {value!r} is not one of {shape.enum}"]
        return _size_errors(shape, len(value), name)
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{name}: an integer, got {value!r}"]
        return _size_errors(shape, value, name)
    if kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return [f"{name}: a number, got {value!r}"]
        return _size_errors(shape, value, name)
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{name}: a boolean, got {value!r}"]
    if kind == "timestamp":  # epoch seconds on the wire of a JSON protocol
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{name}: epoch seconds, got {value!r}"]
    return [f"{name}: no check for shapes of type {kind}"]


def _size_errors(shape: Any, size: float, name: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and size < low) or (high is not None and size > high):
        return [f"{name}: {size} is outside [{low}, {high}]"]
    return []


def response_errors(operation_model: Any, status: int, body: bytes) -> list[str]:
    """Where an HTTP response of a JSON-protocol AWS operation breaks botocore's model: its output
    shape, or for an error, one of the operation's modelled errors (or a common one) and its shape."""
    decoded = json.loads(body) if body else {}
    name = operation_model.name
    if status < 300:
        if operation_model.output_shape is None:
            return [] if not decoded else [f"{name}: a body where the model has no output"]
        return shape_errors(operation_model.output_shape, decoded, name)
    code = str(decoded.get("__type", "")).rsplit("#", 1)[-1]
    modelled = {error.name: error for error in operation_model.error_shapes}
    if code not in modelled and code not in COMMON_ERROR_CODES:
        return [f"{name}: error {code!r} is not among its modelled errors {sorted(modelled)}"]
    message = decoded.get("message", decoded.get("Message"))
    errors = [] if isinstance(message, str) else [f"{name} {code}: no message"]
    if code in modelled:
        fields = {k: v for k, v in decoded.items() if k not in ("__type", "message", "Message")}
        errors += shape_errors(modelled[code], fields, f"{name} {code}")
    return errors


class CheckedResponses:
    """Every response a boto3 client receives, checked against botocore's model as it arrives."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.problems: list[str] = []
        self.seen: set[tuple[str, str]] = set()  # (operation, error code or "OK")
        client.meta.events.register("before-parse", self._check)

    def _check(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict["body"]
        status = response_dict["status_code"]
        code = "OK" if status < 300 else str(json.loads(body).get("__type", "")).rsplit("#", 1)[-1]
        self.seen.add((operation_model.name, code))
        self.problems.extend(response_errors(operation_model, status, body))


def resources_of(template: Template, type_: str) -> dict[str, Any]:
    """The resources of one type in a synthesized template, by logical id."""
    found: dict[str, Any] = template.find_resources(type_)
    return found


def handler_statements(template: Template) -> list[dict[str, Any]]:
    """Every statement of the policies on the handler's role."""
    statements: list[dict[str, Any]] = []
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        if "GlueLabelImportProvider" in json.dumps(policy["Properties"]["Roles"]):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def catalog_table(glue: Any, columns: list[str]) -> None:
    """The input table of create_transform's transforms, crm.customers, in (moto's) Glue catalog, with
    these (string) columns: GetMLTransform's Schema, and the columns of its labeling sets and importances."""
    glue.create_database(DatabaseInput={"Name": "crm"})
    glue.create_table(
        DatabaseName="crm",
        TableInput={
            "Name": "customers",
            "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in columns]},
        },
    )


# The Glue ML emulation's tests (test_glue_ml_*.py): a transform, a label file, runs started and read.
REGION = "us-east-1"
LABELS_CSV = "labeling_set_id,label,id,name\nset-1,A,1,alice\nset-1,A,2,alicia\nset-2,B,3,bob\n"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def start(glue: Any, transform_id: str, path: str = f"s3://{BUCKET}/labels.csv", **kwargs: Any) -> str:
    """Start an import of ``path`` into the transform; the run's id."""
    response = glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=path, **kwargs)
    return str(response["TaskRunId"])


def status(glue: Any, transform_id: str, task_run_id: str) -> str:
    """The run's status as GetMLTaskRun reports it."""
    return str(glue.get_ml_task_run(TransformId=transform_id, TaskRunId=task_run_id)["Status"])


def label_count(glue: Any, transform_id: str) -> int:
    """The transform's LabelCount as GetMLTransform reports it."""
    return int(glue.get_ml_transform(TransformId=transform_id)["LabelCount"])


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    """The AWS error code of a ClientError a test caught."""
    return str(error.value.response["Error"]["Code"])


def succeeded(clock: FakeClock, glue: Any, transform_id: str) -> dict[str, Any]:
    """Let the runs started so far end (default 3 s), and read the transform as Glue reports it."""
    clock.sleep(3)
    return dict(glue.get_ml_transform(TransformId=transform_id))


def labelled(glue: Any, s3: Any, clock: FakeClock, name: str = "customers") -> str:
    """A transform with labels, READY for evaluations."""
    transform_id = create_transform(glue, name)
    labelled_with(glue, s3, clock, transform_id)
    return transform_id


def labelled_with(glue: Any, s3: Any, clock: FakeClock, transform_id: str) -> str:
    """Import LABELS_CSV into the transform and let the run succeed; the run's id."""
    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=LABELS_CSV.encode())
    run_id = start(glue, transform_id)
    succeeded(clock, glue, transform_id)
    return run_id
