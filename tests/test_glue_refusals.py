"""The handler meets Glue's refusals at start, as AWS gives them: a FAILED answer quoting Glue, no run.

The emulation refuses what Glue refuses (glue_label_import.testing); the handler answers
CloudFormation with Glue's error code and message, or, for a refusal for capacity, waits for room.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.requests import (
    BUCKET,
    EVALUATION,
    GENERATION,
    cfn_event,
    evaluation_props,
    generation_props,
    props,
)
from handler_driver import Handler
from support import share


@pytest.mark.parametrize(
    ("key", "body", "reason"),
    [
        (
            "missing.csv",
            None,
            f"InvalidInputException: Cannot access the label file at s3://{BUCKET}/missing.csv. "
            "The specified key does not exist.",
        ),
        ("empty.csv", b"", "InvalidInputException: Invalid label file of size 0."),
        (
            "huge.csv",
            b"labeling_set_id,label,customer_id\n" + b"s1,A,1\n" * 1_500_000,
            "ResourceNumberLimitExceededException: Label file has exceeded the limit of 10 MB.",
        ),
    ],
    ids=["missing", "empty", "over 10 MB"],
)
def test_a_label_file_glue_refuses_fails_the_deploy_with_glues_message_before_any_run(
    handler: Handler, task_runs: GlueMLTaskRuns, key: str, body: bytes | None, reason: str
) -> None:
    transform_id = handler.transform()
    if body is not None:
        boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    answer = handler(cfn_event("Create", props(transform_id, f"s3://{BUCKET}/{key}")))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == f"{reason} (transform {transform_id})"
    assert task_runs.calls_to("GetMLTaskRun") == []
    assert handler.runs(transform_id) == []


def test_a_label_file_in_another_region_fails_the_deploy_with_glues_message(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="labels-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="labels-eu", Key="labels.csv", Body=b"labeling_set_id,label,customer_id\ns1,A,1\n")
    answer = handler(cfn_event("Create", props(transform_id, "s3://labels-eu/labels.csv")))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "InvalidInputException: S3 path provided is not in the same region as transform. "
        f"Expecting region - us-east-1, but got - eu-west-1. (transform {transform_id})"
    )
    assert task_runs.calls_to("GetMLTaskRun") == []


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [(EVALUATION, evaluation_props), (GENERATION, generation_props)],
    ids=["evaluation", "generation"],
)
def test_a_transform_with_three_runs_in_flight_makes_the_gate_and_the_generation_wait_for_room(
    handler: Handler, task_runs: GlueMLTaskRuns, resource_type: str, properties: Any
) -> None:
    transform_id = handler.transform()
    handler(cfn_event("Create", props(transform_id)))  # labels, so the transform is READY
    task_runs.running_seconds = 600
    for _ in range(3):
        handler.glue.start_ml_labeling_set_generation_task_run(
            TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/others/"
        )
    answer = handler(cfn_event("Create", properties(transform_id), resource_type=resource_type), remaining_s=share(30))
    assert answer is None  # no answer yet: handed over to wait for room
    (handover,) = handler.lambda_client.invocations
    assert "TaskRunId" not in handover["Payload"][HANDOVER_KEY]  # no run of its own started
    assert len(handler.glue.get_ml_task_runs(TransformId=transform_id, Filter={"Status": "RUNNING"})["TaskRuns"]) == 3
