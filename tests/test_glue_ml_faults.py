"""The emulation's faults and CloudFormation statuses (glue_label_import.testing), through boto3 on moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from glue_label_import.testing import MAX_TAGS, GlueMLTaskRuns, replies, stacks
from glue_label_import.testing.examples import LABELS
from glue_label_import.testing.requests import BUCKET, create_transform
from support import NO_RETRIES, FakeClock, error_code, start

PATH = f"s3://{BUCKET}/labels.csv"
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/Nested/1"
ROOT = "arn:aws:cloudformation:us-east-1:123456789012:stack/Root/2"


@pytest.fixture
def glue(task_runs: GlueMLTaskRuns) -> Iterator[Any]:
    task_runs.clock = FakeClock()
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=LABELS.encode())
        yield boto3.client("glue", config=NO_RETRIES)


def test_tag_resource_past_glues_limit_is_refused(glue: Any) -> None:
    arn = f"arn:aws:glue:us-east-1:123456789012:mlTransform/{create_transform(glue)}"
    glue.tag_resource(ResourceArn=arn, TagsToAdd={f"k{n}": "v" for n in range(MAX_TAGS)})
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"k0": "changed"})  # a tag it has: still 50
    with pytest.raises(ClientError) as refused:
        glue.tag_resource(ResourceArn=arn, TagsToAdd={"one-more": "v"})
    assert error_code(refused) == "InvalidInputException"
    assert len(glue.get_tags(ResourceArn=arn)["Tags"]) == MAX_TAGS


def test_a_lost_reply_starts_the_run_and_answers_500(glue: Any, task_runs: GlueMLTaskRuns) -> None:
    transform_id = create_transform(glue)
    replies.lose_next_reply("StartImportLabelsTaskRun")
    with pytest.raises(ClientError) as lost:
        start(glue, transform_id, PATH)
    assert error_code(lost) == "InternalServiceException"
    assert lost.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    (run,) = glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"]
    assert run["Properties"]["ImportLabelsTaskRunProperties"]["InputS3Path"] == PATH
    assert start(glue, transform_id, PATH)  # once only


def test_get_ml_task_runs_lists_a_run_only_after_the_listing_lag(glue: Any, task_runs: GlueMLTaskRuns) -> None:
    transform_id = create_transform(glue)
    replies.listing_lag_seconds = 3.0
    run_id = start(glue, transform_id, PATH)
    assert glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"] == []
    assert glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)["TaskRunId"] == run_id  # by id: at once
    task_runs.clock.sleep(3.0)  # type: ignore[attr-defined]
    assert [run["TaskRunId"] for run in glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"]] == [run_id]


def test_describe_stacks_reports_the_status_set_and_the_root_of_a_nested_stack(glue: Any) -> None:
    stacks.set(STACK, "UPDATE_IN_PROGRESS", root_id=ROOT)
    stacks.set(ROOT, "UPDATE_ROLLBACK_IN_PROGRESS")
    cloudformation = boto3.client("cloudformation")
    (nested,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    assert (nested["StackStatus"], nested["RootId"], nested["ParentId"]) == ("UPDATE_IN_PROGRESS", ROOT, ROOT)
    (root,) = cloudformation.describe_stacks(StackName=ROOT)["Stacks"]
    assert root["StackStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS" and "RootId" not in root
    stacks.reset()
    with pytest.raises(ClientError) as unknown:
        cloudformation.describe_stacks(StackName=STACK)
    assert error_code(unknown) == "ValidationError"
