"""A third reviewer's fault attacks (in process, moto and a fake clock): the takeover of a claimant that
died during its start (the claim's `Starting` mark), rollbacks on the new paths, hand-overs and answers.

Each held once mended."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glue_label_import._handler import engine as engine_module
from glue_label_import._handler.ledger import Ledger
from glue_label_import.testing import GlueMLTaskRuns, replies, stacks
from glue_label_import.testing.requests import (
    EVALUATION,
    GENERATION,
    LEDGER_TABLE,
    STACK_ID,
    cfn_event,
    evaluation_props,
    generation_props,
    props,
)
from handler_driver import (
    ROUND_1,
    ROUND_2,
    Crash,
    Handler,
    crash_once,
    generation_update,
    import_update,
    throttled_dynamodb,
)
from support import OTHER_STACK_ID, share


def evaluations(handler: Handler, transform_id: str) -> list[tuple[str, str]]:
    """The evaluation runs of the transform, newest first: (id, status)."""
    return [
        (run["TaskRunId"], run["Status"])
        for run in handler.runs(transform_id)
        if run.get("Properties", {}).get("TaskType") == "EVALUATION"
    ]


# 1. A claimant that died between its start and the start's record: the takeover's search


def test_a_takeover_never_adopts_an_evaluation_another_stack_started_after_the_dead_claimants_refused_start(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.running_seconds = 60
    mine = cfn_event("Create", evaluation_props(transform_id), resource_type=EVALUATION, logical_id="Q")
    task_runs.fail_next("StartMLEvaluationTaskRun", "ConcurrentRunsExceededException", "3 runs", times=1000)
    crash_once(engine_module, "hand_over", monkeypatch)  # no capacity: the wait is handed over ... and the sandbox dies
    with pytest.raises(Crash):
        handler(mine, remaining_s=share(5))
    assert evaluations(handler, transform_id) == []  # the claimant started nothing (its Starting mark is written)
    task_runs._failures.clear()
    handler.clock.now += 10  # another stack evaluates the same transform
    theirs = cfn_event(
        "Create", evaluation_props(transform_id), resource_type=EVALUATION, logical_id="Q", stack_id=OTHER_STACK_ID
    )
    assert handler(theirs, remaining_s=share(1)) is None
    their_run = handler.handed_over_run()
    handler.clock.now += 60  # Lambda retries the crashed Create once its claimant is surely over
    answer = handler(mine, remaining_s=900)
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert answer["Data"]["TaskRunId"] != their_run, "the other stack's evaluation answered as this resource's own"


def test_a_takeover_adopts_the_dead_claimants_evaluation_not_one_another_stack_started_later(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.running_seconds = 600
    mine = cfn_event("Create", evaluation_props(transform_id), resource_type=EVALUATION, logical_id="Q")
    crash_once(Ledger, "record_run", monkeypatch)  # Glue started the run; the sandbox dies before recording it
    with pytest.raises(Crash):
        handler(mine, remaining_s=share(60))
    ((my_run, _),) = evaluations(handler, transform_id)
    handler.clock.now += 30  # another stack evaluates the same transform, while this one's invocation would still run
    theirs = cfn_event(
        "Create", evaluation_props(transform_id), resource_type=EVALUATION, logical_id="Q", stack_id=OTHER_STACK_ID
    )
    assert handler(theirs, remaining_s=share(1)) is None
    handler.clock.now += 60  # Lambda retries the crashed Create once its claimant is surely over
    answer = handler(mine, remaining_s=900)
    assert answer is not None and answer["Status"] == "SUCCESS" and answer["Data"]["TaskRunId"] == my_run, answer


def test_the_late_retry_of_a_crash_between_start_and_record_leaves_no_run(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 3000
    event = cfn_event("Create", props(transform_id, ROUND_1, replace=True, timeout=300))
    crash_once(Ledger, "record_run", monkeypatch)  # Glue started the run; the sandbox dies before its record
    with pytest.raises(Crash):
        handler(event, remaining_s=100)
    (started,) = handler.running(transform_id)
    handler.clock.now += 280  # Lambda's retry: past the request's deadline, within the event's maximum age (300 s)
    answer = handler(event, remaining_s=900)
    assert answer is not None and answer["Status"] == "FAILED", answer
    assert handler.running(transform_id) == [], f"{started} left RUNNING; answered {answer['Reason']!r}"


def test_a_delete_cancels_the_run_a_takeover_adopted_from_a_dead_claimants_start(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 3000
    event = cfn_event("Create", props(transform_id, ROUND_1, replace=True))
    crash_once(Ledger, "record_run", monkeypatch)
    with pytest.raises(Crash):
        handler(event, remaining_s=100)
    (started,) = handler.running(transform_id)
    handler.clock.now += 110
    assert handler(event, remaining_s=share(1)) is None  # the retry takes over, adopts the run, hands its wait over
    assert handler.handed_over_run() == started
    deleted = handler(cfn_event("Delete", props(transform_id, ROUND_1, replace=True), physical_id="labels-1"))
    assert deleted is not None and deleted["Status"] == "SUCCESS"
    assert handler.running(transform_id) == [], f"{started} still RUNNING after the resource's Delete"


def test_the_retry_of_a_crash_between_start_and_record_still_gates_the_f1_drop(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={"F1": 0.9})
    create = cfn_event(
        "Create", evaluation_props(transform_id, after=("t1",)), resource_type=EVALUATION, logical_id="Q"
    )
    assert handler(create)["Data"]["F1"] == 0.9  # type: ignore[index]
    update = cfn_event(
        "Update",
        evaluation_props(transform_id, after=("t2",), MaxF1Drop=0.05),
        resource_type=EVALUATION,
        logical_id="Q",
        physical_id="quality-1",
        old_properties=evaluation_props(transform_id, after=("t1",)),
    )
    task_runs.script_next_run(metrics={"F1": 0.5})
    crash_once(Ledger, "record_run", monkeypatch)
    with pytest.raises(Crash):
        handler(update, remaining_s=100)
    handler.clock.now += 110
    answer = handler(update, remaining_s=900)
    assert answer is not None and answer["Status"] == "FAILED" and "F1 dropped" in answer["Reason"], (
        answer and answer["Status"],
        answer and answer["Data"],
    )


# 2. A generation rollback with its ledger out of reach, beside another stack's generations


def test_a_generation_rollback_without_its_ledger_never_answers_another_stacks_folder(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    first = handler(cfn_event("Create", generation_props(transform_id, after=("a",)), resource_type=GENERATION))
    handler.clock.now += 60
    forward = handler(generation_update(transform_id, "b", "a"))
    handler.clock.now += 60
    theirs = handler(
        cfn_event("Create", generation_props(transform_id), resource_type=GENERATION, stack_id=OTHER_STACK_ID)
    )
    assert first and forward and theirs and theirs["Status"] == "SUCCESS"
    handler.dynamodb.delete_table(TableName=LEDGER_TABLE)  # denied or gone: the same to it
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = handler(generation_update(transform_id, "a", "b"))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    assert rollback["Data"]["OutputS3Path"] != theirs["Data"]["OutputS3Path"], "another stack's folder answered"


# Attacks that held


def test_a_rollback_after_a_failed_forward_import_imports_nothing_again(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    create = handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))
    assert create is not None and create["Status"] == "SUCCESS"
    task_runs.script_next_run(final_status="FAILED", error_string="bad labels")
    forward = handler(import_update(transform_id, ROUND_2, ROUND_1))
    assert forward is not None and forward["Status"] == "FAILED"
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    starts = len(task_runs.calls_to("StartImportLabelsTaskRun"))
    rollback = handler(import_update(transform_id, ROUND_1, ROUND_2))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    assert rollback["Data"]["TaskRunId"] == create["Data"]["TaskRunId"]
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == starts  # its own file is still the newest import


def test_a_rollback_whose_lost_start_reply_is_ambiguous_answers_success(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id, ROUND_2, replace=True)))["Status"] == "SUCCESS"  # type: ignore[index]
    update = import_update(transform_id, ROUND_1, ROUND_2)
    assert handler(update)["Status"] == "SUCCESS"  # type: ignore[index]
    task_runs.running_seconds = 600
    replies.listing_lag_seconds = 4.0
    theirs = cfn_event("Create", props(transform_id, ROUND_2, replace=True), stack_id=OTHER_STACK_ID)
    assert handler(theirs, remaining_s=share(1)) is None  # another stack imports round-2 at that very moment
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    replies.lose_next_reply("StartImportLabelsTaskRun")
    rollback = import_update(transform_id, ROUND_2, ROUND_1)
    answer = handler(rollback)
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    json.dumps(answer, allow_nan=False)


def test_a_rollback_that_never_gets_capacity_before_its_deadline_answers_success(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True, timeout=120)))["Status"] == "SUCCESS"  # type: ignore[index]
    forward = import_update(transform_id, ROUND_2, ROUND_1, timeout=120)
    assert handler(forward)["Status"] == "SUCCESS"  # type: ignore[index]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.fail_next("StartImportLabelsTaskRun", "ConcurrentRunsExceededException", "3 runs", times=1000)
    rollback = import_update(transform_id, ROUND_1, ROUND_2, timeout=120)
    started = handler.clock.now
    answer = handler(rollback, remaining_s=900)
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert handler.clock.now <= started + 120


def test_a_late_duplicate_of_a_create_after_its_delete_starts_nothing_and_answers_the_same(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    create = cfn_event("Create", props(transform_id, ROUND_1, replace=True))
    first = handler(create)
    deleted = handler(cfn_event("Delete", props(transform_id, ROUND_1, replace=True), physical_id="labels-1"))
    assert first is not None and deleted is not None and deleted["Status"] == "SUCCESS"
    handler.clock.now += 3600
    again = handler(create)
    assert again is not None and (again["Status"], again["Data"]) == (first["Status"], first["Data"])
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_an_unchanged_evaluation_update_whose_stored_metrics_are_empty_fails_only_on_a_gated_one(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={"Precision": float("nan")})  # stored as "": not a number
    create = handler(cfn_event("Create", evaluation_props(transform_id), resource_type=EVALUATION, logical_id="Q"))
    assert create is not None and create["Data"]["Precision"] == "", create
    starts = len(task_runs.calls_to("StartMLEvaluationTaskRun"))

    def update(**thresholds: float) -> dict[str, Any] | None:
        return handler(
            cfn_event(
                "Update",
                evaluation_props(transform_id, **thresholds),
                resource_type=EVALUATION,
                logical_id="Q",
                physical_id="quality-1",
                old_properties=evaluation_props(transform_id),
            )
        )

    gated = update(MinPrecision=0.5)
    assert gated is not None and gated["Status"] == "FAILED" and "Precision" in gated["Reason"], gated
    ungated = update(MinF1=0.8)
    assert ungated is not None and ungated["Status"] == "SUCCESS", ungated
    assert ungated["Data"] == create["Data"]
    json.dumps([gated, ungated], allow_nan=False)
    assert len(task_runs.calls_to("StartMLEvaluationTaskRun")) == starts


def test_a_takeover_after_a_refused_start_and_a_crash_starts_exactly_one_run(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 60
    event = cfn_event("Create", props(transform_id, ROUND_1, replace=True))
    task_runs.fail_next("StartImportLabelsTaskRun", "ConcurrentRunsExceededException", "3 runs", times=1000)
    crash_once(engine_module, "hand_over", monkeypatch)  # the Starting mark is written, the start refused, then death
    with pytest.raises(Crash):
        handler(event, remaining_s=share(5))
    task_runs._failures.clear()
    handler.clock.now += 60
    answer = handler(event, remaining_s=900)
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert len(handler.runs(transform_id)) == 1


def own_answer_reads(name: str, params: dict[str, Any]) -> bool:
    key = str(params.get("Key", {}).get("Id", {}).get("S", ""))
    return name == "get_item" and (key.startswith("resource#") or key.startswith("answer#"))


def test_an_import_update_with_its_own_answers_out_of_reach_imports_once_and_answers(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    assert handler(cfn_event("Create", props(transform_id, ROUND_1)))["Status"] == "SUCCESS"  # type: ignore[index]
    dynamodb = throttled_dynamodb(own_answer_reads)  # OwnAnswers (and the resource's record) throttled
    handler.use_engine(dynamodb=dynamodb)
    update = cfn_event(
        "Update",
        props(transform_id, ROUND_1, timeout=1800),
        physical_id="labels-1",
        old_properties=props(transform_id, ROUND_1),
    )
    answer = handler(update)
    assert dynamodb.refusals > 0
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) <= 2  # at most the one needless import


# 3. A generation's Updates that change nothing it depends on, one after another


def generation_timeout_update(transform_id: str, new_s: int, old_s: int) -> dict[str, Any]:
    return cfn_event(
        "Update",
        {**generation_props(transform_id), "ServiceTimeout": new_s},
        resource_type=GENERATION,
        physical_id="gen-1",
        old_properties={**generation_props(transform_id), "ServiceTimeout": old_s},
    )


def test_a_second_generation_update_that_changes_nothing_runs_nothing(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    create = handler(
        cfn_event("Create", {**generation_props(transform_id), "ServiceTimeout": 3600}, resource_type=GENERATION)
    )
    assert create is not None and create["Status"] == "SUCCESS"
    first = handler(generation_timeout_update(transform_id, 1800, 3600))  # only ServiceTimeout: nothing new
    assert first is not None and first["Data"] == create["Data"], first
    second = handler(generation_timeout_update(transform_id, 2400, 1800))  # and again
    assert second is not None and second["Status"] == "SUCCESS", second
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 1
    assert second["Data"] == create["Data"], (second["Data"], create["Data"])


def test_an_ambiguous_lost_reply_answers_within_a_short_service_timeout(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 3000
    replies.listing_lag_seconds = 4.0
    theirs = cfn_event("Create", props(transform_id, ROUND_1, replace=True), stack_id=OTHER_STACK_ID)
    assert handler(theirs, remaining_s=share(1)) is None
    replies.lose_next_reply("StartImportLabelsTaskRun")
    started = handler.clock.now
    answer = handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True, timeout=120)), remaining_s=900)
    assert answer is not None and answer["Status"] == "FAILED" and "another resource" in answer["Reason"], answer
    assert handler.clock.now <= started + 120, handler.clock.now - started
