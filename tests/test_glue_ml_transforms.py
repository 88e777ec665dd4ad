"""What the Glue ML emulation's runs do to transforms and S3 (glue_label_import.testing): label files
imported or refused at start, readiness, labeling sets and exports written, evaluation metrics, and
the concurrency limits on evaluations and generations.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.requests import BUCKET, create_transform
from support import (
    LABELS_CSV,
    NO_RETRIES,
    REGION,
    FakeClock,
    catalog_table,
    error_code,
    label_count,
    labelled,
    labelled_with,
    start,
    status,
    succeeded,
)


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


def test_a_transform_is_not_ready_until_it_has_labels_and_evaluation_needs_it_ready(
    glue: Any, s3: Any, transform_id: str, clock: FakeClock, ml: GlueMLTaskRuns
) -> None:
    assert glue.get_ml_transform(TransformId=transform_id)["Status"] == "NOT_READY"
    with pytest.raises(ClientError) as refused:
        glue.start_ml_evaluation_task_run(TransformId=transform_id)
    assert error_code(refused) == "MLTransformNotReadyException"
    assert refused.value.response["Error"]["Message"] == (
        "This operation can only be applied to a transform that is in a READY state."
    )

    labelled_with(glue, s3, clock, transform_id)
    assert glue.get_ml_transform(TransformId=transform_id)["Status"] == "READY"

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
    catalog_table(glue, ["id", "name"])
    generation = glue.start_ml_labeling_set_generation_task_run(
        TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/sets/round-1/"
    )["TaskRunId"]
    labelled_with(glue, s3, clock, transform_id)
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
    assert error_code(refused) == "EntityNotFoundException"
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


def test_an_evaluation_reports_a_confusion_matrix_and_the_importance_of_each_column(
    glue: Any, s3: Any, clock: FakeClock, ml: GlueMLTaskRuns
) -> None:
    catalog_table(glue, ["customer_id", "name", "email"])
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
