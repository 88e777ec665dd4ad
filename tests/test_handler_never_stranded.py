"""A stack is never stranded (issue 15), in process on moto and a fake clock: one section per class.

1. rollbacks never fail; 2. nothing is left on the user's transform; 3. lost start replies;
4. late duplicate deliveries; 5. total deadlines on AWS calls; 6. two stacks on one transform;
7. metrics that are missing, NaN or infinite; 8. the rollback of a generation.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from glue_label_import._handler import imports, retries
from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import MAX_TAGS, GlueMLTaskRuns, replies, stacks
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
from handler_driver import ROUND_1, ROUND_2, Handler, generation_update, import_update
from support import OTHER_STACK_ID, catalog_table, share

ROOT_STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/App/0c0ffee0-0a6b-11ef-9b7e-0a1b2c3d4e5f"


def evaluation(request_type: str, after: str, **kwargs: Any) -> dict[str, Any]:
    """An evaluation request on `kwargs["transform_id"]` following run `after`, with MaxF1Drop 0.05."""
    transform_id = kwargs.pop("transform_id")
    thresholds = kwargs.pop("thresholds", {"MaxF1Drop": 0.05})
    old = kwargs.pop("old_after", None)
    return cfn_event(
        request_type,
        evaluation_props(transform_id, after=(after,), **thresholds),
        resource_type=EVALUATION,
        logical_id="Quality",
        old_properties=evaluation_props(transform_id, after=(old,), **thresholds) if old else None,
        physical_id="quality-1" if request_type != "Create" else None,
        **kwargs,
    )


def passing_deploy(handler: Handler, task_runs: GlueMLTaskRuns, transform_id: str) -> dict[str, Any]:
    """F1 0.80 at Create, then a deploy whose gate passes (F1 0.90); the Create's answer."""
    task_runs.script_next_run(metrics={"F1": 0.8})
    created = handler(evaluation("Create", "tsk-1", transform_id=transform_id))
    task_runs.script_next_run(metrics={"F1": 0.9})
    improved = handler(evaluation("Update", "tsk-2", old_after="tsk-1", transform_id=transform_id))
    assert created and improved and created["Status"] == improved["Status"] == "SUCCESS", (created, improved)
    return created


# 1. Rollbacks that fail


def test_the_rollback_of_a_passing_gate_is_never_gated(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.labelled_transform()
    passing_deploy(handler, task_runs, transform_id)
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")  # a later resource of the deploy failed
    task_runs.script_next_run(metrics={"F1": 0.8})  # the old labels: F1 dropped 0.10 from 0.90
    rollback = handler(evaluation("Update", "tsk-1", old_after="tsk-2", transform_id=transform_id))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    assert rollback["Data"]["F1"] == 0.8  # the transform's metrics, refreshed for the next deploy's "F1 before"


def test_in_a_nested_stack_the_root_stacks_rollback_is_a_rollback(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.labelled_transform()
    passing_deploy(handler, task_runs, transform_id)
    stacks.set(STACK_ID, "UPDATE_IN_PROGRESS", root_id=ROOT_STACK_ID)  # its parent updates it back
    stacks.set(ROOT_STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.script_next_run(metrics={"F1": 0.8})
    rollback = handler(evaluation("Update", "tsk-1", old_after="tsk-2", transform_id=transform_id))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback


def test_an_ordinary_update_is_gated_whatever_other_stacks_did(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.labelled_transform()
    gate = {"MinF1": 0.7}
    task_runs.script_next_run(metrics={"F1": 0.5})
    other = handler(evaluation("Create", "tsk-1", transform_id=transform_id, thresholds=gate, stack_id=OTHER_STACK_ID))
    assert other is not None and other["Status"] == "FAILED"  # another stack's gate, the same fingerprint
    task_runs.script_next_run(metrics={"F1": 0.55})
    update = handler(evaluation("Update", "tsk-2", old_after="tsk-1", transform_id=transform_id, thresholds=gate))
    assert update is not None and update["Status"] == "FAILED"
    assert update["Reason"].startswith("F1 0.55 is below the minimum 0.70")


def test_a_rollback_whose_evaluation_fails_answers_success_with_its_previous_data(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    created = passing_deploy(handler, task_runs, transform_id)
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.script_next_run(final_status="FAILED", error_string="the evaluation broke")
    rollback = handler(evaluation("Update", "tsk-1", old_after="tsk-2", transform_id=transform_id))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    assert rollback["Data"] == created["Data"]


def test_a_rollback_whose_import_fails_answers_success_with_its_previous_data(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    created = handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))
    updated = handler(import_update(transform_id, ROUND_2, ROUND_1))
    assert created and updated and updated["Status"] == "SUCCESS"
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    task_runs.script_next_run(final_status="FAILED", error_string="Glue is down")
    rollback = handler(import_update(transform_id, ROUND_1, ROUND_2))
    assert rollback is not None and rollback["Status"] == "SUCCESS", rollback
    assert rollback["Data"] == created["Data"]


def test_with_the_stacks_status_unreadable_no_gate_fails_the_update(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    passing_deploy(handler, task_runs, transform_id)
    stacks.reset()  # DescribeStacks: "Stack ... does not exist"
    task_runs.script_next_run(metrics={"F1": 0.8})
    update = handler(evaluation("Update", "tsk-1", old_after="tsk-2", transform_id=transform_id))
    assert update is not None and update["Status"] == "SUCCESS", update


# 2. Nothing on the user's transform


def test_nothing_is_written_on_the_transform_even_at_glues_tag_limit(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    arn = f"arn:aws:glue:us-east-1:123456789012:mlTransform/{transform_id}"
    users_tags = {f"team:{n}": "data" for n in range(MAX_TAGS)}
    handler.glue.tag_resource(ResourceArn=arn, TagsToAdd=users_tags)
    task_runs.running_seconds = 600
    assert handler(evaluation("Create", "tsk-1", transform_id=transform_id), remaining_s=share(10)) is None
    (handed_over,) = handler.lambda_client.invocations
    deleted = handler(evaluation("Delete", "tsk-1", transform_id=transform_id))
    assert deleted is not None and deleted["Status"] == "SUCCESS"
    (cancel,) = task_runs.calls_to("CancelMLTaskRun")  # found without a tag
    assert cancel["TaskRunId"] == handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    assert handler.glue.get_tags(ResourceArn=arn)["Tags"] == users_tags


def test_without_its_ledger_a_create_still_runs_and_a_delete_succeeds(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    handler.dynamodb.delete_table(TableName=LEDGER_TABLE)  # denied or gone: the same to it
    created = handler(cfn_event("Create", props(transform_id)))
    assert created is not None and created["Status"] == "SUCCESS"
    deleted = handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    assert deleted is not None and deleted["Status"] == "SUCCESS"


# 3. Lost start replies


@pytest.mark.parametrize(
    ("resource_type", "properties", "operation"),
    [
        ("Custom::GlueImportLabels", props, "StartImportLabelsTaskRun"),
        (EVALUATION, evaluation_props, "StartMLEvaluationTaskRun"),
        (GENERATION, generation_props, "StartMLLabelingSetGenerationTaskRun"),
    ],
    ids=["import", "evaluation", "generation"],
)
def test_a_lost_start_reply_leaves_one_run_the_one_answered(
    handler: Handler, task_runs: GlueMLTaskRuns, resource_type: str, properties: Any, operation: str
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.calls.clear()
    replies.lose_next_reply(operation)  # Glue starts the run; the caller gets a 500
    replies.listing_lag_seconds = 4.0  # and GetMLTaskRuns lists it only seconds later
    answer = handler(cfn_event("Create", properties(transform_id), resource_type=resource_type))
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert len(task_runs.calls_to(operation)) == 1  # one start, one run: the one answered
    task_run_type = {"Custom::GlueImportLabels": "IMPORT_LABELS", EVALUATION: "EVALUATION"}.get(
        resource_type, "LABELING_SET_GENERATION"
    )
    listed = handler.glue.get_ml_task_runs(TransformId=transform_id, Filter={"TaskRunType": task_run_type})
    run_ids = [run["TaskRunId"] for run in listed["TaskRuns"]]
    assert answer["Data"]["TaskRunId"] == run_ids[0]
    assert len(run_ids) == (2 if task_run_type == "IMPORT_LABELS" else 1)  # besides labelled()'s import


# 4. Late duplicate deliveries


def test_a_late_duplicate_of_a_failed_gate_starts_nothing_and_answers_the_same(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={"F1": 0.5})
    event = evaluation("Create", "tsk-1", transform_id=transform_id, thresholds={"MinF1": 0.7})
    first = handler(event)
    task_runs.script_next_run(metrics={"F1": 0.9})  # a second run would pass
    again = handler(event)  # Lambda delivers the answered request once more
    assert first is not None and again is not None and first["Status"] == "FAILED"
    assert (again["Status"], again["Reason"]) == (first["Status"], first["Reason"])
    assert len(task_runs.calls_to("StartMLEvaluationTaskRun")) == 1


def test_a_late_duplicate_of_a_generation_answers_the_same_folder(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    event = cfn_event("Create", generation_props(transform_id), resource_type=GENERATION)
    first, again = handler(event), handler(event)
    assert first is not None and again is not None and first["Status"] == "SUCCESS"
    assert again["Data"] == first["Data"]
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 1


# 5. Total deadlines


class Hanging:
    """A client whose calls of one operation hang until released (or 20 s pass), as a trickling body does."""

    def __init__(self, client: Any, operation: str) -> None:
        self._client, self._operation = client, operation
        self.release = threading.Event()
        self.timed_out = False
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)
        if name != self._operation:
            return call

        def hanging(**params: Any) -> Any:
            self.calls += 1
            self.timed_out = not self.release.wait(20)
            raise ConnectionAbortedError("abandoned")  # whoever waited for it is gone

        return hanging


def test_a_delete_answers_success_while_aws_hangs(handler: Handler) -> None:
    transform_id = handler.transform()
    dynamodb = Hanging(boto3.client("dynamodb"), "update_item")  # the ledger's mark of the deletion
    handler.use_engine(dynamodb=dynamodb)
    answer = handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    hung_to_the_end, calls = dynamodb.timed_out, dynamodb.calls
    dynamodb.release.set()
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert not hung_to_the_end  # answered while the call still hung
    assert calls == 1  # within its budget: no retry of the call that hangs


class TricklingBody:
    """A GetObject body that never finishes arriving."""

    def __init__(self, release: threading.Event) -> None:
        self._release = release
        self.timed_out = False

    def read(self) -> bytes:
        self.timed_out = not self._release.wait(20)
        return b""


def test_a_trickling_label_file_header_does_not_hold_the_import(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    catalog_table(handler.glue, ["customer_id"])
    release = threading.Event()
    body = TricklingBody(release)
    trickling = type("S3", (), {"get_object": lambda self, **params: {"Body": body}})()
    handler.use_engine().s3 = trickling
    monkeypatch.setattr(imports, "CALL_DEADLINE_S", 0.2)
    answer = handler(cfn_event("Create", props(transform_id)))
    read_to_the_end = body.timed_out
    release.set()
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert not read_to_the_end  # the header check gave up on the body and left the decision to Glue


def test_a_hanging_poll_hands_the_wait_over(
    handler: Handler, task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    glue = Hanging(handler.glue, "get_ml_task_run")
    handler.use_engine(glue=glue)
    monkeypatch.setattr(retries, "CALL_DEADLINE_S", 0.2)
    answer = handler(cfn_event("Create", props(transform_id)), remaining_s=share(15))
    glue.release.set()
    assert answer is None  # no answer yet: the wait goes on in the next invocation
    (handed_over,) = handler.lambda_client.invocations
    (run,) = handler.runs(transform_id)
    assert handed_over["Payload"][HANDOVER_KEY]["TaskRunId"] == run["TaskRunId"]


# 6. Two stacks on one transform


def test_two_stacks_importing_one_label_file_never_touch_each_others_runs(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 600
    a = cfn_event("Create", props(transform_id))
    assert handler(a, remaining_s=share(10)) is None
    (a_handed_over,) = handler.lambda_client.invocations
    handler.lambda_client.invocations.clear()
    b = cfn_event("Create", props(transform_id), stack_id=OTHER_STACK_ID)  # the same asset key, the same file
    assert handler(b, remaining_s=share(10)) is None
    (b_handed_over,) = handler.lambda_client.invocations
    a_run = a_handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    b_run = b_handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    assert a_run != b_run  # B started its own

    deleted = handler(cfn_event("Delete", props(transform_id), stack_id=OTHER_STACK_ID, physical_id="labels-1"))
    assert deleted is not None and deleted["Status"] == "SUCCESS"
    assert task_runs.calls_to("CancelMLTaskRun") == [{"TransformId": transform_id, "TaskRunId": b_run}]
    answer = handler(a_handed_over["Payload"])
    assert answer is not None and answer["Status"] == "SUCCESS" and answer["Data"]["TaskRunId"] == a_run


def test_an_unchanged_generation_update_answers_its_own_folder_not_another_stacks(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    mine = handler(cfn_event("Create", generation_props(transform_id), resource_type=GENERATION))
    handler.clock.sleep(60)
    theirs = handler(
        cfn_event("Create", generation_props(transform_id), resource_type=GENERATION, stack_id=OTHER_STACK_ID)
    )
    unchanged = handler(
        cfn_event(
            "Update",
            {**generation_props(transform_id), "ServiceTimeout": 1800},
            old_properties=generation_props(transform_id),
            physical_id="next-round",
            resource_type=GENERATION,
        )
    )
    assert mine and theirs and unchanged and mine["Data"] != theirs["Data"]
    assert unchanged["Status"] == "SUCCESS" and unchanged["Data"] == mine["Data"]


# 7. Metrics


def test_a_metric_glue_did_not_report_is_answered_empty_when_nothing_gates_it(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={"AreaUnderPRCurve": None})
    answer = handler(evaluation("Create", "tsk-1", transform_id=transform_id, thresholds={"MinF1": 0.8}))
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert answer["Data"]["AreaUnderPRCurve"] == ""  # a GetAtt on it (a stack output) still resolves
    assert {key for key, value in answer["Data"].items() if value != ""} == {"TaskRunId", "F1", "Precision", "Recall"}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), None], ids=["NaN", "Infinity", "missing"])
def test_a_gate_on_a_metric_that_is_not_a_finite_number_fails_naming_it(
    handler: Handler, task_runs: GlueMLTaskRuns, value: float | None
) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={"F1": value})
    answer = handler(evaluation("Create", "tsk-1", transform_id=transform_id, thresholds={"MinF1": 0.8}))
    assert answer is not None and answer["Status"] == "FAILED", answer
    assert answer["Reason"].startswith("F1 was not reported as a number: its minimum 0.80 is unchecked")


def strict(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_nan_f1_before_makes_no_nan_in_the_hand_over(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.labelled_transform()
    task_runs.script_next_run(metrics={"F1": float("nan")})
    handler(evaluation("Create", "tsk-1", transform_id=transform_id, thresholds={}))
    payloads: list[str] = []
    handler.lambda_client.invoke = lambda **kwargs: payloads.append(kwargs["Payload"].decode()) or {}  # type: ignore[method-assign]
    task_runs.script_next_run(running_seconds=1500)
    assert handler(evaluation("Update", "tsk-2", old_after="tsk-1", transform_id=transform_id)) is None
    (payload,) = payloads
    assert strict(payload)[HANDOVER_KEY]["Before"] == {"F1": None, "Gated": True}


def test_an_invoke_error_quoting_the_payload_reaches_neither_logs_nor_reason(
    handler: Handler, task_runs: GlueMLTaskRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 3600

    def refuse(**kwargs: Any) -> Any:
        message = f"Could not parse request body into json: {kwargs['Payload'].decode()}"
        raise ClientError({"Error": {"Code": "InvalidRequestContentException", "Message": message}}, "Invoke")

    handler.lambda_client.invoke = refuse  # type: ignore[method-assign]
    answer = handler(cfn_event("Create", props(transform_id)), remaining_s=share(10))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == "Invoke could not hand the wait over: InvalidRequestContentException"
    assert SECRET not in capsys.readouterr().out + capsys.readouterr().err


# 8. The rollback of a generation


def test_the_rollback_of_a_generation_answers_its_previous_folder_without_a_run(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    first = handler(cfn_event("Create", generation_props(transform_id, after=("tsk-1",)), resource_type=GENERATION))
    second = handler(generation_update(transform_id, "tsk-2", "tsk-1", physical_id="next-round"))
    assert first and second and first["Data"] != second["Data"]
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = handler(generation_update(transform_id, "tsk-1", "tsk-2", physical_id="next-round"))
    assert rollback is not None and rollback["Status"] == "SUCCESS"
    assert rollback["Data"] == first["Data"]
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 2


# A Delete stops the waiter


def test_a_waiter_that_finds_its_resource_deleted_cancels_its_run_and_stops(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    task_runs.running_seconds = 3600
    assert handler(cfn_event("Create", props(transform_id)), remaining_s=share(10)) is None
    (handed_over,) = handler.lambda_client.invocations
    handler.lambda_client.invocations.clear()
    handler(cfn_event("Delete", props(transform_id), physical_id="labels-1"))
    assert handler(handed_over["Payload"]) is None  # CloudFormation gave up on it: nobody to answer
    assert handler.lambda_client.invocations == []
    run_id = handed_over["Payload"][HANDOVER_KEY]["TaskRunId"]
    assert handler.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)["Status"] in {"STOPPING", "STOPPED"}


def test_the_rollback_of_a_failed_generation_answers_its_folder_though_the_runs_it_follows_changed(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    """The rollback's properties name the run the import's own rollback just made: never answered before."""
    transform_id = handler.transform()
    first = handler(cfn_event("Create", generation_props(transform_id, after=("tsk-1",)), resource_type=GENERATION))
    task_runs.script_next_run(final_status="FAILED", error_string="Access Denied")
    failed = handler(generation_update(transform_id, "tsk-2", "tsk-1", physical_id="next-round"))
    assert first is not None and failed is not None and failed["Status"] == "FAILED"
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = handler(generation_update(transform_id, "tsk-3", "tsk-2", physical_id="next-round"))
    assert rollback is not None and rollback["Status"] == "SUCCESS"
    assert rollback["Data"] == first["Data"]
    assert len(task_runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 2


def test_a_late_duplicate_of_an_update_leaves_what_its_rollback_answers(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    first = handler(cfn_event("Create", generation_props(transform_id, after=("tsk-1",)), resource_type=GENERATION))
    update = generation_update(transform_id, "tsk-2", "tsk-1", physical_id="next-round")
    second, again = handler(update), handler(update)  # the Update, then a late duplicate of it
    assert first and second and again == second
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = handler(generation_update(transform_id, "tsk-1", "tsk-2", physical_id="next-round"))
    assert rollback is not None and rollback["Data"] == first["Data"]
