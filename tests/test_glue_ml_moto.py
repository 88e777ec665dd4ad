"""Tests of the Glue ML emulation for moto (glue_label_import.testing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker
from moto import mock_aws
from moto.server import ThreadedMotoServer

from glue_label_import.testing import GlueMLTaskRuns, glue_ml, install
from glue_label_import.testing.requests import create_transform
from support import CheckedResponses, FakeClock, shape_errors

REGION = "us-east-1"
BUCKET = "labels-bucket"
LABELS_CSV = "labeling_set_id,label,id,name\nset-1,A,1,alice\nset-1,A,2,alicia\nset-2,B,3,bob\n"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture
def clock() -> FakeClock:
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


def start(glue: Any, transform_id: str, path: str = f"s3://{BUCKET}/labels.csv", **kwargs: Any) -> str:
    response = glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=path, **kwargs)
    return str(response["TaskRunId"])


def status(glue: Any, transform_id: str, task_run_id: str) -> str:
    return str(glue.get_ml_task_run(TransformId=transform_id, TaskRunId=task_run_id)["Status"])


def label_count(glue: Any, transform_id: str) -> int:
    return int(glue.get_ml_transform(TransformId=transform_id)["LabelCount"])


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


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


def test_successful_imports_update_label_count(glue: Any, s3: Any, transform_id: str, clock: FakeClock) -> None:
    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=LABELS_CSV.encode())
    s3.put_object(Bucket=BUCKET, Key="more.csv", Body=b"labeling_set_id,label,id\ns,A,9\n\n")

    start(glue, transform_id)
    clock.sleep(2)
    assert label_count(glue, transform_id) == 0  # still running
    clock.sleep(1)
    assert label_count(glue, transform_id) == 3

    start(glue, transform_id, f"s3://{BUCKET}/more.csv", ReplaceAllLabels=False)
    clock.sleep(3)
    assert label_count(glue, transform_id) == 4

    start(glue, transform_id, f"s3://{BUCKET}/more.csv", ReplaceAllLabels=True)
    clock.sleep(3)
    listed = glue.get_ml_transforms()["Transforms"]
    assert [transform["LabelCount"] for transform in listed] == [1]


@pytest.mark.parametrize(
    ("bucket", "key", "body", "code", "message"),
    [
        (BUCKET, "other.csv", LABELS_CSV.encode(), "InvalidInputException",
         f"Cannot access the label file at s3://{BUCKET}/labels.csv. The specified key does not exist."),
        ("elsewhere", "labels.csv", LABELS_CSV.encode(), "InvalidInputException",
         f"Cannot access the label file at s3://{BUCKET}/labels.csv. The specified bucket does not exist"),
        (BUCKET, "labels.csv", b"", "InvalidInputException", "Invalid label file of size 0."),
        (BUCKET, "labels.csv", b"x" * (10 * 1024 * 1024 + 1), "ResourceNumberLimitExceededException",
         "Label file has exceeded the limit of 10 MB."),
    ],
    ids=["missing key", "missing bucket", "empty", "over 10 MB"],
)  # fmt: skip
def test_a_label_file_glue_cannot_import_is_refused_at_start(
    ml: GlueMLTaskRuns, glue: Any, transform_id: str, bucket: str, key: str, body: bytes, code: str, message: str
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    with pytest.raises(ClientError) as refused:
        start(glue, transform_id)
    assert (error_code(refused), refused.value.response["Error"]["Message"]) == (code, message)
    assert glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"] == []


def test_a_label_file_of_10_mb_is_imported(glue: Any, s3: Any, transform_id: str, clock: FakeClock) -> None:
    header = b"labeling_set_id,label,id\n"
    body = header + b"s,A,1\n" + b"\n" * (10 * 1024 * 1024 - len(header) - 6)
    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=body)
    start(glue, transform_id)
    clock.sleep(3)
    assert label_count(glue, transform_id) == 1


def test_a_label_file_in_a_bucket_of_another_region_is_refused_at_start(glue: Any, transform_id: str) -> None:
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=LABELS_CSV.encode())
    with pytest.raises(ClientError) as refused:
        start(glue, transform_id)
    assert error_code(refused) == "InvalidInputException"
    assert refused.value.response["Error"]["Message"] == (
        "S3 path provided is not in the same region as transform. Expecting region - us-east-1, but got - eu-west-1."
    )
    with pytest.raises(ClientError) as export_refused:
        glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/exports/")
    assert error_code(export_refused) == "EntityNotFoundException"  # no labels: refused before the region


def test_missing_label_file_is_ignored_without_s3_checks(
    ml: GlueMLTaskRuns, glue: Any, transform_id: str, clock: FakeClock
) -> None:
    ml.check_s3_objects = False
    task_run_id = start(glue, transform_id, "s3://no-such-bucket/labels.csv")
    clock.sleep(3)
    assert status(glue, transform_id, task_run_id) == "SUCCEEDED"
    assert label_count(glue, transform_id) == 0


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


def succeeded(clock: FakeClock, glue: Any, transform_id: str) -> dict[str, Any]:
    """Let the runs started so far end (default 3 s), and read the transform as Glue reports it."""
    clock.sleep(3)
    return dict(glue.get_ml_transform(TransformId=transform_id))


def test_a_transform_is_not_ready_until_it_has_labels_and_evaluation_needs_it_ready(
    glue: Any, s3: Any, transform_id: str, clock: FakeClock, ml: GlueMLTaskRuns
) -> None:
    assert glue.get_ml_transform(TransformId=transform_id)["Status"] == "NOT_READY"
    with pytest.raises(ClientError) as refused:
        glue.start_ml_evaluation_task_run(TransformId=transform_id)
    assert refused.value.response["Error"]["Code"] == "MLTransformNotReadyException"
    assert refused.value.response["Error"]["Message"] == (
        "This operation can only be applied to a transform that is in a READY state."
    )

    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=LABELS_CSV.encode())
    glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=f"s3://{BUCKET}/labels.csv")
    assert succeeded(clock, glue, transform_id)["Status"] == "READY"

    ml.script_next_run(metrics={"F1": 0.61})
    run_id = glue.start_ml_evaluation_task_run(TransformId=transform_id)["TaskRunId"]
    assert "EvaluationMetrics" not in glue.get_ml_transform(TransformId=transform_id)  # not before it succeeds
    metrics = succeeded(clock, glue, transform_id)["EvaluationMetrics"]["FindMatchesMetrics"]
    assert {k: metrics[k] for k in ("F1", "Precision", "Recall", "AreaUnderPRCurve")} == {
        "F1": 0.61,
        "Precision": 0.92,
        "Recall": 0.88,
        "AreaUnderPRCurve": 0.91,
    }
    run = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
    assert run["Properties"] == {"TaskType": "EVALUATION"}


def test_a_generation_writes_labeling_sets_of_the_tables_columns_and_an_export_the_labels(
    glue: Any, s3: Any, transform_id: str, clock: FakeClock
) -> None:
    glue.create_database(DatabaseInput={"Name": "crm"})
    glue.create_table(
        DatabaseName="crm",
        TableInput={"Name": "customers", "StorageDescriptor": {"Columns": [{"Name": "id"}, {"Name": "name"}]}},
    )
    generation = glue.start_ml_labeling_set_generation_task_run(
        TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/sets/round-1/"
    )["TaskRunId"]
    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=LABELS_CSV.encode())
    glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=f"s3://{BUCKET}/labels.csv")
    succeeded(clock, glue, transform_id)
    run = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=generation)
    assert run["Properties"]["LabelingSetGenerationTaskRunProperties"] == {
        "OutputS3Path": f"s3://{BUCKET}/sets/round-1/"
    }
    parts = s3.list_objects_v2(Bucket=BUCKET, Prefix="sets/round-1/")["Contents"]
    assert [(part["Key"], part["Size"] > 0) for part in parts] == [
        ("sets/round-1/part-00000.csv", True),
        ("sets/round-1/part-00001.csv", True),
        ("sets/round-1/part-00002.csv", False),
    ]
    first = s3.get_object(Bucket=BUCKET, Key="sets/round-1/part-00000.csv")["Body"].read().decode()
    assert first.splitlines()[:2] == ["labeling_set_id,label,id,name", "lset-1,,id-1-0,name-1-0"]

    glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/exports/x/")
    succeeded(clock, glue, transform_id)
    exported = [s3.get_object(Bucket=BUCKET, Key=f"exports/x/part-0000{n}.csv")["Body"].read().decode() for n in (0, 1)]
    assert exported[0].splitlines()[0] == "labeling_set_id,label,id,name"
    assert sum(len(text.splitlines()) - 1 for text in exported) == 3  # every label, once


def test_an_export_of_a_transform_without_labels_is_refused(glue: Any, transform_id: str) -> None:
    with pytest.raises(ClientError) as refused:
        glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/exports/")
    assert refused.value.response["Error"]["Code"] == "EntityNotFoundException"
    assert refused.value.response["Error"]["Message"] == (
        f"No labelset exists for transformId {transform_id} in account id 123456789012."
    )


def test_a_script_for_a_task_run_type_waits_for_a_run_of_that_type(
    glue: Any, s3: Any, ml: GlueMLTaskRuns, clock: FakeClock, transform_id: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=LABELS_CSV.encode())
    ml.script_next_run(running_seconds=50, task_run_type="EVALUATION")
    ml.script_next_run(running_seconds=30)
    imported = start(glue, transform_id)  # takes the untyped script, queued after the evaluation's
    clock.now += 31
    assert status(glue, transform_id, imported) == "SUCCEEDED"
    evaluated = glue.start_ml_evaluation_task_run(TransformId=transform_id)["TaskRunId"]
    clock.now += 49
    assert status(glue, transform_id, evaluated) == "RUNNING"
    clock.now += 2
    assert status(glue, transform_id, evaluated) == "SUCCEEDED"
    with pytest.raises(ValueError, match=r"task_run_type must be one of .* not 'EVALUATE'"):
        ml.script_next_run(task_run_type="EVALUATE")


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


def test_an_evaluation_reports_a_confusion_matrix_and_the_importance_of_each_column(
    glue: Any, s3: Any, clock: FakeClock, ml: GlueMLTaskRuns
) -> None:
    glue.create_database(DatabaseInput={"Name": "crm"})
    columns = [{"Name": "customer_id"}, {"Name": "name"}, {"Name": "email"}]
    glue.create_table(DatabaseName="crm", TableInput={"Name": "customers", "StorageDescriptor": {"Columns": columns}})
    transform_id = labelled(glue, s3, clock)
    ml.script_next_run(metrics={"Precision": 0.8, "Recall": 0.6})
    glue.start_ml_evaluation_task_run(TransformId=transform_id)

    metrics = succeeded(clock, glue, transform_id)["EvaluationMetrics"]["FindMatchesMetrics"]
    assert metrics["ConfusionMatrix"] == {
        "NumTruePositives": 60,
        "NumFalsePositives": 15,  # precision 60 / (60 + 15) = 0.8
        "NumTrueNegatives": 1000,
        "NumFalseNegatives": 40,  # recall 60 / (60 + 40) = 0.6
    }
    assert metrics["ColumnImportances"] == [
        {"ColumnName": "name", "Importance": 0.5},
        {"ColumnName": "email", "Importance": 0.3333},
    ]


@pytest.mark.parametrize("operation", ["evaluation", "labeling-set generation"])
def test_a_fourth_evaluation_or_generation_in_flight_on_a_transform_is_refused(
    glue: Any, s3: Any, clock: FakeClock, operation: str
) -> None:
    transform_id, other = labelled(glue, s3, clock), labelled(glue, s3, clock, "other")

    def start_one(transform_id: str = transform_id) -> str:
        if operation == "evaluation":
            return str(glue.start_ml_evaluation_task_run(TransformId=transform_id)["TaskRunId"])
        path = f"s3://{BUCKET}/sets/"
        return str(
            glue.start_ml_labeling_set_generation_task_run(TransformId=transform_id, OutputS3Path=path)["TaskRunId"]
        )

    start(glue, transform_id)  # an import counts among the three
    start_one()
    glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=start_one())  # and so does a run STOPPING
    with pytest.raises(ClientError) as refused:
        start_one()
    assert error_code(refused) == "ConcurrentRunsExceededException"
    assert refused.value.response["Error"]["Message"] == (
        "ML Task Runs count 4 has exceeded the transform limit of 3 task runs."
    )
    assert start_one(other).startswith("tsk")  # another transform has room
    clock.sleep(1)  # the cancelled run has STOPPED
    assert start_one().startswith("tsk")


@pytest.mark.parametrize("operation", ["evaluation", "labeling-set generation"])
def test_an_evaluation_or_generation_as_31st_run_in_flight_in_an_account_is_refused(
    glue: Any, s3: Any, ml: GlueMLTaskRuns, clock: FakeClock, operation: str
) -> None:
    ready = labelled(glue, s3, clock)
    ml.check_s3_objects = False
    transforms = [create_transform(glue, f"t{n}") for n in range(10)]
    for n in range(29):
        start(glue, transforms[n % 10])  # imports: refused by no limit (botocore's model has none), yet counted
    west = boto3.client("glue", region_name="eu-west-1", config=NO_RETRIES)
    start(west, create_transform(west))  # the limit is the account's, whatever the region

    def start_one() -> str:
        if operation == "evaluation":
            return str(glue.start_ml_evaluation_task_run(TransformId=ready)["TaskRunId"])
        path = f"s3://{BUCKET}/sets/"
        return str(glue.start_ml_labeling_set_generation_task_run(TransformId=ready, OutputS3Path=path)["TaskRunId"])

    with pytest.raises(ClientError) as refused:
        start_one()
    assert error_code(refused) == "ConcurrentRunsExceededException"
    assert refused.value.response["Error"]["Message"] == "ML Task Runs count 31 has exceeded the limit of 30 task runs."
    assert start(glue, transforms[0]).startswith("tsk")  # a 31st import is no such run
    clock.sleep(3)
    assert start_one().startswith("tsk")


def test_every_ml_operation_and_refusal_served_is_valid_against_botocores_model(
    served: CheckedResponses, glue: Any, s3: Any, clock: FakeClock, ml: GlueMLTaskRuns
) -> None:
    glue.create_database(DatabaseInput={"Name": "crm"})
    columns = [{"Name": "customer_id"}, {"Name": "name"}]
    glue.create_table(DatabaseName="crm", TableInput={"Name": "customers", "StorageDescriptor": {"Columns": columns}})
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
