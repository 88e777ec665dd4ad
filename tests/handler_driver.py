"""The handler driven in process: moto's AWS, a controlled clock, recorded answers and hand-overs.

The `handler` fixture (in conftest.py) runs CloudFormation requests through the real handler
module (`index`): Glue, S3, DynamoDB (the run ledger) and CloudFormation's DescribeStacks go to
moto (with the emulation's task runs and stack statuses; the test stack is UPDATE_IN_PROGRESS
unless a test sets it otherwise), the answer goes through the handler's own sender to a recording
connection, and a hand-over to a recording Lambda client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from glue_label_import._handler import answers, index
from glue_label_import._handler.engine import Engine
from glue_label_import._handler.glue_runs import TaskRuns
from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import._handler.ledger import Ledger
from glue_label_import._handler.retries import Clock
from glue_label_import.testing import GlueMLTaskRuns, stacks
from glue_label_import.testing.examples import LABELS
from glue_label_import.testing.requests import (
    BUCKET,
    GENERATION,
    LEDGER_TABLE,
    SECRET,
    STACK_ID,
    cfn_event,
    create_ledger,
    create_transform,
    generation_props,
    props,
)
from support import NO_RETRIES, FakeClock, LambdaContext

ROUND_1 = f"s3://{BUCKET}/round-1.csv"  # the label files driven_handler puts in BUCKET
ROUND_2 = f"s3://{BUCKET}/round-2.csv"


class RecordingConnection:
    """Stands in for http.client.HTTPSConnection in crhelper: records each PUT to the ResponseURL."""

    answers: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, host: str, timeout: float | None = None, context: Any = None) -> None:
        self.host = host

    def request(self, method: str, url: str, body: str, headers: dict[str, str]) -> None:
        assert method == "PUT"
        self.answers.append({"path": url, "body": json.loads(body)})

    def getresponse(self) -> Any:
        return type("Response", (), {"reason": "OK", "status": 200, "read": lambda self: b""})()

    def close(self) -> None:
        pass


class RecordingLambda:
    """Stands in for the Lambda client: records asynchronous self-invocations (hand-overs)."""

    def __init__(self) -> None:
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.invocations.append({**kwargs, "Payload": json.loads(kwargs["Payload"])})
        return {"StatusCode": 202}


class Handler:
    """Runs CloudFormation requests through the real handler and reads back its answers."""

    def __init__(self, clock: FakeClock, lambda_client: RecordingLambda, glue: Any, monkeypatch: Any) -> None:
        self.clock = clock
        self.lambda_client = lambda_client
        self.glue = glue
        self.dynamodb = boto3.client("dynamodb")
        self._monkeypatch = monkeypatch

    def __call__(self, event: dict[str, Any], remaining_s: float = 900) -> dict[str, Any] | None:
        """Invoke the handler; return its one answer to this request, or None if it answered nothing."""
        before = len(RecordingConnection.answers)
        index.handler(event, LambdaContext(remaining_s, self.clock))
        answers = RecordingConnection.answers[before:]
        assert len(answers) <= 1, answers
        for answer in answers:
            assert answer["path"] == urlsplit(event["ResponseURL"]).path + "?" + SECRET
        return answers[0]["body"] if answers else None

    def use_engine(self, *, glue: Any = None, lambda_client: Any = None, dynamodb: Any = None) -> Engine:
        """Run the handler, until the test ends, on an engine of these clients: by default its own Glue and
        Lambda clients, and moto's DynamoDB (see engine_on). The engine, for the test to change further."""
        engine = engine_on(
            self.glue if glue is None else glue,
            self.lambda_client if lambda_client is None else lambda_client,
            self.clock,
            dynamodb=dynamodb,
        )
        self._monkeypatch.setattr(index, "engine", engine)
        return engine

    def transform(self, name: str = "customers") -> str:
        return create_transform(self.glue, name)

    def labelled_transform(self) -> str:
        """A transform with labels (READY), imported through the handler."""
        transform_id = self.transform()
        answer = self(cfn_event("Create", props(transform_id, replace=True), logical_id="Import"))
        assert answer is not None and answer["Status"] == "SUCCESS"
        return transform_id

    def handed_over_run(self) -> str:
        """The TaskRunId in the state of the last hand-over."""
        run_id: str = self.lambda_client.invocations[-1]["Payload"][HANDOVER_KEY]["TaskRunId"]
        return run_id

    def runs(self, transform_id: str) -> list[dict[str, Any]]:
        """The transform's task runs, newest first, as GetMLTaskRuns lists them."""
        return list(self.glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"])

    def running(self, transform_id: str) -> list[str]:
        """The ids of the transform's task runs still starting or running."""
        return [run["TaskRunId"] for run in self.runs(transform_id) if run["Status"] in ("STARTING", "RUNNING")]


def driven_handler(task_runs: GlueMLTaskRuns, monkeypatch: Any) -> Iterator[Handler]:
    """The handler module on moto and a fake clock, with the label files round-1.csv and round-2.csv in BUCKET."""
    clock = FakeClock()
    task_runs.clock = clock
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="round-1.csv", Body=LABELS.encode())
        s3.put_object(Bucket=BUCKET, Key="round-2.csv", Body=LABELS.encode())
        glue = boto3.client("glue", config=NO_RETRIES)
        create_ledger(boto3.client("dynamodb"))
        stacks.set(STACK_ID, "UPDATE_IN_PROGRESS")
        lambda_client = RecordingLambda()
        monkeypatch.setattr(index, "engine", engine_on(glue, lambda_client, clock))
        monkeypatch.setattr(index, "CLOCK", Clock(now=clock, sleep=clock.sleep))
        monkeypatch.setattr(answers, "HTTPSConnection", RecordingConnection)
        yield Handler(clock, lambda_client, glue, monkeypatch)


class Answering:
    """A Glue client that answers one operation with what the test says, after doing the real call."""

    def __init__(self, glue: Any, operation: str, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._glue, self._operation, self._answer = glue, operation, answer

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._glue, name)
        if name != self._operation:
            return call
        return lambda **params: self._answer(call(**params))


def engine_on(glue: Any, lambda_client: Any, clock: FakeClock, *, dynamodb: Any = None) -> Engine:
    """The handler's engine on these clients and this clock, its ledger on moto's LEDGER_TABLE."""
    retry_clock = Clock(now=clock, sleep=clock.sleep)
    runs = TaskRuns(glue, clock=retry_clock)
    ledger = Ledger(dynamodb or boto3.client("dynamodb"), LEDGER_TABLE, clock=retry_clock)
    return Engine(
        runs,
        runs,
        lambda_client=lambda_client,
        s3=boto3.client("s3"),
        cloudformation=boto3.client("cloudformation"),
        ledger=ledger,
        clock=retry_clock,
    )


class Refusing:
    """A client whose calls of `refused` (an operation's name, or a test of the name and the parameters)
    always answer the error `code` (throttled, denied); the rest go through."""

    def __init__(
        self, client: Any, refused: str | Callable[[str, dict[str, Any]], bool], code: str = "ThrottlingException"
    ) -> None:
        self._client, self._code = client, code
        self._refused = refused if callable(refused) else lambda name, _params: name == refused
        self.refusals = 0

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        def maybe(**params: Any) -> Any:
            if self._refused(name, params):
                self.refusals += 1
                raise ClientError({"Error": {"Code": self._code, "Message": "Rate exceeded"}}, name)
            return call(**params)

        return maybe


def generation_update(transform_id: str, new: str, old: str, *, physical_id: str = "gen-1") -> dict[str, Any]:
    """An Update of the generation `physical_id` whose After goes from run `old` to run `new`."""
    return cfn_event(
        "Update",
        generation_props(transform_id, after=(new,)),
        resource_type=GENERATION,
        physical_id=physical_id,
        old_properties=generation_props(transform_id, after=(old,)),
    )


def import_update(
    transform_id: str, new: str, old: str, *, physical_id: str = "labels-1", **kwargs: Any
) -> dict[str, Any]:
    """An Update of the replacing import `physical_id` from label file `old` to `new`; `kwargs` go to both
    props (timeout=120)."""
    return cfn_event(
        "Update",
        props(transform_id, new, replace=True, **kwargs),
        physical_id=physical_id,
        old_properties=props(transform_id, old, replace=True, **kwargs),
    )


def throttled_dynamodb(refused: str | Callable[[str, dict[str, Any]], bool]) -> Refusing:
    """A DynamoDB client (the run ledger's) whose `refused` calls are always throttled."""
    return Refusing(boto3.client("dynamodb"), refused, "ProvisionedThroughputExceededException")


class Crash(BaseException):  # the sandbox dying (OOM, a kill): nothing in the handler catches it
    """The invocation dies here: no answer, no hand-over, nothing after it runs."""


def crash_once(target: Any, name: str, monkeypatch: Any) -> None:
    """Make `target.name` kill the invocation the first time it is called, then behave again."""
    real = getattr(target, name)
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, dying)
