"""Custom::GlueEvaluateTransform on moto, in process, on a controlled clock: the quality gate's answers."""

from __future__ import annotations

import math
from typing import Any

import pytest

from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import GlueMLTaskRuns, stacks
from glue_label_import.testing.requests import EVALUATION, STACK_ID, cfn_event, evaluation_props
from glue_label_import.testing.sandbox import metric_records
from handler_driver import Handler
from support import share

GOOD = {"F1": 0.85, "Precision": 0.9, "Recall": 0.8, "AreaUnderPRCurve": 0.88}


def evaluate(handler: Handler, request_type: str = "Create", remaining_s: float = 900, **kwargs: Any) -> Any:
    """Send an evaluation request; kwargs are cfn_event's (properties first)."""
    properties = kwargs.pop("properties")
    return handler(cfn_event(request_type, properties, resource_type=EVALUATION, **kwargs), remaining_s)


def test_the_metrics_are_answered(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics=GOOD)
    answer = evaluate(handler, properties=evaluation_props(transform_id, MinF1=0.8))
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    (start,) = task_runs.calls_to("StartMLEvaluationTaskRun")
    assert start == {"TransformId": transform_id}
    assert answer["Data"] == {"TaskRunId": answer["Data"]["TaskRunId"], **GOOD}
    assert answer["Data"]["TaskRunId"].startswith("tsk")


def assert_valid_emf(record: dict[str, Any]) -> None:
    """The structure the EMF specification requires of a record (and its strict JSON: no NaN, no infinity)."""
    metadata = record["_aws"]
    assert set(metadata) == {"Timestamp", "CloudWatchMetrics"}
    assert isinstance(metadata["Timestamp"], int) and metadata["Timestamp"] > 0
    assert isinstance(metadata["CloudWatchMetrics"], list) and metadata["CloudWatchMetrics"]
    for directive in metadata["CloudWatchMetrics"]:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 255
        for dimension_set in directive["Dimensions"]:
            assert isinstance(dimension_set, list) and len(dimension_set) <= 30
            for dimension in dimension_set:
                assert isinstance(record[dimension], str) and 1 <= len(record[dimension]) <= 1024
        assert 1 <= len(directive["Metrics"]) <= 100
        for definition in directive["Metrics"]:
            assert set(definition) <= {"Name", "Unit", "StorageResolution"}
            assert isinstance(definition["Name"], str) and 1 <= len(definition["Name"]) <= 255
            value = record[definition["Name"]]
            assert isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_the_metrics_are_one_embedded_metric_format_record_on_stdout(
    handler: Handler, task_runs: GlueMLTaskRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    transform_id = handler.labelled_transform()
    capsys.readouterr()
    task_runs.script_next_run(metrics=GOOD)
    answer = evaluate(handler, properties=evaluation_props(transform_id))
    out = capsys.readouterr().out

    (record,) = metric_records(out)  # one line of its own, not wrapped in another log record
    assert out.count("CloudWatchMetrics") == 1
    assert_valid_emf(record)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "GlueLabelImport" and directive["Dimensions"] == [["TransformId"]]
    assert [definition["Name"] for definition in directive["Metrics"]] == list(GOOD)
    assert record["TransformId"] == transform_id and record["TaskRunId"] == answer["Data"]["TaskRunId"]
    assert {name: record[name] for name in GOOD} == GOOD


def test_a_metric_that_is_not_a_finite_number_is_left_out_of_the_record(
    handler: Handler, task_runs: GlueMLTaskRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    transform_id = handler.labelled_transform()
    capsys.readouterr()
    task_runs.script_next_run(metrics={**GOOD, "Recall": float("nan"), "AreaUnderPRCurve": float("inf")})
    evaluate(handler, properties=evaluation_props(transform_id))

    (record,) = metric_records(capsys.readouterr().out)
    assert_valid_emf(record)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert [definition["Name"] for definition in directive["Metrics"]] == ["F1", "Precision"]
    assert "Recall" not in record and "AreaUnderPRCurve" not in record


@pytest.mark.parametrize(
    ("thresholds", "reason"),
    [
        ({"MinF1": 0.8}, "F1 0.71 is below the minimum 0.80"),
        ({"MinPrecision": 0.95}, "Precision 0.90 is below the minimum 0.95"),
        ({"MinRecall": 0.805}, "Recall 0.80 is below the minimum 0.805"),
        ({"MinAreaUnderPRCurve": 0.9}, "AreaUnderPRCurve 0.88 is below the minimum 0.90"),
        ({"MaxF1Drop": 0.05}, "F1 dropped 0.14 from 0.85, more than 0.05"),
        (
            {"MinF1": 0.8, "MinRecall": 0.85, "MaxF1Drop": 0.05},
            "F1 0.71 is below the minimum 0.80; Recall 0.80 is below the minimum 0.85;"
            " F1 dropped 0.14 from 0.85, more than 0.05",
        ),
    ],
    ids=["f1", "precision", "recall", "auc", "drop", "together"],
)
def test_each_gate_that_fails_is_named_with_its_value_and_threshold(
    handler: Handler, task_runs: GlueMLTaskRuns, thresholds: dict[str, float], reason: str
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics=GOOD)
    assert evaluate(handler, properties=evaluation_props(transform_id, after=("tsk-1",)))["Status"] == "SUCCESS"
    task_runs.script_next_run(metrics={**GOOD, "F1": 0.71})
    answer = evaluate(handler, properties=evaluation_props(transform_id, after=("tsk-2",), **thresholds))
    assert answer is not None and answer["Status"] == "FAILED"
    run_id = task_runs.calls_to("GetMLTaskRun")[-1]["TaskRunId"]
    assert answer["Reason"] == f"{reason} (task run {run_id}, log group /aws-glue/ml-transforms)"


def test_without_earlier_metrics_there_is_no_drop_to_check(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={**GOOD, "F1": 0.2})
    answer = evaluate(handler, properties=evaluation_props(transform_id, MaxF1Drop=0.01))
    assert answer is not None and answer["Status"] == "SUCCESS" and answer["Data"]["F1"] == 0.2


def test_a_transform_that_is_not_ready_fails_at_once(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()  # no labels: NOT_READY
    started = handler.clock()
    answer = evaluate(handler, properties=evaluation_props(transform_id, MinF1=0.8))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        f"transform {transform_id} is NOT_READY: Glue evaluates only a READY transform (one with labels);"
        " import labels first"
    )
    assert task_runs.calls_to("StartMLEvaluationTaskRun") == []
    assert handler.clock() - started < 1


def test_glues_refusal_to_evaluate_a_transform_not_ready_is_answered(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.fail_next("StartMLEvaluationTaskRun", "MLTransformNotReadyException", "not ready")
    answer = evaluate(handler, properties=evaluation_props(transform_id))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == f"MLTransformNotReadyException: not ready (transform {transform_id})"


def test_a_delete_mid_run_cancels_this_resources_evaluation_and_no_other(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.running_seconds = 3600
    someone_elses = handler.glue.start_ml_evaluation_task_run(TransformId=transform_id)["TaskRunId"]
    assert evaluate(handler, properties=evaluation_props(transform_id), remaining_s=share(10)) is None  # handed over
    (handed_over,) = handler.lambda_client.invocations
    ours = handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    assert ours != someone_elses  # not adopted: it is not this resource's

    answer = evaluate(handler, "Delete", properties=evaluation_props(transform_id), physical_id="gate-1")
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert task_runs.calls_to("CancelMLTaskRun") == [{"TransformId": transform_id, "TaskRunId": ours}]


def test_a_duplicate_delivery_of_a_handed_over_evaluation_starts_nothing_and_stops(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.running_seconds = 3600
    event = cfn_event("Create", evaluation_props(transform_id), resource_type=EVALUATION)
    assert handler(event, share(10)) is None and handler(event, share(10)) is None  # the same request, twice
    (handed_over,) = handler.lambda_client.invocations  # the first delivery's hand-over goes on; the second stops
    assert handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    assert len(task_runs.calls_to("StartMLEvaluationTaskRun")) == 1


def test_an_update_with_the_same_inputs_runs_nothing_and_gates_the_current_metrics(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics=GOOD)
    created = evaluate(handler, properties=evaluation_props(transform_id, MinF1=0.8))
    looser = evaluate(
        handler,
        "Update",
        properties=evaluation_props(transform_id, MinF1=0.5),
        old_properties=evaluation_props(transform_id, MinF1=0.8),
        physical_id="gate-1",
    )
    stricter = evaluate(
        handler,
        "Update",
        properties=evaluation_props(transform_id, MinF1=0.9),
        old_properties=evaluation_props(transform_id, MinF1=0.5),
        physical_id="gate-1",
    )
    assert len(task_runs.calls_to("StartMLEvaluationTaskRun")) == 1
    assert looser["Status"] == "SUCCESS" and looser["Data"] == created["Data"]
    assert stricter["Status"] == "FAILED" and stricter["Reason"].startswith(
        "F1 0.85 is below the minimum 0.90 (task run"
    )


def test_the_rollback_after_a_failed_gate_evaluates_the_restored_labels_without_gates(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    """The rollback is what CloudFormation says: the stack is UPDATE_ROLLBACK_IN_PROGRESS."""
    transform_id = handler.labelled_transform()
    good, bad = (
        evaluation_props(transform_id, after=("tsk-1",), MinF1=0.8),
        evaluation_props(transform_id, after=("tsk-2",), MinF1=0.8),
    )
    task_runs.script_next_run(metrics=GOOD)
    assert evaluate(handler, properties=good)["Status"] == "SUCCESS"
    task_runs.script_next_run(metrics={**GOOD, "F1": 0.6})
    failed = evaluate(handler, "Update", properties=bad, old_properties=good, physical_id="gate-1")
    assert failed["Status"] == "FAILED"

    task_runs.script_next_run(metrics={**GOOD, "F1": 0.79})  # the restored labels, estimated a little lower
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = evaluate(handler, "Update", properties=good, old_properties=bad, physical_id="gate-1")
    stacks.set(STACK_ID, "UPDATE_IN_PROGRESS")
    assert rollback["Status"] == "SUCCESS" and rollback["Data"]["F1"] == 0.79
    assert len(task_runs.calls_to("StartMLEvaluationTaskRun")) == 3

    task_runs.script_next_run(metrics={**GOOD, "F1": 0.7})  # the next deploy is gated again
    again = evaluate(handler, "Update", properties=bad, old_properties=good, physical_id="gate-1")
    assert again["Status"] == "FAILED" and again["Reason"].startswith("F1 0.70 is below the minimum 0.80")


def test_a_long_evaluation_is_handed_over_and_the_drop_still_compares_with_before(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics=GOOD)
    evaluate(handler, properties=evaluation_props(transform_id, after=("tsk-1",)))
    task_runs.script_next_run(running_seconds=1500, metrics={**GOOD, "F1": 0.7})
    event = cfn_event(
        "Update",
        evaluation_props(transform_id, after=("tsk-2",), MaxF1Drop=0.1),
        old_properties=evaluation_props(transform_id, after=("tsk-1",), MaxF1Drop=0.1),
        physical_id="gate-1",
        resource_type=EVALUATION,
    )
    answers = [handler(event)]
    while answers[-1] is None:
        (invocation,) = handler.lambda_client.invocations
        handler.lambda_client.invocations.clear()
        assert invocation["Payload"][HANDOVER_KEY]["Before"] == {"F1": 0.85, "Gated": True}
        answers.append(handler(invocation["Payload"]))
    assert len(answers) == 2
    assert answers[-1]["Status"] == "FAILED" and answers[-1]["Reason"].startswith("F1 dropped 0.15 from 0.85")
    assert len(task_runs.calls_to("StartMLEvaluationTaskRun")) == 2


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"MinF1": "1.5"}, "MinF1 '1.5' must be a number from 0 to 1"),
        ({"MaxF1Drop": "lots"}, "MaxF1Drop 'lots' must be a number from 0 to 1"),
        ({"After": "tsk-1"}, "After 'tsk-1' must be a list of strings"),
    ],
)
def test_bad_thresholds_fail_before_any_glue_call(
    handler: Handler, task_runs: GlueMLTaskRuns, properties: dict[str, Any], reason: str
) -> None:
    event = cfn_event("Create", evaluation_props("tfm-1"), resource_type=EVALUATION)
    event["ResourceProperties"].update(properties)
    answer = handler(event)
    assert answer is not None and answer["Status"] == "FAILED" and answer["Reason"] == reason
    assert task_runs.calls == []
