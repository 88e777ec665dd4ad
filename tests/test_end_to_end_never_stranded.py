"""End to end over real HTTP, from the synthesized asset: a stack is never stranded (issue 15).

One test (or two) per class of the issue: rollbacks, nothing on the user's transform, lost start
replies, late duplicate deliveries, trickling answers, two stacks on one transform, metrics, and
the rollback of a generation. AWS is moto's server with the emulation's faults (lost replies, a
listing lag, stack statuses) and a proxy whose answers trickle.
"""

from __future__ import annotations

from typing import Any

from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import MAX_TAGS, GlueMLTaskRuns, replies, stacks
from glue_label_import.testing.examples import LABELS
from glue_label_import.testing.faults import TricklingProxy
from glue_label_import.testing.requests import (
    BUCKET,
    EVALUATION,
    GENERATION,
    STACK_ID,
    evaluation_props,
    generation_props,
    props,
)
from glue_label_import.testing.sandbox import LambdaSandbox
from support import OTHER_STACK_ID, catalog_table, share


def labelled(sandbox: LambdaSandbox) -> str:
    transform_id = sandbox.transform()
    create = sandbox.event("Create", props(transform_id, sandbox.upload("labels.csv", LABELS), replace=True))
    sandbox.invoke(create)
    assert sandbox.answer(create)["Status"] == "SUCCESS"
    return transform_id


def answered(sandbox: LambdaSandbox, event: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    sandbox.invoke(event, **kwargs)
    return sandbox.answer(event)


def gate(sandbox: LambdaSandbox, request_type: str, transform_id: str, after: str, old: str | None = None) -> Any:
    thresholds = {"MaxF1Drop": 0.05, "MinF1": 0.5}
    return sandbox.event(
        request_type,
        evaluation_props(transform_id, after=(after,), **thresholds),
        resource_type=EVALUATION,
        logical_id="Quality",
        old_properties=evaluation_props(transform_id, after=(old,), **thresholds) if old else None,
        physical_id="quality-1" if request_type != "Create" else None,
    )


def test_the_rollback_of_a_deploy_whose_gate_passed_succeeds(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = labelled(sandbox)
    runs.script_next_run(metrics={"F1": 0.8})
    assert answered(sandbox, gate(sandbox, "Create", transform_id, "tsk-1"))["Status"] == "SUCCESS"
    runs.script_next_run(metrics={"F1": 0.9})
    assert answered(sandbox, gate(sandbox, "Update", transform_id, "tsk-2", "tsk-1"))["Status"] == "SUCCESS"
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")  # a later resource of the deploy failed
    runs.script_next_run(metrics={"F1": 0.8})
    rollback = answered(sandbox, gate(sandbox, "Update", transform_id, "tsk-1", "tsk-2"))
    assert rollback["Status"] == "SUCCESS" and rollback["Data"]["F1"] == 0.8, rollback


def test_nothing_is_written_on_the_transform_and_a_delete_cancels_its_run(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = labelled(sandbox)
    arn = f"arn:aws:glue:us-east-1:123456789012:mlTransform/{transform_id}"
    users_tags = {f"team:{n}": "data" for n in range(MAX_TAGS)}  # Glue's limit: one more tag is refused
    sandbox.glue.tag_resource(ResourceArn=arn, TagsToAdd=users_tags)
    runs.script_next_run(running_seconds=600)
    create = gate(sandbox, "Create", transform_id, "tsk-1")
    sandbox.invoke(create, remaining_s=share(1))
    (handed_over,) = sandbox.invokes.take()
    delete = gate(sandbox, "Delete", transform_id, "tsk-1")
    assert answered(sandbox, delete)["Status"] == "SUCCESS"
    run_id = handed_over["payload"][HANDOVER_KEY]["TaskRunId"]
    assert runs.calls_to("CancelMLTaskRun") == [{"TransformId": transform_id, "TaskRunId": run_id}]
    assert sandbox.glue.get_tags(ResourceArn=arn)["Tags"] == users_tags


def test_a_start_whose_reply_was_lost_leaves_one_run(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    replies.lose_next_reply("StartImportLabelsTaskRun")  # started, then a 500
    replies.listing_lag_seconds = 2.0  # and listed only seconds later
    answer = answered(sandbox, sandbox.event("Create", props(transform_id, sandbox.upload("lost.csv", LABELS))))
    assert answer["Status"] == "SUCCESS", answer
    (run,) = sandbox.glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"]
    assert answer["Data"]["TaskRunId"] == run["TaskRunId"]


def test_a_late_duplicate_delivery_starts_nothing_and_answers_the_same(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    create = sandbox.event("Create", generation_props(transform_id), resource_type=GENERATION)
    sandbox.invoke(create)
    sandbox.invoke(create)  # Lambda delivers it again, after it was answered
    first, again = sandbox.responses.answers(create["RequestId"])
    assert first["Status"] == "SUCCESS" and again == first
    assert len(runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 1


def test_a_delete_answers_within_3_seconds_while_its_ledger_trickles(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    delete = sandbox.event("Delete", props(transform_id, f"s3://{BUCKET}/any.csv"), physical_id="labels-1")
    with TricklingProxy(sandbox.env["AWS_ENDPOINT_URL"]).running() as proxy:
        proxy.trickle("UpdateItem", "GetItem")
        deletion = sandbox.invoke(delete, env={"AWS_ENDPOINT_URL_DYNAMODB": proxy.url})
    assert sandbox.answer(delete)["Status"] == "SUCCESS"
    assert sandbox.answer_seconds(delete, deletion) < 3


def test_a_trickling_label_file_does_not_hold_the_import(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    catalog_table(sandbox.glue, ["customer_id"])
    path = sandbox.upload("trickling.csv", LABELS)
    with TricklingProxy(sandbox.env["AWS_ENDPOINT_URL"]).running() as proxy:
        proxy.trickle(f"/{BUCKET}/trickling.csv")  # the header check's GetObject
        create = sandbox.event("Create", props(transform_id, path))
        creation = sandbox.invoke(create, env={"AWS_ENDPOINT_URL_S3": proxy.url})
    assert sandbox.answer(create)["Status"] == "SUCCESS"
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert creation.seconds < 20  # the header check gave up after 10 s; the file trickles for 30 s


def test_two_stacks_importing_one_file_never_touch_each_others_runs(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    path = sandbox.upload("shared.csv", LABELS)  # the same asset key in both stacks
    runs.running_seconds = 6
    a = sandbox.event("Create", props(transform_id, path))
    sandbox.invoke(a, remaining_s=share(1))
    b = sandbox.event("Create", props(transform_id, path), stack_id=OTHER_STACK_ID)
    sandbox.invoke(b, remaining_s=share(1))
    a_handed_over, b_handed_over = sandbox.invokes.take()
    a_run = a_handed_over["payload"][HANDOVER_KEY]["TaskRunId"]
    b_run = b_handed_over["payload"][HANDOVER_KEY]["TaskRunId"]
    assert a_run != b_run
    b_delete = sandbox.event("Delete", props(transform_id, path), stack_id=OTHER_STACK_ID, physical_id="labels-b")
    assert answered(sandbox, b_delete)["Status"] == "SUCCESS"
    assert runs.calls_to("CancelMLTaskRun") == [{"TransformId": transform_id, "TaskRunId": b_run}]
    sandbox.invoke(a_handed_over["payload"])
    answer = sandbox.answer(a)
    assert answer["Status"] == "SUCCESS" and answer["Data"]["TaskRunId"] == a_run


def test_metrics_glue_did_not_report_as_numbers(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = labelled(sandbox)
    runs.script_next_run(metrics={"F1": float("nan"), "AreaUnderPRCurve": None})
    gated = answered(
        sandbox, sandbox.event("Create", evaluation_props(transform_id, MinF1=0.8), resource_type=EVALUATION)
    )
    assert gated["Status"] == "FAILED"
    assert gated["Reason"].startswith("F1 was not reported as a number: its minimum 0.80 is unchecked")
    runs.script_next_run(metrics={"AreaUnderPRCurve": None})
    ungated = answered(
        sandbox, sandbox.event("Create", evaluation_props(transform_id, MinF1=0.8), resource_type=EVALUATION)
    )
    assert ungated["Status"] == "SUCCESS" and ungated["Data"]["AreaUnderPRCurve"] == ""  # still a GetAtt to resolve


def test_the_rollback_of_a_generation_answers_its_previous_folder(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()

    def generation(request_type: str, after: str, old: str | None = None) -> dict[str, Any]:
        return sandbox.event(
            request_type,
            generation_props(transform_id, after=(after,)),
            old_properties=generation_props(transform_id, after=(old,)) if old else None,
            physical_id="next-round" if old else None,
            logical_id="NextRound",
            resource_type=GENERATION,
        )

    first = answered(sandbox, generation("Create", "tsk-1"))
    second = answered(sandbox, generation("Update", "tsk-2", "tsk-1"))
    stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
    rollback = answered(sandbox, generation("Update", "tsk-1", "tsk-2"))
    assert first["Data"] != second["Data"] and rollback["Data"] == first["Data"]
    assert rollback["Status"] == "SUCCESS"
    assert len(runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 2
