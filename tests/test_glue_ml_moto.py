"""The Glue ML emulation for moto (glue_label_import.testing): runs on the clock, cancel, listing,
scripted errors, the calls logged, moto's server, and every response valid against botocore's model."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker
from moto.server import ThreadedMotoServer

from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.requests import BUCKET, create_transform
from support import (
    NO_RETRIES,
    REGION,
    CheckedResponses,
    FakeClock,
    catalog_table,
    error_code,
    labelled_with,
    shape_errors,
    start,
    status,
    succeeded,
)


def test_run_progresses_through_statuses_on_the_controlled_clock(
    ml: GlueMLTaskRuns, glue: Any, transform_id: str, clock: FakeClock
) -> None:
    ml.check_s3_objects = False
    started_at = clock.now
    task_run_id = start(glue, transform_id, ReplaceAllLabels=True)
    assert task_run_id.startswith("tsk") and len(task_run_id) == 35

    assert status(glue, transform_id, task_run_id) == "STARTING"
    clock.sleep(1)
    assert status(glue, transform_id, task_run_id) == "RUNNING"
    clock.sleep(1.9)
    assert status(glue, transform_id, task_run_id) == "RUNNING"
    clock.sleep(0.1)
    run = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=task_run_id)

    assert run["Status"] == "SUCCEEDED"
    assert run["TransformId"] == transform_id
    assert run["LogGroupName"] == "/aws-glue/ml-transforms"
    assert run["Properties"] == {
        "TaskType": "IMPORT_LABELS",
        "ImportLabelsTaskRunProperties": {
            "InputS3Path": f"s3://{BUCKET}/labels.csv",
            "Replace": True,
        },
    }
    assert run["StartedOn"] == datetime.fromtimestamp(started_at, tz=timezone.utc)
    assert run["CompletedOn"] == run["LastModifiedOn"]
    assert run["ExecutionTime"] == 3
    assert "ErrorString" not in run


def test_scripted_run_fails_with_its_error_string(
    ml: GlueMLTaskRuns, glue: Any, transform_id: str, clock: FakeClock
) -> None:
    ml.check_s3_objects = False
    ml.script_next_run(running_seconds=5, final_status="FAILED", error_string="bad labels")
    failing = start(glue, transform_id)
    default = start(glue, transform_id)

    clock.sleep(5.5)
    assert status(glue, transform_id, failing) == "RUNNING"
    assert status(glue, transform_id, default) == "SUCCEEDED"
    clock.sleep(0.5)
    run = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=failing)
    assert (run["Status"], run["ErrorString"]) == ("FAILED", "bad labels")


def test_scripted_timeout(ml: GlueMLTaskRuns, glue: Any, transform_id: str, clock: FakeClock) -> None:
    ml.check_s3_objects = False
    ml.script_next_run(starting_seconds=0, running_seconds=1, final_status="TIMEOUT")
    task_run_id = start(glue, transform_id)
    clock.sleep(1)
    assert status(glue, transform_id, task_run_id) == "TIMEOUT"


def test_cancel_stops_an_active_run_and_leaves_a_finished_one(
    ml: GlueMLTaskRuns, glue: Any, transform_id: str, clock: FakeClock
) -> None:
    ml.check_s3_objects = False
    ml.script_next_run(starting_seconds=0, running_seconds=0)
    finished = start(glue, transform_id)
    active = start(glue, transform_id)
    clock.sleep(1.5)

    cancelled = glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=active)
    assert {k: cancelled[k] for k in ("TransformId", "TaskRunId", "Status")} == {
        "TransformId": transform_id,
        "TaskRunId": active,
        "Status": "STOPPING",
    }
    clock.sleep(0.5)
    assert status(glue, transform_id, active) == "STOPPING"
    clock.sleep(0.5)
    run = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=active)
    assert run["Status"] == "STOPPED"
    assert run["CompletedOn"] == datetime.fromtimestamp(clock.now, tz=timezone.utc)

    for task_run_id, final in ((active, "STOPPED"), (finished, "SUCCEEDED")):
        again = glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=task_run_id)
        assert again["Status"] == final


def test_get_ml_task_runs_filters_sorts_and_paginates(
    ml: GlueMLTaskRuns, glue: Any, transform_id: str, clock: FakeClock
) -> None:
    ml.check_s3_objects = False
    ml.script_next_run(final_status="FAILED", error_string="boom")
    runs = []
    for _ in range(3):
        runs.append(start(glue, transform_id))
        clock.sleep(10)
    latest = start(glue, transform_id)
    start(glue, create_transform(glue))  # another transform's run is never listed

    def ids(**kwargs: Any) -> list[str]:
        response = glue.get_ml_task_runs(TransformId=transform_id, **kwargs)
        return [run["TaskRunId"] for run in response["TaskRuns"]]

    assert ids() == [latest, *reversed(runs)]
    assert ids(Sort={"Column": "STARTED", "SortDirection": "ASCENDING"}) == [*runs, latest]
    assert ids(Sort={"Column": "STATUS", "SortDirection": "ASCENDING"}) == [
        runs[0],  # FAILED
        latest,  # STARTING
        runs[2],  # SUCCEEDED, newer first among equals
        runs[1],
    ]
    assert ids(Filter={"Status": "SUCCEEDED"}) == [runs[2], runs[1]]
    assert ids(Filter={"TaskRunType": "EVALUATION"}) == []
    assert ids(Filter={"TaskRunType": "IMPORT_LABELS"}) == [latest, *reversed(runs)]
    started_on = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=runs[1])["StartedOn"]
    assert ids(Filter={"StartedAfter": started_on}) == [latest, runs[2]]
    assert ids(Filter={"StartedBefore": started_on}) == [runs[0]]

    ascending = {"Column": "STARTED", "SortDirection": "ASCENDING"}
    first = glue.get_ml_task_runs(TransformId=transform_id, Sort=ascending, MaxResults=3)
    second = glue.get_ml_task_runs(TransformId=transform_id, Sort=ascending, MaxResults=3, NextToken=first["NextToken"])
    assert [run["TaskRunId"] for run in first["TaskRuns"]] == runs
    assert [run["TaskRunId"] for run in second["TaskRuns"]] == [latest]
    assert "NextToken" not in second


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("start_import_labels_task_run", {"InputS3Path": "s3://b/k"}),
        ("get_ml_task_run", {"TaskRunId": "tsk0"}),
        ("get_ml_task_runs", {}),
        ("cancel_ml_task_run", {"TaskRunId": "tsk0"}),
    ],
)
def test_unknown_transform_is_entity_not_found(glue: Any, operation: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(ClientError) as error:
        getattr(glue, operation)(TransformId="tfm-unknown", **kwargs)
    assert error_code(error) == "EntityNotFoundException"
    assert error.value.response["Error"]["Message"] == "MLTransform tfm-unknown not found"


def test_unknown_task_run_is_entity_not_found(glue: Any, transform_id: str) -> None:
    for operation in (glue.get_ml_task_run, glue.cancel_ml_task_run):
        with pytest.raises(ClientError) as error:
            operation(TransformId=transform_id, TaskRunId="tsk-unknown")
        assert error_code(error) == "EntityNotFoundException"


@pytest.mark.parametrize("path", ["labels.csv", "s3://bucket-only", "s3://bucket/", "https://b/k"])
def test_malformed_input_path_is_invalid_input(glue: Any, transform_id: str, path: str) -> None:
    with pytest.raises(ClientError) as error:
        start(glue, transform_id, path)
    assert error_code(error) == "InvalidInputException"


def test_scripted_throttling_reaches_boto3_as_throttling(ml: GlueMLTaskRuns, glue: Any, transform_id: str) -> None:
    ml.fail_next("StartImportLabelsTaskRun", "ThrottlingException", "Rate exceeded", times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as error:
            start(glue, transform_id)
        assert error_code(error) == "ThrottlingException"
        assert error.value.response["Error"]["Message"] == "Rate exceeded"
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        retry_context = RetryContext(attempt_number=1, parsed_response=error.value.response)
        assert ThrottledRetryableChecker().is_retryable(retry_context)

    ml.check_s3_objects = False
    assert start(glue, transform_id).startswith("tsk")
    assert len(ml.calls_to("StartImportLabelsTaskRun")) == 3


@pytest.mark.parametrize(
    ("code", "http_status"),
    [
        ("InternalServiceException", 500),
        ("OperationTimeoutException", 400),
        ("InvalidInputException", 400),
        ("EntityNotFoundException", 400),
    ],
)
def test_scripted_error_codes_and_http_statuses(
    ml: GlueMLTaskRuns, glue: Any, transform_id: str, code: str, http_status: int
) -> None:
    ml.check_s3_objects = False
    task_run_id = start(glue, transform_id)
    ml.fail_next("GetMLTaskRun", code, "scripted")
    with pytest.raises(ClientError) as error:
        status(glue, transform_id, task_run_id)
    assert error_code(error) == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == http_status
    assert status(glue, transform_id, task_run_id) == "STARTING"


def test_fail_next_rejects_operations_it_does_not_serve(ml: GlueMLTaskRuns) -> None:
    with pytest.raises(ValueError):
        ml.fail_next("GetMLTransform", "ThrottlingException", "nope")


def test_calls_are_logged_in_order(ml: GlueMLTaskRuns, glue: Any, transform_id: str) -> None:
    ml.check_s3_objects = False
    task_run_id = start(glue, transform_id)
    status(glue, transform_id, task_run_id)
    glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=task_run_id)

    assert [operation for operation, _ in ml.calls] == [
        "StartImportLabelsTaskRun",
        "GetMLTaskRun",
        "CancelMLTaskRun",
    ]
    assert ml.calls_to("StartImportLabelsTaskRun") == [
        {"TransformId": transform_id, "InputS3Path": f"s3://{BUCKET}/labels.csv"}
    ]
    assert ml.calls_to("GetMLTaskRun") == [{"TransformId": transform_id, "TaskRunId": task_run_id}]


def test_operations_are_served_by_threaded_moto_server(ml: GlueMLTaskRuns, clock: FakeClock) -> None:
    ml.check_s3_objects = False
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        glue = boto3.client("glue", region_name=REGION, endpoint_url=f"http://{host}:{port}", config=NO_RETRIES)
        served = CheckedResponses(glue)
        transform_id = create_transform(glue)
        task_run_id = start(glue, transform_id)
        clock.sleep(1)
        assert status(glue, transform_id, task_run_id) == "RUNNING"
        runs = glue.get_ml_task_runs(TransformId=transform_id, Filter={"Status": "RUNNING"})
        assert [run["TaskRunId"] for run in runs["TaskRuns"]] == [task_run_id]
        cancelled = glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=task_run_id)
        assert cancelled["Status"] == "STOPPING"
        ml.fail_next("GetMLTaskRun", "ThrottlingException", "Rate exceeded")
        with pytest.raises(ClientError) as error:
            status(glue, transform_id, task_run_id)
        assert error_code(error) == "ThrottlingException"
        assert served.problems == []
    finally:
        server.stop()


def test_every_ml_operation_and_refusal_served_is_valid_against_botocores_model(
    served: CheckedResponses, glue: Any, s3: Any, clock: FakeClock, ml: GlueMLTaskRuns
) -> None:
    catalog_table(glue, ["customer_id", "name"])
    transform_id = create_transform(glue)
    attempts: list[Any] = [
        lambda: glue.start_ml_evaluation_task_run(TransformId=transform_id),  # not ready
        lambda: glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/x/"),
        lambda: start(glue, transform_id, f"s3://{BUCKET}/missing.csv"),
        lambda: start(glue, transform_id, "not-a-path"),
        lambda: glue.get_ml_task_run(TransformId=transform_id, TaskRunId="tsk-unknown"),
        lambda: glue.get_ml_transform(TransformId="tfm-unknown"),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError):
            attempt()
    run_id = labelled_with(glue, s3, clock, transform_id)
    glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
    glue.get_ml_task_runs(TransformId=transform_id, MaxResults=1)
    for _ in range(2):
        glue.start_ml_evaluation_task_run(TransformId=transform_id)
    generation = glue.start_ml_labeling_set_generation_task_run(
        TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/sets/"
    )["TaskRunId"]
    with pytest.raises(ClientError):
        glue.start_ml_evaluation_task_run(TransformId=transform_id)  # a fourth
    glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=generation)
    glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/x/")
    succeeded(clock, glue, transform_id)
    glue.get_ml_transforms()
    ml.fail_next("GetMLTaskRun", "InternalServiceException", "scripted")
    with pytest.raises(ClientError):
        glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)

    assert served.problems == []
    assert served.seen >= {
        ("StartImportLabelsTaskRun", "OK"),
        ("StartImportLabelsTaskRun", "InvalidInputException"),
        ("StartMLEvaluationTaskRun", "OK"),
        ("StartMLEvaluationTaskRun", "MLTransformNotReadyException"),
        ("StartMLEvaluationTaskRun", "ConcurrentRunsExceededException"),
        ("StartMLLabelingSetGenerationTaskRun", "OK"),
        ("StartExportLabelsTaskRun", "OK"),
        ("StartExportLabelsTaskRun", "EntityNotFoundException"),
        ("GetMLTaskRun", "OK"),
        ("GetMLTaskRun", "EntityNotFoundException"),
        ("GetMLTaskRun", "InternalServiceException"),
        ("GetMLTaskRuns", "OK"),
        ("CancelMLTaskRun", "OK"),
        ("GetMLTransform", "OK"),
        ("GetMLTransform", "EntityNotFoundException"),
        ("GetMLTransforms", "OK"),
    }


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"TaskRunId": "tsk1", "Extra": 1}, "StartImportLabelsTaskRun: unknown member Extra"),
        ({"TaskRunId": ""}, "StartImportLabelsTaskRun.TaskRunId: 0 is outside [1, 255]"),
        ({"TaskRunId": 7}, "StartImportLabelsTaskRun.TaskRunId: a string, got 7"),
    ],
)
def test_the_shape_check_finds_what_breaks_the_model(value: dict[str, Any], problem: str) -> None:
    operation = boto3.client("glue", region_name=REGION).meta.service_model.operation_model("StartImportLabelsTaskRun")
    assert shape_errors(operation.output_shape, value, "StartImportLabelsTaskRun") == [problem]
