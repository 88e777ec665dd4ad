"""The handler on moto, in process, on a clock the test controls: every answer CloudFormation gets.

The Glue calls go to moto's Glue (with the ML task-run extension), the answer goes through
crhelper's real response code to a recording HTTPS connection, and the hand-over goes to a
recording Lambda client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from glue_label_import._handler import index
from glue_label_import.testing import GlueMLTaskRuns, replies
from glue_label_import.testing.requests import BUCKET, SECRET, cfn_event, props
from handler_driver import Handler, RecordingConnection, engine_on
from support import LambdaContext

PATH = f"s3://{BUCKET}/round-1.csv"


def test_create_imports_and_answers_success_with_the_run_id(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    answer = handler(cfn_event("Create", props(transform_id, replace=True)))

    assert answer is not None and answer["Status"] == "SUCCESS", answer
    (start,) = task_runs.calls_to("StartImportLabelsTaskRun")
    assert start == {"TransformId": transform_id, "InputS3Path": PATH, "ReplaceAllLabels": True}
    assert answer["Data"] == {"TaskRunId": task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"], "LabelCount": 3}
    assert (
        handler.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=answer["Data"]["TaskRunId"])["Status"]
        == "SUCCEEDED"
    )


def test_create_physical_id_is_short_and_the_same_for_the_same_resource(handler: Handler) -> None:
    transform_id = handler.transform()
    first = handler(cfn_event("Create", props(transform_id), logical_id="CustomerLabels"))
    second = handler(cfn_event("Create", props(transform_id), logical_id="CustomerLabels"))
    other = handler(cfn_event("Create", props(transform_id), logical_id="OtherLabels"))
    elsewhere = handler(cfn_event("Create", props(handler.transform("other")), logical_id="CustomerLabels"))
    assert first and second and other and elsewhere
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"] != other["PhysicalResourceId"]
    assert elsewhere["PhysicalResourceId"] not in (first["PhysicalResourceId"], other["PhysicalResourceId"])
    assert first["PhysicalResourceId"].startswith("CustomerLabels-") and len(first["PhysicalResourceId"]) <= 60


def test_update_imports_the_new_file_and_keeps_the_physical_id(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    new_path = f"s3://{BUCKET}/round-2.csv"
    answer = handler(
        cfn_event(
            "Update", props(transform_id, new_path), physical_id="given-by-cfn", old_properties=props(transform_id)
        )
    )
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "given-by-cfn"
    assert [c["InputS3Path"] for c in task_runs.calls_to("StartImportLabelsTaskRun")] == [new_path]
    assert [c["ReplaceAllLabels"] for c in task_runs.calls_to("StartImportLabelsTaskRun")] == [False]


def test_failed_run_fails_with_glues_reason_run_id_and_log_group(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(final_status="FAILED", error_string="Labeling file has no column customer_id")
    answer = handler(cfn_event("Update", props(transform_id), physical_id="kept"))
    assert answer is not None
    run_id = task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"]
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        f"FAILED: Labeling file has no column customer_id (task run {run_id}, log group /aws-glue/ml-transforms)"
    )
    assert answer["PhysicalResourceId"] == "kept"


def test_long_glue_error_keeps_its_start_and_the_run_id(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    message = "Label file is invalid: " + "column mismatch; " * 40
    task_runs.script_next_run(final_status="FAILED", error_string=message)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    run_id = task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"]
    assert len(answer["Reason"]) <= 256
    assert answer["Reason"].startswith("FAILED: Label file is invalid: column mismatch;")
    assert answer["Reason"].endswith(f"... (task run {run_id}, log group /aws-glue/ml-transforms)")


def test_timeout_status_fails_the_deploy(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(final_status="TIMEOUT")
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("TIMEOUT: Glue gave no error message (task run tsk")


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"TransformId": "", "InputS3Path": PATH}, "TransformId '' must be 1 to 255 characters long, got 0"),
        ({"TransformId": "t" * 256, "InputS3Path": PATH}, "TransformId 'tttt"),
        ({"InputS3Path": PATH}, "TransformId None must be a string"),
        ({"TransformId": "tfm-1", "InputS3Path": "labels.csv"}, "InputS3Path 'labels.csv' must start with s3://"),
        ({"TransformId": "tfm-1", "InputS3Path": "s3://bucket"}, "InputS3Path 's3://bucket' has no object key"),
        (
            {"TransformId": "tfm-1", "InputS3Path": PATH, "ReplaceAllLabels": "yes"},
            "ReplaceAllLabels 'yes' must be true or false",
        ),
        (
            {"TransformId": "tfm-1", "InputS3Path": PATH, "ServiceTimeout": "soon"},
            "ServiceTimeout 'soon' must be a whole number",
        ),
    ],
)
def test_bad_property_fails_before_any_glue_call(
    handler: Handler, task_runs: GlueMLTaskRuns, properties: dict[str, Any], reason: str
) -> None:
    answer = handler(cfn_event("Create", properties))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(reason)
    assert task_runs.calls == []


@pytest.mark.parametrize("value", ["true", "True", "false", True, False])
def test_replace_all_labels_accepts_strings_and_booleans(
    handler: Handler, task_runs: GlueMLTaskRuns, value: Any
) -> None:
    transform_id = handler.transform()
    event = cfn_event("Create", props(transform_id))
    event["ResourceProperties"]["ReplaceAllLabels"] = value
    answer = handler(event)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert task_runs.calls_to("StartImportLabelsTaskRun")[0]["ReplaceAllLabels"] is (str(value).lower() == "true")


def test_replace_all_labels_may_be_absent(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    answer = handler(cfn_event("Create", {"TransformId": transform_id, "InputS3Path": PATH}))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert task_runs.calls_to("StartImportLabelsTaskRun")[0]["ReplaceAllLabels"] is False


def test_unknown_transform_fails_at_once_naming_it(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    answer = handler(cfn_event("Create", props("tfm-does-not-exist")))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("EntityNotFoundException: ")
    assert answer["Reason"].endswith("(transform tfm-does-not-exist)")
    assert task_runs.calls_to("StartImportLabelsTaskRun") == []  # the look-up for a duplicate found no transform


@pytest.mark.parametrize(
    "code", ["InvalidInputException", "ResourceNumberLimitExceededException", "EntityNotFoundException"]
)
def test_start_errors_that_retrying_cannot_mend_fail_at_once(
    handler: Handler, task_runs: GlueMLTaskRuns, code: str
) -> None:
    transform_id = handler.transform()
    task_runs.fail_next("StartImportLabelsTaskRun", code, "Glue says no")
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == f"{code}: Glue says no (transform {transform_id})"
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_a_start_refused_for_now_is_retried_with_backoff(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.fail_next("StartImportLabelsTaskRun", "ThrottlingException", "slow down", times=3)
    task_runs.fail_next("GetMLTaskRun", "ThrottlingException", "slow down", times=2)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 4
    first, second, third = handler.clock.sleeps[:3]  # before the second, third and fourth start
    assert first == 0.25 and second == 0.5 and third == 1.0  # doubling


@pytest.mark.parametrize("code", ["InternalServiceException", "OperationTimeoutException"])
def test_a_start_that_failed_without_starting_a_run_is_tried_again(
    handler: Handler, task_runs: GlueMLTaskRuns, code: str
) -> None:
    transform_id = handler.transform()
    task_runs.fail_next("StartImportLabelsTaskRun", code, "try later", times=2)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 3
    (run,) = handler.glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"]
    assert answer["Data"]["TaskRunId"] == run["TaskRunId"]


@pytest.mark.parametrize("code", ["ThrottlingException", "ConcurrentRunsExceededException"])
def test_a_start_refused_for_capacity_waits_across_invocations_until_the_deadline(
    handler: Handler, task_runs: GlueMLTaskRuns, code: str
) -> None:
    transform_id = handler.transform()
    task_runs.fail_next("StartImportLabelsTaskRun", code, "Rate exceeded", times=100_000)
    started = handler.clock()
    answers = [handler(cfn_event("Create", props(transform_id, timeout=3600)))]
    while answers[-1] is None:  # each invocation waits for capacity as long as it may, then hands over
        (invocation,) = handler.lambda_client.invocations
        handler.lambda_client.invocations.clear()
        assert invocation["Payload"]["GlueTaskRunHandover"] == {"StartedAt": started, "Rollback": "no"}
        answers.append(handler(invocation["Payload"]))
    final = answers[-1]
    assert final is not None and final["Status"] == "FAILED"
    assert final["Reason"] == f"{code}: Rate exceeded (transform {transform_id})"
    assert len(answers) == 5 and 3500 < handler.clock() - started < 3600  # up to ServiceTimeout, not one invocation


def test_a_start_that_gets_capacity_after_a_hand_over_runs(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.fail_next("StartImportLabelsTaskRun", "ConcurrentRunsExceededException", "3 runs at most", times=150)
    assert handler(cfn_event("Create", props(transform_id))) is None
    (invocation,) = handler.lambda_client.invocations
    answer = handler(invocation["Payload"])
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 151


def test_duplicate_delivery_adopts_the_run_in_flight(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    event = cfn_event("Create", props(transform_id))
    assert handler(event, remaining_s=40) is None  # started its run, then handed the wait over
    (handed_over,) = handler.lambda_client.invocations
    answer = handler(event)  # Lambda delivers the same request again
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["Data"]["TaskRunId"] == handed_over["Payload"]["GlueTaskRunHandover"]["TaskRunId"]
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


@pytest.mark.parametrize("age_s", [3, 10, 20, 36, 61, 156, 401, 801])
def test_a_run_is_answered_within_5_seconds_of_its_end(
    handler: Handler, task_runs: GlueMLTaskRuns, age_s: float
) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(starting_seconds=1, running_seconds=age_s - 1)
    started = handler.clock()
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert handler.clock() - (started + age_s) <= 5


def test_a_ten_minute_run_costs_at_most_150_get_ml_task_run_calls(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(starting_seconds=30, running_seconds=570)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert len(task_runs.calls_to("GetMLTaskRun")) <= 150


def test_a_long_run_is_handed_over_and_answered_once_by_the_next_invocation(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(starting_seconds=5, running_seconds=1800)  # 30 minutes: two hand-overs
    event = cfn_event("Create", props(transform_id))

    answers = [handler(event)]
    while answers[-1] is None:
        (invocation,) = handler.lambda_client.invocations
        handler.lambda_client.invocations.clear()
        assert invocation["FunctionName"].endswith(":function:Labels-GlueLabelImportHandler")
        assert invocation["InvocationType"] == "Event"
        answers.append(handler(invocation["Payload"]))

    assert len(answers) == 3
    final = answers[-1]
    assert final is not None and final["Status"] == "SUCCESS"
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert final["Data"]["TaskRunId"] == task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"]


def test_deadline_cancels_the_run_and_fails_before_cloudformation_gives_up(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(running_seconds=3600)
    started = handler.clock()
    answer = handler(cfn_event("Create", props(transform_id, timeout=300)))
    assert answer is not None and answer["Status"] == "FAILED"
    (cancel,) = task_runs.calls_to("CancelMLTaskRun")
    assert answer["Reason"] == f"timed out after 5 minutes; task run {cancel['TaskRunId']} cancelled"
    assert handler.clock() - started < 300
    assert handler.lambda_client.invocations == []


def test_deadline_across_a_hand_over(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(running_seconds=7200)
    started = handler.clock()
    assert handler(cfn_event("Create", props(transform_id, timeout=1200))) is None
    (invocation,) = handler.lambda_client.invocations
    answer = handler(invocation["Payload"])
    assert answer is not None and answer["Reason"].startswith("timed out after 20 minutes; task run tsk")
    assert 1100 < handler.clock() - started < 1200


def test_delete_cancels_this_resources_run_in_flight(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    same_file = handler.glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=PATH)["TaskRunId"]
    assert handler(cfn_event("Create", props(transform_id)), remaining_s=40) is None  # its run in flight
    (handed_over,) = handler.lambda_client.invocations
    mine = handed_over["Payload"]["GlueTaskRunHandover"]["TaskRunId"]
    answer = handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    assert answer is not None and answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == "labels-1"
    assert task_runs.calls_to("CancelMLTaskRun") == [{"TransformId": transform_id, "TaskRunId": mine}]
    assert handler.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=same_file)["Status"] == "RUNNING"


def test_delete_with_nothing_in_flight_cancels_nothing(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id)))
    answer = handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert task_runs.calls_to("CancelMLTaskRun") == []


@pytest.mark.parametrize(
    "properties",
    [props("tfm-gone"), {"TransformId": "", "InputS3Path": "nowhere"}],
    ids=["missing transform", "bad properties"],
)
def test_delete_never_fails(handler: Handler, properties: dict[str, Any]) -> None:
    answer = handler(cfn_event("Delete", properties, physical_id="labels-1"))
    assert answer is not None and answer["Status"] == "SUCCESS"


@pytest.mark.parametrize("operation", ["GetMLTaskRuns", "CancelMLTaskRun"])
def test_delete_succeeds_when_glue_keeps_failing(handler: Handler, task_runs: GlueMLTaskRuns, operation: str) -> None:
    transform_id = handler.transform()
    handler.glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=PATH)
    task_runs.fail_next(operation, "ThrottlingException", "Rate exceeded", times=1000)
    started = handler.clock()
    answer = handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert handler.clock() - started <= 3


def test_update_that_changes_no_import_property_does_not_import_again(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    created = handler(cfn_event("Create", props(transform_id)))
    assert created is not None
    update = cfn_event(
        "Update", props(transform_id, timeout=600), physical_id="kept", old_properties=props(transform_id, timeout=3600)
    )
    answer = handler(update)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["Data"]["TaskRunId"] == created["Data"]["TaskRunId"]
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_update_with_unchanged_properties_but_no_earlier_import_imports(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    update = cfn_event("Update", props(transform_id), physical_id="kept", old_properties=props(transform_id))
    answer = handler(update)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_throttling_until_the_invocation_ends_hands_over_instead_of_failing(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(running_seconds=60)
    task_runs.fail_next("GetMLTaskRun", "ThrottlingException", "Rate exceeded", times=100_000)
    event = cfn_event("Create", props(transform_id))
    assert handler(event) is None
    (invocation,) = handler.lambda_client.invocations
    task_runs.reset()
    task_runs.clock = handler.clock
    answer = handler(invocation["Payload"])
    assert answer is not None and answer["Status"] == "SUCCESS"


def test_an_error_while_waiting_fails_and_cancels_the_run(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(running_seconds=60)
    task_runs.fail_next("GetMLTaskRun", "AccessDeniedException", "not authorized to perform glue:GetMLTaskRun")
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert "AccessDeniedException" in answer["Reason"] and "glue:GetMLTaskRun" in answer["Reason"]
    (start,) = task_runs.calls_to("StartImportLabelsTaskRun")
    (cancel,) = task_runs.calls_to("CancelMLTaskRun")
    assert cancel["TransformId"] == start["TransformId"] == transform_id


def test_deadline_when_the_cancel_fails_still_says_it_timed_out(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(running_seconds=3600)
    task_runs.fail_next("CancelMLTaskRun", "InternalServiceException", "try later", times=1000)
    answer = handler(cfn_event("Create", props(transform_id, timeout=120)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("timed out after 2 minutes; task run tsk")
    assert answer["Reason"].endswith("could not be cancelled")


def test_a_long_start_error_keeps_the_code_and_the_start_of_glues_message(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.fail_next("StartImportLabelsTaskRun", "InvalidInputException", "Input path is wrong: " + "x" * 400)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert len(answer["Reason"]) <= 256
    assert answer["Reason"].startswith("InvalidInputException: Input path is wrong: xxx")
    assert answer["Reason"].endswith(f"... (transform {transform_id})")


def test_delete_without_properties_succeeds(handler: Handler) -> None:
    event = cfn_event("Delete", {}, physical_id="labels-1")
    del event["ResourceProperties"]
    answer = handler(event)
    assert answer is not None and answer["Status"] == "SUCCESS"


class LosingStartReplies:
    """A Glue client whose first StartImportLabelsTaskRun starts the run, then loses the reply."""

    def __init__(self, glue: Any) -> None:
        self._glue = glue
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._glue, name)

    def start_import_labels_task_run(self, **params: Any) -> Any:
        response = self._glue.start_import_labels_task_run(**params)
        if not self.lost:
            self.lost += 1
            raise ReadTimeoutError(endpoint_url="https://glue.us-east-1.amazonaws.com/")
        return response


def test_a_start_whose_reply_was_lost_is_adopted_not_started_twice(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    glue = LosingStartReplies(handler.glue)
    monkeypatch.setattr(index, "engine", engine_on(glue, handler.lambda_client, handler.clock))
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert glue.lost == 1
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert answer["Data"]["TaskRunId"] == task_runs.calls_to("GetMLTaskRun")[-1]["TaskRunId"]


def test_an_update_to_replace_does_not_adopt_an_appending_run_of_the_same_file(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(running_seconds=600)
    appending = handler.glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=PATH)["TaskRunId"]
    update = cfn_event(
        "Update", props(transform_id, replace=True), physical_id="kept", old_properties=props(transform_id)
    )
    answer = handler(update)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["Data"]["TaskRunId"] != appending
    assert task_runs.calls_to("StartImportLabelsTaskRun")[-1]["ReplaceAllLabels"] is True

    handler(cfn_event("Delete", props(transform_id), physical_id="kept"))
    assert task_runs.calls_to("CancelMLTaskRun") == []  # the appending run is nobody's here


class Answering:
    """A Glue client that answers one operation with what the test says, after doing the real call."""

    def __init__(self, glue: Any, operation: str, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._glue, self._operation, self._answer = glue, operation, answer

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._glue, name)
        if name != self._operation:
            return call
        return lambda **params: self._answer(call(**params))


@pytest.mark.parametrize("unusable", [{}, {"TaskRunId": ""}, {"TaskRunId": None}])
def test_a_start_answer_without_a_task_run_id_cancels_the_run_glue_started(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch, unusable: dict[str, Any]
) -> None:
    transform_id = handler.transform()
    glue = Answering(handler.glue, "start_import_labels_task_run", lambda response: unusable)
    monkeypatch.setattr(index, "engine", engine_on(glue, handler.lambda_client, handler.clock))
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1
    (cancel,) = task_runs.calls_to("CancelMLTaskRun")
    assert answer["Reason"] == (
        f"StartImportLabelsTaskRun: it answered without a usable TaskRunId ({unusable.get('TaskRunId')!r});"
        f" task run {cancel['TaskRunId']} cancelled"
    )


@pytest.mark.parametrize("count", ["many", None, [3]])
def test_a_label_count_glue_does_not_give_as_a_number_is_left_out(
    handler: Handler, monkeypatch: pytest.MonkeyPatch, count: Any
) -> None:
    transform_id = handler.transform()
    glue = Answering(handler.glue, "get_ml_transform", lambda response: {**response, "LabelCount": count})
    monkeypatch.setattr(index, "engine", engine_on(glue, handler.lambda_client, handler.clock))
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert set(answer["Data"]) == {"TaskRunId"}


@pytest.mark.parametrize("timeout", [1, 30])
def test_a_service_timeout_too_short_for_a_run_fails_before_starting_one(
    handler: Handler, task_runs: GlueMLTaskRuns, timeout: int
) -> None:
    transform_id = handler.transform()
    answer = handler(cfn_event("Create", props(transform_id, timeout=timeout)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == f"ServiceTimeout {timeout} s leaves no time for a task run: it must be more than 30 s"
    assert task_runs.calls == []


@pytest.mark.parametrize("missing", ["ResponseURL", "StackId", "RequestType"])
def test_a_malformed_event_in_a_warm_container_never_answers_to_the_previous_request(
    handler: Handler, missing: str
) -> None:
    transform_id = handler.transform()
    previous = cfn_event("Create", props(transform_id))
    assert handler(previous) is not None
    malformed = cfn_event("Create", props(transform_id))
    del malformed[missing]
    before = len(RecordingConnection.answers)
    index.handler(malformed, LambdaContext(900, handler.clock))
    answers = RecordingConnection.answers[before:]
    assert all(answer["path"] != urlsplit(previous["ResponseURL"]).path + "?" + SECRET for answer in answers)
    assert all(answer["body"]["RequestId"] == malformed["RequestId"] for answer in answers)
    assert [answer["body"]["Status"] for answer in answers] == ([] if missing == "ResponseURL" else ["FAILED"])


@pytest.mark.parametrize(
    ("value", "level"),
    [("debug", "DEBUG"), ("Warning", "WARNING"), (" info ", "INFO"), ("verbose", "INFO"), ("", "INFO"), (None, "INFO")],
)
def test_log_level_takes_any_case_and_falls_back_to_info(value: str | None, level: str) -> None:
    assert index.log_level(value) == level


ROUND_2 = f"s3://{BUCKET}/round-2.csv"


def imported(task_runs: GlueMLTaskRuns) -> list[tuple[str, bool]]:
    """(file, replace) of every import the handler started, in order."""
    return [(call["InputS3Path"], call["ReplaceAllLabels"]) for call in task_runs.calls_to("StartImportLabelsTaskRun")]


def test_an_appending_import_of_a_file_imported_since_the_last_replace_runs_nothing(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    replaced = handler(cfn_event("Create", props(transform_id, PATH, replace=True), logical_id="Base"))
    appended = handler(cfn_event("Create", props(transform_id, ROUND_2), logical_id="Next"))
    again = handler(cfn_event("Create", props(transform_id, ROUND_2), logical_id="Next"))  # a late duplicate Create
    base_again = handler(cfn_event("Create", props(transform_id, PATH), logical_id="Other"))  # on since the replace
    assert replaced and appended and again and base_again
    assert imported(task_runs) == [(PATH, True), (ROUND_2, False)]
    assert again["Status"] == "SUCCESS" and again["Data"]["TaskRunId"] == appended["Data"]["TaskRunId"]
    assert base_again["Data"]["TaskRunId"] == replaced["Data"]["TaskRunId"]
    assert again["Data"]["LabelCount"] == 6


def test_an_appending_import_after_a_replace_of_another_file_imports_again(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    handler(cfn_event("Create", props(transform_id, PATH)))
    handler(cfn_event("Create", props(transform_id, ROUND_2, replace=True)))
    handler(cfn_event("Create", props(transform_id, PATH)))  # its labels went with the replace
    assert imported(task_runs) == [(PATH, False), (ROUND_2, True), (PATH, False)]


def test_a_replacing_import_runs_unless_the_newest_import_replaced_with_this_file(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    handler(cfn_event("Create", props(transform_id, PATH)))
    handler(cfn_event("Create", props(transform_id, PATH, replace=True)))  # appended before: replace anyway
    handler(cfn_event("Create", props(transform_id, PATH, replace=True)))  # the newest: nothing to do
    handler(cfn_event("Create", props(transform_id, ROUND_2)))
    handler(cfn_event("Create", props(transform_id, PATH, replace=True)))  # something came since: replace again
    assert imported(task_runs) == [(PATH, False), (PATH, True), (ROUND_2, False), (PATH, True)]


def test_the_rollback_of_an_appending_update_imports_nothing(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    created = handler(cfn_event("Create", props(transform_id, PATH)))
    assert created is not None
    handler(cfn_event("Update", props(transform_id, ROUND_2), physical_id="kept", old_properties=props(transform_id)))
    rollback = handler(
        cfn_event("Update", props(transform_id, PATH), physical_id="kept", old_properties=props(transform_id, ROUND_2))
    )
    assert rollback is not None and rollback["Status"] == "SUCCESS"
    assert rollback["Data"]["TaskRunId"] == created["Data"]["TaskRunId"]
    assert imported(task_runs) == [(PATH, False), (ROUND_2, False)]


def test_a_failed_import_does_not_count_as_done(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(final_status="FAILED", error_string="try again")
    handler(cfn_event("Create", props(transform_id, PATH)))
    answer = handler(cfn_event("Create", props(transform_id, PATH)))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert imported(task_runs) == [(PATH, False), (PATH, False)]


def catalog_table(glue: Any, columns: list[str]) -> None:
    """The transform's input table, crm.customers, in (moto's) Glue catalog: GetMLTransform's Schema."""
    glue.create_database(DatabaseInput={"Name": "crm"})
    glue.create_table(
        DatabaseName="crm",
        TableInput={
            "Name": "customers",
            "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in columns]},
        },
    )


def test_a_label_file_whose_columns_differ_from_the_schema_fails_before_any_run(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    catalog_table(handler.glue, ["customer_id", "email", "phone"])
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="typo.csv", Body=b"labeling_set_id,label,customer_id,e_mail,fax\ns1,A,1,a,b\n"
    )
    started = handler.clock()
    answer = handler(cfn_event("Create", props(transform_id, f"s3://{BUCKET}/typo.csv")))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "label file columns do not match the transform's schema: missing email, phone; not in the transform e_mail,"
        f" fax (s3://{BUCKET}/typo.csv)"
    )
    assert task_runs.calls_to("StartImportLabelsTaskRun") == []
    assert handler.clock() - started < 1


def test_a_label_file_with_the_schemas_columns_is_imported(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    catalog_table(handler.glue, ["Customer_ID"])  # the catalog's names are lower case; a header's may not be
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert imported(task_runs) == [(PATH, False)]


@pytest.mark.parametrize("schema", [False, True], ids=["transform without a schema", "with the file's columns"])
def test_a_label_file_not_starting_with_labeling_set_id_label_fails_before_any_run(
    handler: Handler, task_runs: GlueMLTaskRuns, schema: bool
) -> None:
    transform_id = handler.transform()
    if schema:
        catalog_table(handler.glue, ["customer_id"])
    path = f"s3://{BUCKET}/reordered.csv"
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="reordered.csv", Body=b"customer_id,labeling_set_id,label\n1,s1,A\n"
    )
    answer = handler(cfn_event("Create", props(transform_id, path)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "the label file's first two columns must be labeling_set_id,label (Glue's rule); its header starts with "
        f"customer_id,labeling_set_id ({path})"
    )
    assert task_runs.calls_to("StartImportLabelsTaskRun") == []


@pytest.mark.parametrize(
    "body", [None, b"x" * 70_000], ids=["unreadable label file", "no header line in the first 64 KiB"]
)
def test_a_header_that_cannot_be_read_leaves_the_decision_to_glue(
    handler: Handler, task_runs: GlueMLTaskRuns, body: bytes | None
) -> None:
    transform_id = handler.transform()
    catalog_table(handler.glue, ["customer_id", "email"])
    key = "unread.csv"
    if body is not None:
        boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    task_runs.check_s3_objects = False
    answer = handler(cfn_event("Create", props(transform_id, f"s3://{BUCKET}/{key}")))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert imported(task_runs) == [(f"s3://{BUCKET}/{key}", False)]


class LosingEveryStartReply(LosingStartReplies):
    """A Glue client whose every StartImportLabelsTaskRun starts the run, then loses the reply."""

    def start_import_labels_task_run(self, **params: Any) -> Any:
        self._glue.start_import_labels_task_run(**params)
        self.lost += 1
        raise ReadTimeoutError(endpoint_url="https://glue.us-east-1.amazonaws.com/")


def test_a_start_whose_last_reply_was_lost_cancels_the_run_it_started(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    glue = LosingEveryStartReply(handler.glue)
    monkeypatch.setattr(index, "engine", engine_on(glue, handler.lambda_client, handler.clock))
    replies.listing_lag_seconds = 1.0  # listed only after the little time the invocation has
    answer = handler(cfn_event("Create", props(transform_id)), remaining_s=30.5)  # no time for a second try
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("StartImportLabelsTaskRun: its reply was lost (ReadTimeoutError); task run tsk")
    (cancel,) = task_runs.calls_to("CancelMLTaskRun")
    assert glue.lost == 1
    assert handler.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=cancel["TaskRunId"])["Status"] in {
        "STOPPING",
        "STOPPED",
    }
