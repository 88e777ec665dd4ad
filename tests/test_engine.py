"""The engine every resource type runs on, through the handler on moto in process on a clock the test
controls: starts refused and retried, capacity, duplicate delivery, polling, the hand-over, the
deadline, Delete, lost replies and unusable answers, malformed events, the log level.

The Glue calls go to moto's Glue (with the ML task-run extension), the answer goes through
crhelper's real response code to a recording HTTPS connection, and the hand-over goes to a
recording Lambda client. The import is the resource type these tests drive.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ReadTimeoutError

from glue_label_import._handler import index
from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import GlueMLTaskRuns, replies
from glue_label_import.testing.requests import SECRET, cfn_event, props
from handler_driver import ROUND_1, Answering, Handler, RecordingConnection
from support import LambdaContext, share


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
    (run,) = handler.runs(transform_id)
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
        state = dict(invocation["Payload"][HANDOVER_KEY])
        assert state.pop("Turn")  # what the fresh invocation claims
        assert state == {"StartedAt": started, "Rollback": "no"}
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


def test_a_duplicate_delivery_of_a_handed_over_request_starts_nothing_and_the_hand_over_answers(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    event = cfn_event("Create", props(transform_id))
    assert handler(event, remaining_s=share(10)) is None  # started its run, then handed the wait over
    (handed_over,) = handler.lambda_client.invocations
    assert handler(event) is None  # Lambda delivers the same request again: the hand-over answers, not it
    assert handler.lambda_client.invocations == [handed_over]
    handler.clock.now += 600
    answer = handler(handed_over["Payload"])
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["Data"]["TaskRunId"] == handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_a_duplicate_waits_for_a_first_delivery_still_at_work_then_takes_its_run_over_once_it_is_over(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 60  # over long before the first delivery's limit: only the takeover waits so long
    run_id = handler.glue.start_import_labels_task_run(  # the first delivery's run
        TransformId=transform_id, InputS3Path=props(transform_id)["InputS3Path"], ReplaceAllLabels=False
    )["TaskRunId"]
    event = cfn_event("Create", props(transform_id))
    now, ledger = handler.clock.now, index.engine.ledger
    assert ledger is not None  # the first delivery claimed the request and started its run, then its sandbox died:
    ledger.claim(event["RequestId"], "resource", "first", started_at=now, limit=now + 300)
    ledger.record_run(event["RequestId"], event["RequestId"], "resource", run_id, transform_id, {})
    answer = handler(event)  # the duplicate waits until the first delivery's Lambda limit has passed
    assert answer is not None and answer["Status"] == "SUCCESS" and answer["Data"]["TaskRunId"] == run_id
    assert handler.clock.now >= now + 300
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_a_duplicate_that_would_outlive_its_invocation_waiting_leaves_the_request_to_the_first_delivery(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    event = cfn_event("Create", props(transform_id))
    now, ledger = handler.clock.now, index.engine.ledger
    assert ledger is not None
    ledger.claim(event["RequestId"], "resource", "first", started_at=now, limit=now + 900)
    assert handler(event, remaining_s=120) is None
    assert task_runs.calls_to("StartImportLabelsTaskRun") == [] and handler.lambda_client.invocations == []


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
    same_file = handler.glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=ROUND_1)["TaskRunId"]
    assert handler(cfn_event("Create", props(transform_id)), remaining_s=share(10)) is None  # its run in flight
    (handed_over,) = handler.lambda_client.invocations
    mine = handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
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
    handler.glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=ROUND_1)
    task_runs.fail_next(operation, "ThrottlingException", "Rate exceeded", times=1000)
    started = handler.clock()
    answer = handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert handler.clock() - started <= 3


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


def test_a_start_whose_reply_was_lost_is_adopted_not_started_twice(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    glue = LosingStartReplies(handler.glue)
    handler.use_engine(glue=glue)
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
    appending = handler.glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=ROUND_1)["TaskRunId"]
    update = cfn_event(
        "Update", props(transform_id, replace=True), physical_id="kept", old_properties=props(transform_id)
    )
    answer = handler(update)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["Data"]["TaskRunId"] != appending
    assert task_runs.calls_to("StartImportLabelsTaskRun")[-1]["ReplaceAllLabels"] is True

    handler(cfn_event("Delete", props(transform_id), physical_id="kept"))
    assert task_runs.calls_to("CancelMLTaskRun") == []  # the appending run is nobody's here


@pytest.mark.parametrize("unusable", [{}, {"TaskRunId": ""}, {"TaskRunId": None}])
def test_a_start_answer_without_a_task_run_id_cancels_the_run_glue_started(
    handler: Handler, task_runs: GlueMLTaskRuns, unusable: dict[str, Any]
) -> None:
    transform_id = handler.transform()
    glue = Answering(handler.glue, "start_import_labels_task_run", lambda response: unusable)
    handler.use_engine(glue=glue)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1
    (cancel,) = task_runs.calls_to("CancelMLTaskRun")
    assert answer["Reason"] == (
        f"StartImportLabelsTaskRun: it answered without a usable TaskRunId ({unusable.get('TaskRunId')!r});"
        f" task run {cancel['TaskRunId']} cancelled"
    )


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


class LosingEveryStartReply(LosingStartReplies):
    """A Glue client whose every StartImportLabelsTaskRun starts the run, then loses the reply."""

    def start_import_labels_task_run(self, **params: Any) -> Any:
        self._glue.start_import_labels_task_run(**params)
        self.lost += 1
        raise ReadTimeoutError(endpoint_url="https://glue.us-east-1.amazonaws.com/")


def test_a_start_whose_last_reply_was_lost_adopts_its_run_past_its_share_of_time_and_hands_it_over(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    glue = LosingEveryStartReply(handler.glue)
    handler.use_engine(glue=glue)
    replies.listing_lag_seconds = 1.0  # listed only after the little time the invocation has
    assert handler(cfn_event("Create", props(transform_id)), remaining_s=share(0.5)) is None  # no time for a second try
    (handed_over,) = handler.lambda_client.invocations
    (run,) = handler.runs(transform_id)
    assert handed_over["Payload"][HANDOVER_KEY]["TaskRunId"] == run["TaskRunId"]
    assert glue.lost == 1 and task_runs.calls_to("CancelMLTaskRun") == []
