"""Custom::GlueGenerateLabelingSet on moto, in process, on a controlled clock: the next labeling set."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest

from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.requests import BUCKET, GENERATION, cfn_event, generation_props
from handler_driver import Handler
from support import share


def generate(handler: Handler, request_type: str, properties: dict[str, Any], **kwargs: Any) -> Any:
    return handler(cfn_event(request_type, properties, resource_type=GENERATION, **kwargs))


def keys_under(folder: str) -> list[str]:
    bucket, _, prefix = folder[len("s3://") :].partition("/")
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_each_round_goes_to_a_new_folder_that_sorts_in_time_order(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()  # no labels yet: the first round starts so
    first = generate(handler, "Create", generation_props(transform_id, after=("tsk-1",)))
    second = generate(
        handler,
        "Update",
        generation_props(transform_id, after=("tsk-2",)),
        old_properties=generation_props(transform_id, after=("tsk-1",)),
        physical_id="next-round",
    )
    assert first["Status"] == second["Status"] == "SUCCESS", (first, second)
    folders = [first["Data"]["OutputS3Path"], second["Data"]["OutputS3Path"]]
    mark = "[0-9a-f]{8}"  # the folder: the time, then the resource's mark and the request's
    folder_name = re.compile(rf"s3://{BUCKET}/labeling-sets/\d{{8}}T\d{{9}}Z-{mark}-{mark}/")
    assert all(folder_name.fullmatch(folder) for folder in folders), folders
    assert folders[0] < folders[1]
    (start, _) = task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")
    assert start == {"TransformId": transform_id, "OutputS3Path": folders[0]}
    assert first["Data"]["TaskRunId"] == task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"]
    assert len(keys_under(folders[0])) == 3 and keys_under(folders[0])[0].endswith("part-00000.csv")


def test_an_update_with_nothing_new_generates_nothing(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    created = generate(handler, "Create", generation_props(transform_id))
    again = generate(
        handler,
        "Update",
        {**generation_props(transform_id), "ServiceTimeout": 1800},
        old_properties=generation_props(transform_id),
        physical_id="next-round",
    )
    assert again["Status"] == "SUCCESS" and again["Data"] == created["Data"]
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 1


def test_a_delete_mid_run_cancels_the_generation_and_leaves_the_files(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 3600
    under_the_same_prefix = handler.glue.start_ml_labeling_set_generation_task_run(
        TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/labeling-sets/20261127T000000000Z/"
    )["TaskRunId"]
    assert handler(cfn_event("Create", generation_props(transform_id), resource_type=GENERATION), share(10)) is None
    (handed_over,) = handler.lambda_client.invocations
    mine = handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    answer = generate(handler, "Delete", generation_props(transform_id), physical_id="next-round")
    assert answer["Status"] == "SUCCESS"
    assert task_runs.calls_to("CancelMLTaskRun") == [{"TransformId": transform_id, "TaskRunId": mine}]
    assert (
        handler.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=under_the_same_prefix)["Status"] == "RUNNING"
    )


def test_a_failed_generation_fails_with_glues_reason(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(final_status="FAILED", error_string="Access denied writing to s3://labels-bucket/")
    answer = generate(handler, "Create", generation_props(transform_id))
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("FAILED: Access denied writing to s3://labels-bucket/ (task run tsk")


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("labeling-sets/", "OutputS3Path 'labeling-sets/' must start with s3://"),
        (
            "s3://Bad_Bucket/x/",
            "OutputS3Path 's3://Bad_Bucket/x/' bucket name 'Bad_Bucket' is not a valid S3 bucket name",
        ),
    ],
)
def test_a_bad_output_path_fails_before_any_glue_call(
    handler: Handler, task_runs: GlueMLTaskRuns, output: str, reason: str
) -> None:
    answer = generate(handler, "Create", generation_props("tfm-1", output=output))
    assert answer["Status"] == "FAILED" and answer["Reason"].startswith(reason)
    assert task_runs.calls == []
