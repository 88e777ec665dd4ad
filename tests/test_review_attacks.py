"""A reviewer's fault attacks on the handler (in process, moto and a fake clock), each now held."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from glue_label_import._handler import index
from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import GlueMLTaskRuns, replies, stacks
from glue_label_import.testing.requests import (
    EVALUATION,
    GENERATION,
    LEDGER_TABLE,
    SECRET,
    STACK_ID,
    cfn_event,
    evaluation_props,
    generation_props,
    props,
)
from handler_driver import (
    ROUND_1,
    ROUND_2,
    Handler,
    Refusing,
    generation_update,
    import_update,
    throttled_dynamodb,
)
from support import BUCKET, OTHER_STACK_ID, share


def throttle_describe_stacks(handler: Handler) -> None:
    handler.use_engine().cloudformation = Refusing(boto3.client("cloudformation"), "describe_stacks", "Throttling")


# 1. Rollbacks


def test_a_rollback_whose_status_is_throttled_and_whose_import_fails_still_succeeds(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))["Status"] == "SUCCESS"  # type: ignore[index]
    assert handler(import_update(transform_id, ROUND_2, ROUND_1))["Status"] == "SUCCESS"  # type: ignore[index]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    throttle_describe_stacks(handler)
    task_runs.script_next_run(final_status="FAILED", error_string="Glue is down")
    rollback = handler(import_update(transform_id, ROUND_1, ROUND_2))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback


def test_a_generation_rollback_with_its_status_throttled_answers_its_previous_folder(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    first = handler(cfn_event("Create", generation_props(transform_id, after=("a",)), resource_type=GENERATION))
    handler.clock.now += 60
    updated = handler(generation_update(transform_id, "b", "a"))
    assert first and updated and first["Data"] != updated["Data"]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    throttle_describe_stacks(handler)
    starts = len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun"))
    rollback = handler(generation_update(transform_id, "a", "b"))
    assert rollback is not None and rollback["Status"] == "SUCCESS"
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == starts
    assert rollback["Data"] == first["Data"]


def test_a_rollback_whose_label_file_is_gone_answers_success(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    created = handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))
    assert handler(import_update(transform_id, ROUND_2, ROUND_1))["Status"] == "SUCCESS"  # type: ignore[index]
    boto3.client("s3").delete_object(Bucket=BUCKET, Key="round-1.csv")
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = handler(import_update(transform_id, ROUND_1, ROUND_2))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    assert created is not None and rollback["Data"] == created["Data"]


def test_a_rollback_without_capacity_and_without_its_ledger_never_answers_failed(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))["Status"] == "SUCCESS"  # type: ignore[index]
    assert handler(import_update(transform_id, ROUND_2, ROUND_1))["Status"] == "SUCCESS"  # type: ignore[index]
    handler.dynamodb.delete_table(TableName=LEDGER_TABLE)
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.fail_next("StartImportLabelsTaskRun", "ConcurrentRunsExceededException", "too many runs", times=1000)
    event = import_update(transform_id, ROUND_1, ROUND_2)
    answers = []
    for _ in range(200):  # follow the hand-overs until someone answers
        answer = handler(event, remaining_s=share(30))
        if answer is not None:
            answers.append(answer)
            break
        event = handler.lambda_client.invocations[-1]["Payload"]
    assert answers and answers[0]["Status"] == "SUCCESS", answers


# 2. Deletes


def test_a_delete_with_its_ledger_throttled_answers_success(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    handler.use_engine(dynamodb=throttled_dynamodb("update_item"))
    answer = handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    assert answer is not None and answer["Status"] == "SUCCESS"


# 3. Two stacks on one transform


def evaluation_event(request_type: str, transform_id: str, stack_id: str, after: str, **kwargs: Any) -> dict[str, Any]:
    return cfn_event(
        request_type,
        evaluation_props(transform_id, after=(after,), **kwargs.pop("thresholds", {})),
        resource_type=EVALUATION,
        logical_id="Quality",
        stack_id=stack_id,
        **kwargs,
    )


def test_a_lost_evaluation_start_reply_never_adopts_or_cancels_a_run_another_stack_started_at_that_moment(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.running_seconds = 600
    replies.listing_lag_seconds = 4.0
    a = handler(evaluation_event("Create", transform_id, OTHER_STACK_ID, "tsk-1"), remaining_s=share(1))
    assert a is None  # stack A's run is in flight, its wait handed over
    a_run = handler.handed_over_run()
    replies.lose_next_reply("StartMLEvaluationTaskRun")
    b = handler(evaluation_event("Create", transform_id, STACK_ID, "tsk-1"))  # 1 s later: which run is B's?
    assert b is not None, "B answers"
    assert b["Data"].get("TaskRunId") != a_run, b  # B waits for, answers (and would cancel) only its own run
    assert b["Status"] == "FAILED" and a_run in b["Reason"] and "another resource" in b["Reason"]
    assert task_runs.calls_to("CancelMLTaskRun") == []


def lost_import_start_after_another_stacks(handler: Handler, remaining_s: float) -> tuple[str, str, Any]:
    """Stack A starts an import of the file; 3 s later stack B's start of the same file loses its reply:
    the transform, A's run and B's answer."""
    transform_id = handler.transform()
    replies.listing_lag_seconds = 4.0
    assert handler(cfn_event("Create", props(transform_id), stack_id=OTHER_STACK_ID), remaining_s=share(1)) is None
    a_run = handler.handed_over_run()
    handler.clock.now += 2
    replies.lose_next_reply("StartImportLabelsTaskRun")
    return transform_id, a_run, handler(cfn_event("Create", props(transform_id)), remaining_s=remaining_s)


def test_a_lost_import_start_reply_adopts_its_own_run_not_another_stacks_import_of_the_same_file(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    task_runs.running_seconds = 600
    transform_id, a_run, b = lost_import_start_after_another_stacks(handler, remaining_s=900)
    assert b is not None and b["Status"] == "SUCCESS", b
    (b_run,) = [run["TaskRunId"] for run in handler.runs(transform_id) if run["TaskRunId"] != a_run]
    assert b["Data"]["TaskRunId"] == b_run
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 2  # A's and B's: B started no second run


def test_a_lost_start_reply_near_its_time_limit_hands_its_own_run_over_and_never_cancels_another_stacks(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    task_runs.running_seconds = 600
    transform_id, a_run, b = lost_import_start_after_another_stacks(handler, remaining_s=share(1))  # 1 s of B's left
    assert b is None  # B looked for its run past its share of time, then handed the wait over
    b_run = handler.handed_over_run()
    runs = handler.runs(transform_id)
    assert sorted(run["TaskRunId"] for run in runs if run["Status"] == "RUNNING") == sorted([a_run, b_run])
    assert a_run != b_run and task_runs.calls_to("CancelMLTaskRun") == []


class StartingAnotherStacksImport:
    """A Glue client whose StartImportLabelsTaskRun answers a server fault and starts nothing; 2 s after,
    as its caller first lists the runs, another stack starts an import of the same file (`theirs`)."""

    def __init__(self, glue: Any, clock: Any) -> None:
        self._glue, self._clock = glue, clock
        self.theirs: str | None = None
        self._params: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._glue, name)

    def start_import_labels_task_run(self, **params: Any) -> Any:
        self._params = params
        raise ClientError({"Error": {"Code": "InternalServiceException", "Message": "try again"}}, "Start")

    def get_ml_task_runs(self, **params: Any) -> Any:
        if self.theirs is None and self._params:
            self._clock.now += 2
            self.theirs = self._glue.start_import_labels_task_run(**self._params)["TaskRunId"]
        return self._glue.get_ml_task_runs(**params)


def test_a_lost_start_reply_never_adopts_a_run_another_stack_started_after_the_call_came_back(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    replies.listing_lag_seconds = 4.0
    glue = StartingAnotherStacksImport(handler.glue, handler.clock)
    handler.use_engine(glue=glue)
    b = handler(cfn_event("Create", props(transform_id)), remaining_s=share(1))  # no time for a second try
    assert glue.theirs is not None
    assert b is None, b  # B started nothing, found nothing of its own: the next invocation starts
    (handed,) = [call["Payload"][HANDOVER_KEY] for call in handler.lambda_client.invocations]
    assert "TaskRunId" not in handed and task_runs.calls_to("CancelMLTaskRun") == []


def test_an_unchanged_evaluation_update_answers_only_its_own_run(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.labelled_transform()
    mine = handler(evaluation_event("Create", transform_id, STACK_ID, "tsk-1"))
    handler.clock.now += 60
    theirs = handler(evaluation_event("Create", transform_id, OTHER_STACK_ID, "tsk-9"))
    assert mine and theirs and mine["Data"]["TaskRunId"] != theirs["Data"]["TaskRunId"]
    update = handler(
        evaluation_event(
            "Update",
            transform_id,
            STACK_ID,
            "tsk-1",
            thresholds={"MinF1": 0.0},
            physical_id="quality-1",
            old_properties=evaluation_props(transform_id, after=("tsk-1",)),
        )
    )
    assert update is not None and update["Status"] == "SUCCESS"
    assert update["Data"]["TaskRunId"] != theirs["Data"]["TaskRunId"]


def test_a_delete_in_one_stack_leaves_the_other_stacks_run(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    out = f"s3://{BUCKET}/sets/"
    assert (
        handler(
            cfn_event(
                "Create", generation_props(transform_id, output=out), resource_type=GENERATION, stack_id=OTHER_STACK_ID
            ),
            remaining_s=share(1),
        )
        is None
    )
    deleted = handler(
        cfn_event(
            "Delete",
            generation_props(transform_id, output=out + "nested/"),
            resource_type=GENERATION,
            physical_id="gen-1",
        )
    )
    assert deleted is not None and deleted["Status"] == "SUCCESS"
    assert task_runs.calls_to("CancelMLTaskRun") == []


# 4. Duplicate deliveries


def test_an_in_flight_duplicate_adopts_the_run_and_starts_nothing(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    event = cfn_event("Create", generation_props(transform_id), resource_type=GENERATION)
    assert handler(event, remaining_s=share(1)) is None
    first_run = handler.handed_over_run()
    assert handler(event, remaining_s=share(1)) is None  # the duplicate
    assert handler.handed_over_run() == first_run
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 1


def test_an_in_flight_duplicate_without_the_ledger_starts_no_second_run(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    handler.dynamodb.delete_table(TableName=LEDGER_TABLE)
    task_runs.running_seconds = 600
    other = cfn_event("Create", generation_props(transform_id), resource_type=GENERATION, stack_id=OTHER_STACK_ID)
    assert handler(other, remaining_s=share(1)) is None  # another stack generates under the same prefix
    event = cfn_event("Create", generation_props(transform_id), resource_type=GENERATION)
    assert handler(event, remaining_s=share(1)) is None
    mine = handler.handed_over_run()
    handler.clock.now += 1
    assert handler(event, remaining_s=share(1)) is None  # the duplicate adopts its request's run, by its folder
    assert handler.handed_over_run() == mine
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 2  # the other stack's, and mine


def test_a_late_duplicate_of_an_import_update_starts_nothing(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))
    event = import_update(transform_id, ROUND_2, ROUND_1)
    first = handler(event)
    starts = len(task_runs.calls_to("StartImportLabelsTaskRun"))
    again = handler(event)
    assert first == again
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == starts


# 5. Strict JSON, and the secret


def test_no_answer_hand_over_or_log_line_carries_the_secret_or_a_nan(
    handler: Handler, task_runs: GlueMLTaskRuns, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={"F1": float("nan"), "Precision": float("inf")})
    answer = handler(
        cfn_event("Create", evaluation_props(transform_id, MinF1=0.5), resource_type=EVALUATION, logical_id="Q")
    )
    assert answer is not None and answer["Status"] == "FAILED"
    assert "F1" in answer["Reason"]
    json.dumps(answer, allow_nan=False)
    assert SECRET not in json.dumps(answer)
    assert SECRET not in caplog.text
    assert "signature" not in caplog.text.lower()


# 6. No run left that no resource answers for


def test_an_invoke_refused_during_a_rollback_leaves_no_run(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))["Status"] == "SUCCESS"  # type: ignore[index]
    assert handler(import_update(transform_id, ROUND_2, ROUND_1))["Status"] == "SUCCESS"  # type: ignore[index]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.running_seconds = 600
    refusing = Refusing(handler.lambda_client, "invoke", "AccessDeniedException")
    handler.use_engine(lambda_client=refusing)
    rollback = handler(import_update(transform_id, ROUND_1, ROUND_2), remaining_s=share(15))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    runs = handler.runs(transform_id)
    assert not [run for run in runs if run["Status"] in ("STARTING", "RUNNING")], runs


# Hand-overs


def test_a_rollback_whose_run_fails_after_a_hand_over_answers_success(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    created = handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))
    assert handler(import_update(transform_id, ROUND_2, ROUND_1))["Status"] == "SUCCESS"  # type: ignore[index]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.running_seconds = 600
    task_runs.script_next_run(final_status="FAILED", error_string="Glue is down")
    assert handler(import_update(transform_id, ROUND_1, ROUND_2), remaining_s=share(15)) is None
    handed_over = handler.lambda_client.invocations[-1]["Payload"]
    stacks.set(STACK_ID, "UPDATE_IN_PROGRESS")  # whatever the status says now, the hand-over carries "rollback"
    handler.clock.now += 700
    rollback = handler(handed_over)
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    assert created is not None and rollback["Data"] == created["Data"]


class UnknownInvoke:
    """A Lambda client whose Invoke answers a server fault and queues nothing."""

    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, **kwargs: Any) -> Any:
        self.calls += 1
        raise ClientError({"Error": {"Code": "ServiceException", "Message": "try again"}}, "Invoke")


def test_a_hand_over_whose_result_is_unclear_still_gets_an_answer_in_a_rollback(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))["Status"] == "SUCCESS"  # type: ignore[index]
    assert handler(import_update(transform_id, ROUND_2, ROUND_1))["Status"] == "SUCCESS"  # type: ignore[index]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.running_seconds = 600
    lambda_client = UnknownInvoke()
    handler.use_engine(lambda_client=lambda_client)
    rollback = handler(import_update(transform_id, ROUND_1, ROUND_2), remaining_s=share(15))
    assert lambda_client.calls >= 1
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback


def test_a_generation_rollback_without_its_ledger_starts_no_run(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    handler(cfn_event("Create", generation_props(transform_id, after=("a",)), resource_type=GENERATION))
    handler.clock.now += 60
    handler(generation_update(transform_id, "b", "a"))
    handler.dynamodb.delete_table(TableName=LEDGER_TABLE)  # denied or gone: the same to it
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    starts = len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun"))
    rollback = handler(generation_update(transform_id, "a", "b"))
    assert rollback is not None and rollback["Status"] == "SUCCESS"
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == starts


def test_a_late_duplicate_after_a_rollback_does_not_change_what_the_next_rollback_answers(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    first = handler(cfn_event("Create", generation_props(transform_id, after=("a",)), resource_type=GENERATION))
    handler.clock.now += 60
    forward = generation_update(transform_id, "b", "a")
    second = handler(forward)
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    back = handler(generation_update(transform_id, "a", "b"))
    assert first and second and back and back["Data"] == first["Data"] != second["Data"]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_COMPLETE")
    late = handler(forward)  # Lambda delivers the forward Update once more, after the rollback
    assert late is not None and late["Data"] == second["Data"]  # it answers the same: fair
    stacks.set(STACK_ID, "UPDATE_IN_PROGRESS")  # the next deploy: a -> c, then a later resource fails
    handler.clock.now += 60
    third = handler(generation_update(transform_id, "c", "a"))
    assert third is not None and third["Status"] == "SUCCESS"
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = handler(generation_update(transform_id, "a", "c"))
    assert rollback is not None and rollback["Status"] == "SUCCESS"
    assert rollback["Data"] == first["Data"], (rollback["Data"], first["Data"], second["Data"])


def test_the_retry_of_a_delivery_that_crashed_after_its_claim_still_answers(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    event = cfn_event("Create", generation_props(transform_id), resource_type=GENERATION)
    now = handler.clock.now  # the first delivery claimed the request, then its sandbox died (OOM, crash)
    index.engine.ledger.claim(event["RequestId"], "resource", "crashed", started_at=now, limit=now + 31)
    handler.clock.now += 60
    retried = handler(event)  # Lambda retries the asynchronous event
    assert retried is not None and retried["Status"] == "SUCCESS", retried


def test_a_duplicate_of_a_capacity_wait_hand_over_starts_no_second_run(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.fail_next("StartMLLabelingSetGenerationTaskRun", "ConcurrentRunsExceededException", "3 runs", times=1000)
    event = cfn_event("Create", generation_props(transform_id), resource_type=GENERATION)
    assert handler(event, remaining_s=share(30)) is None  # no capacity: the wait for it is handed over
    capacity_wait = handler.lambda_client.invocations[-1]["Payload"]
    assert "TaskRunId" not in capacity_wait[HANDOVER_KEY]
    task_runs._failures.clear()  # capacity again
    task_runs.running_seconds = 600
    handler.clock.now += 5
    assert handler(capacity_wait, remaining_s=share(1)) is None  # it starts the run, hands the wait over
    handler.clock.now += 1
    handler(capacity_wait, remaining_s=share(1))  # Lambda delivers the capacity-wait hand-over once more
    runs = handler.runs(transform_id)
    assert len(runs) == 1, [(run["TaskRunId"], run["Status"]) for run in runs]
