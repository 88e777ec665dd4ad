"""End to end over real HTTP: the synthesized handler asset, moto's server, an HTTPS ResponseURL.

Every case checks that each request got exactly one answer and that the presigned ResponseURL
never appeared in the handler's output (which runs at LOG_LEVEL=DEBUG).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.examples import LABELS
from glue_label_import.testing.requests import EVALUATION, GENERATION, evaluation_props, generation_props, props
from glue_label_import.testing.sandbox import LambdaSandbox, log_lines, metric_records
from support import share, wait_for


def test_create_update_delete(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    first, second = sandbox.upload("r1.csv", LABELS), sandbox.upload("r2.csv", LABELS + "s2,C,4\ns2,C,5\n")

    create = sandbox.event("Create", props(transform_id, first, replace=True))
    invocation = sandbox.invoke(create)
    created = sandbox.answer(create)
    assert created["Status"] == "SUCCESS", created
    assert created["Data"] == {"TaskRunId": runs.calls_to("GetMLTaskRun")[-1]["TaskRunId"], "LabelCount": 3}

    lines = log_lines(invocation.output)
    statuses = [
        line["message"]["Status"]
        for line in lines
        if isinstance(line["message"], dict) and line["message"].get("action") == "status"
    ]
    assert statuses == ["STARTING", "RUNNING", "SUCCEEDED"]
    assert all(line["RequestType"] == "Create" and line["LogicalResourceId"] == "Labels" for line in lines)
    assert any(
        line["message"] == {"action": "start", "TransformId": transform_id, "TaskRunId": created["Data"]["TaskRunId"]}
        for line in lines
    )

    update = sandbox.event("Update", props(transform_id, second), physical_id=created["PhysicalResourceId"])
    sandbox.invoke(update)
    updated = sandbox.answer(update)
    assert updated["Status"] == "SUCCESS" and updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert updated["Data"]["LabelCount"] == 3 + 5

    delete = sandbox.event("Delete", props(transform_id, second), physical_id=created["PhysicalResourceId"])
    sandbox.invoke(delete)
    assert sandbox.answer(delete)["Status"] == "SUCCESS"
    assert runs.calls_to("CancelMLTaskRun") == []


def test_failed_run(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    runs.script_next_run(final_status="FAILED", error_string="The labeling file is missing the column customer_id")
    create = sandbox.event("Create", props(transform_id, sandbox.upload("bad.csv", LABELS)))
    sandbox.invoke(create)
    answer = sandbox.answer(create)
    run_id = runs.calls_to("GetMLTaskRun")[-1]["TaskRunId"]
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "FAILED: The labeling file is missing the column customer_id"
        f" (task run {run_id}, log group /aws-glue/ml-transforms)"
    )


def test_failed_update_and_its_rollback(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    good, bad = sandbox.upload("good.csv", LABELS), sandbox.upload("typo.csv", LABELS)
    runs.script_next_run(final_status="FAILED", error_string="Label column has an empty value on line 3")
    update = sandbox.event(
        "Update", props(transform_id, bad), physical_id="Labels-1", old_properties=props(transform_id, good)
    )
    sandbox.invoke(update)
    assert sandbox.answer(update)["Status"] == "FAILED"

    rollback = sandbox.event(
        "Update", props(transform_id, good), physical_id="Labels-1", old_properties=props(transform_id, bad)
    )
    sandbox.invoke(rollback)
    answer = sandbox.answer(rollback)
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == "Labels-1"
    assert [call["InputS3Path"] for call in runs.calls_to("StartImportLabelsTaskRun")] == [bad, good]


def test_delete_during_a_run_cancels_it(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    path = sandbox.upload("slow.csv", LABELS)
    runs.script_next_run(running_seconds=30)
    create = sandbox.event("Create", props(transform_id, path))
    creating = sandbox.start(create)
    wait_for(lambda: runs.calls_to("StartImportLabelsTaskRun"))

    delete = sandbox.event("Delete", props(transform_id, path), physical_id="Labels-1")
    deletion = sandbox.invoke(delete)
    assert sandbox.answer(delete)["Status"] == "SUCCESS"
    assert deletion.seconds < 3
    (cancel,) = runs.calls_to("CancelMLTaskRun")

    sandbox.finish(creating)
    created = sandbox.answer(create)
    assert created["Status"] == "FAILED"
    assert created["Reason"].startswith("STOPPED: ") and cancel["TaskRunId"] in created["Reason"]


def test_a_run_that_outlasts_one_invocation_is_handed_over(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    runs.script_next_run(running_seconds=5)
    logical_id = "L" * 255
    create = sandbox.event("Create", props(transform_id, sandbox.upload("long.csv", LABELS)), logical_id=logical_id)

    event, invocations = create, 0
    while not sandbox.responses.answers(create["RequestId"]):
        invocation = sandbox.invoke(event, remaining_s=share(3))  # an invocation that waits about 3 s, then hands over
        assert "Execution timed out" not in invocation.output
        invocations += 1
        if not sandbox.responses.answers(create["RequestId"]):
            (handed_over,) = sandbox.invokes.take()
            assert handed_over["path"].endswith(f"/functions/{_function_arn_quoted()}/invocations")
            event = handed_over["payload"]
    answer = sandbox.answer(create)
    assert answer["Status"] == "SUCCESS" and invocations >= 2
    assert answer["LogicalResourceId"] == logical_id and len(answer["PhysicalResourceId"]) <= 60
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert sandbox.invokes.take() == []
    assert sandbox.events.list_rules()["Rules"] == []  # the hand-over leaves no rule, target or permission


def test_duplicate_delivery_adopts_the_run(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    runs.script_next_run(running_seconds=3)
    create = sandbox.event("Create", props(transform_id, sandbox.upload("dup.csv", LABELS)))
    first = sandbox.start(create)
    wait_for(lambda: runs.calls_to("StartImportLabelsTaskRun"))
    sandbox.invoke(create)  # the same request delivered again while the run is in flight
    sandbox.finish(first)
    answers = sandbox.responses.answers(create["RequestId"])
    assert len(answers) == 2  # one per delivery
    assert {a["Status"] for a in answers} == {"SUCCESS"}
    assert len({a["Data"]["TaskRunId"] for a in answers}) == 1
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_throttling_is_retried(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    runs.fail_next("StartImportLabelsTaskRun", "ThrottlingException", "Rate exceeded", times=2)
    runs.fail_next("GetMLTaskRun", "ThrottlingException", "Rate exceeded", times=1)
    create = sandbox.event("Create", props(transform_id, sandbox.upload("throttled.csv", LABELS)))
    sandbox.invoke(create)
    assert sandbox.answer(create)["Status"] == "SUCCESS"
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 3


def test_bad_property(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    create = sandbox.event("Create", {"TransformId": "tfm-1", "InputS3Path": "labels.csv"})
    sandbox.invoke(create)
    answer = sandbox.answer(create)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == "InputS3Path 'labels.csv' must start with s3://"
    assert runs.calls == []


def _function_arn_quoted() -> str:
    return "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3ALabels-GlueLabelImportHandler"


def test_runner_uses_only_the_asset_and_boto3(sandbox: LambdaSandbox) -> None:
    assert (sandbox.asset / "crhelper").is_dir()
    assert not (Path(sandbox.asset) / "boto3").exists()


def test_a_label_round_that_lowers_f1_fails_the_gate_and_its_rollback_restores_the_labels(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    round_1, round_2 = sandbox.upload("gate-1.csv", LABELS), sandbox.upload("gate-2.csv", LABELS + "s2,C,4\ns2,C,5\n")

    def request(request_type: str, properties: dict[str, Any], old: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        event = sandbox.event(request_type, properties, physical_id="kept", old_properties=old, **kwargs)
        sandbox.invoke(event)
        return sandbox.answer(event)

    imported = request("Create", props(transform_id, round_1, replace=True))
    runs.script_next_run(metrics={"F1": 0.82, "Precision": 0.9, "Recall": 0.75, "AreaUnderPRCurve": 0.88})
    gate = evaluation_props(transform_id, after=(imported["Data"]["TaskRunId"],), MinF1=0.7, MaxF1Drop=0.05)
    passed = request("Create", gate, resource_type=EVALUATION)
    assert passed["Status"] == "SUCCESS", passed
    assert passed["Data"] == {
        "TaskRunId": passed["Data"]["TaskRunId"],
        "F1": 0.82,
        "Precision": 0.9,
        "Recall": 0.75,
        "AreaUnderPRCurve": 0.88,
    }

    first, second = props(transform_id, round_1, replace=True), props(transform_id, round_2, replace=True)
    reimported = request("Update", second, first)
    runs.script_next_run(metrics={"F1": 0.68, "Precision": 0.7, "Recall": 0.66, "AreaUnderPRCurve": 0.7})
    worse = {**gate, "After": [reimported["Data"]["TaskRunId"]]}
    failed = request("Update", worse, gate, resource_type=EVALUATION)
    run_id = runs.calls_to("GetMLTaskRun")[-1]["TaskRunId"]
    assert failed["Status"] == "FAILED"
    assert failed["Reason"] == (
        "F1 0.68 is below the minimum 0.70; F1 dropped 0.14 from 0.82, more than 0.05"
        f" (task run {run_id}, log group /aws-glue/ml-transforms)"
    )

    # CloudFormation's rollback: the import back to round 1 (imported again, replacing), then the gate
    restored = request("Update", first, second)
    runs.script_next_run(metrics={"F1": 0.81, "Precision": 0.9, "Recall": 0.74, "AreaUnderPRCurve": 0.87})
    rolled_back = request("Update", gate, worse, resource_type=EVALUATION)
    assert restored["Status"] == "SUCCESS" and restored["Data"]["LabelCount"] == 3
    assert rolled_back["Status"] == "SUCCESS" and rolled_back["Data"]["F1"] == 0.81
    history = sandbox.glue.get_ml_task_runs(
        TransformId=transform_id, Sort={"Column": "STARTED", "SortDirection": "ASCENDING"}
    )
    assert [
        (run["TaskRunType"] if "TaskRunType" in run else run["Properties"]["TaskType"]) for run in history["TaskRuns"]
    ] == ["IMPORT_LABELS", "EVALUATION", "IMPORT_LABELS", "EVALUATION", "IMPORT_LABELS", "EVALUATION"]


def test_each_generation_writes_a_new_folder_and_answers_it(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    first = sandbox.event("Create", generation_props(transform_id, after=("tsk-1",)), resource_type=GENERATION)
    sandbox.invoke(first)
    second = sandbox.event(
        "Update",
        generation_props(transform_id, after=("tsk-2",)),
        old_properties=generation_props(transform_id, after=("tsk-1",)),
        physical_id="next-round",
        resource_type=GENERATION,
    )
    sandbox.invoke(second)
    folders = [sandbox.answer(event)["Data"]["OutputS3Path"] for event in (first, second)]
    assert folders[0] < folders[1] and all(folder.startswith("s3://labels-bucket/labeling-sets/") for folder in folders)
    for folder in folders:
        listed = sandbox.s3.list_objects_v2(Bucket="labels-bucket", Prefix=folder[len("s3://labels-bucket/") :])
        assert [item["Key"].rsplit("/", 1)[1] for item in listed["Contents"]] == [
            "part-00000.csv",
            "part-00001.csv",
            "part-00002.csv",
        ]


def test_an_evaluations_metrics_reach_the_log_as_one_embedded_metric_format_line(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    imported = sandbox.event("Create", props(transform_id, sandbox.upload("emf.csv", LABELS), replace=True))
    sandbox.invoke(imported)
    metrics = {"F1": 0.82, "Precision": 0.9, "Recall": 0.75, "AreaUnderPRCurve": 0.88}
    runs.script_next_run(metrics=metrics)
    evaluation = sandbox.event("Create", evaluation_props(transform_id), resource_type=EVALUATION)

    output = sandbox.invoke(evaluation).output  # the function's stdout: what Lambda ships to its log group

    assert sandbox.answer(evaluation)["Status"] == "SUCCESS"
    (record,) = metric_records(output)
    assert record["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "GlueLabelImport",
            "Dimensions": [["TransformId"]],
            "Metrics": [{"Name": name, "Unit": "None"} for name in metrics],
        }
    ]
    assert {name: record[name] for name in metrics} == metrics and record["TransformId"] == transform_id
    assert output.count("CloudWatchMetrics") == 1  # not also inside a log record of the JSON logger
