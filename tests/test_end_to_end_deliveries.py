"""End to end over real HTTP, from the synthesized asset: deliveries claimed in the run ledger (issue 15).

A request's event, and each hand-over's, may be delivered twice, or again after a crash: a duplicate
never works beside its claimant, a crashed claimant's request is taken over after its end, a lost
start reply adopts the request's own run only (another stack may import into the same transform), and
a generation's folder names its resource and its request. A crash is the handler's process killed
(SIGKILL) mid-invocation: Lambda then delivers the event again.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
from typing import Any

import boto3

from glue_label_import._handler.handover import HANDOVER_KEY
from glue_label_import.testing import GlueMLTaskRuns, replies
from glue_label_import.testing.examples import LABELS
from glue_label_import.testing.requests import BUCKET, GENERATION, STACK_ID, generation_props, props
from glue_label_import.testing.sandbox import LambdaSandbox
from support import OTHER_STACK_ID, share, wait_for

CLAIMANT_REMAINING_S = share(5)  # a claimant whose end (its Lambda limit) comes 50 s after it began
FOLDER = re.compile(r"\d{8}T\d{9}Z-([0-9a-f]{8})-([0-9a-f]{8})/")


def claim_of(sandbox: LambdaSandbox, request_id: str) -> dict[str, Any]:
    """The claim of a request's first delivery in the run ledger, as DynamoDB holds it."""
    dynamodb = boto3.client("dynamodb", endpoint_url=sandbox.env["AWS_ENDPOINT_URL"], region_name="us-east-1")
    item = dynamodb.get_item(TableName=sandbox.env["LEDGER_TABLE"], Key={"Id": {"S": f"request#{request_id}"}})
    return dict(item.get("Item") or {})


def crash(process: subprocess.Popen[str]) -> None:
    """The invocation dies (SIGKILL): no answer, no hand-over, its claim left as it was."""
    process.kill()
    process.communicate(timeout=10)


def mark(name: str) -> str:
    """What names a resource (`StackId#LogicalResourceId`) or a request (its RequestId) in a folder."""
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def test_a_duplicate_of_a_handed_over_request_starts_nothing_and_the_hand_over_answers_once(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    runs.script_next_run(running_seconds=3)
    create = sandbox.event("Create", props(transform_id, sandbox.upload("handed.csv", LABELS)))
    sandbox.invoke(create, remaining_s=share(1))
    (handed_over,) = sandbox.invokes.take()
    run_id = handed_over["payload"][HANDOVER_KEY]["TaskRunId"]

    duplicate = sandbox.invoke(create)  # Lambda delivers the request again: its claimant handed over
    assert duplicate.seconds < 10  # it stops at once, rather than wait for the claimant's end
    assert sandbox.responses.answers(create["RequestId"]) == []
    assert sandbox.invokes.take() == []

    for _ in range(2):  # the hand-over delivered twice
        sandbox.invoke(handed_over["payload"])
    first, *again = sandbox.responses.answers(create["RequestId"])
    assert first["Status"] == "SUCCESS" and first["Data"]["TaskRunId"] == run_id, first
    assert all(answer == first for answer in again)
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert sandbox.invokes.take() == []


def test_the_retry_of_a_crashed_invocation_takes_over_after_the_claimants_end_with_its_run(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    runs.script_next_run(running_seconds=10)
    create = sandbox.event("Create", props(transform_id, sandbox.upload("crashed.csv", LABELS)))
    began = time.time()
    claimant = sandbox.start(create, remaining_s=CLAIMANT_REMAINING_S)
    run_id = wait_for(lambda: claim_of(sandbox, create["RequestId"]).get("RunId", {}).get("S"))
    crash(claimant)  # its run started and recorded, then it died, well before its hand-over
    assert sandbox.invokes.take() == [] and sandbox.responses.answers(create["RequestId"]) == []

    sandbox.invoke(create)  # Lambda retries the crashed invocation
    answer = sandbox.answer(create)
    assert answer["Status"] == "SUCCESS" and answer["Data"]["TaskRunId"] == run_id, answer
    (answered_at,) = sandbox.responses.answered_at(create["RequestId"])
    assert answered_at >= began + CLAIMANT_REMAINING_S  # taken over only once the claimant surely ended
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert runs.calls_to("CancelMLTaskRun") == []
    assert sandbox.invokes.take() == []


def test_a_duplicate_of_a_capacity_wait_hand_over_starts_one_run(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    for n in range(3):  # the transform's three runs in flight: Glue refuses a fourth
        runs.script_next_run(running_seconds=5)
        sandbox.glue.start_ml_labeling_set_generation_task_run(
            TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/busy/{n}/"
        )
    create = sandbox.event("Create", generation_props(transform_id), resource_type=GENERATION)
    sandbox.invoke(create, remaining_s=share(1))
    (handed_over,) = sandbox.invokes.take()  # waiting for capacity, no run started
    assert "TaskRunId" not in handed_over["payload"][HANDOVER_KEY]
    assert runs.calls_to("StartMLLabelingSetGenerationTaskRun")[3:]  # the request's start was refused

    deliveries = [sandbox.start(handed_over["payload"]) for _ in range(2)]  # the hand-over, delivered twice at once
    for delivery in deliveries:
        sandbox.finish(delivery)
    first, *again = sandbox.responses.answers(create["RequestId"])
    assert first["Status"] == "SUCCESS", first
    assert all(answer == first for answer in again)
    generations = sandbox.glue.get_ml_task_runs(
        TransformId=transform_id, Filter={"TaskRunType": "LABELING_SET_GENERATION"}
    )["TaskRuns"]
    (own,) = [
        run
        for run in generations
        if not run["Properties"]["LabelingSetGenerationTaskRunProperties"]["OutputS3Path"].startswith(
            f"s3://{BUCKET}/busy/"
        )
    ]
    assert first["Data"]["TaskRunId"] == own["TaskRunId"]
    assert sandbox.invokes.take() == []


def test_a_lost_start_reply_beside_another_stacks_import_adopts_its_own_run_and_cancels_none(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    path = sandbox.upload("both-stacks.csv", LABELS)  # the same asset key in both stacks
    runs.script_next_run(running_seconds=20)
    a = sandbox.event("Create", props(transform_id, path))
    sandbox.invoke(a, remaining_s=share(1))
    (a_handed_over,) = sandbox.invokes.take()  # A's import in flight
    a_run = a_handed_over["payload"][HANDOVER_KEY]["TaskRunId"]
    a_started = sandbox.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=a_run)["StartedOn"].timestamp()
    time.sleep(max(0.0, a_started + 2.5 - time.time()))  # B starts 2.5 s after A's run

    replies.lose_next_reply("StartImportLabelsTaskRun")  # B's run started, then a 500
    replies.listing_lag_seconds = 2.0  # and listed only seconds later
    runs.script_next_run(running_seconds=1)
    b = sandbox.event("Create", props(transform_id, path), stack_id=OTHER_STACK_ID)
    sandbox.invoke(b)
    b_answer = sandbox.answer(b)
    assert b_answer["Status"] == "SUCCESS", b_answer
    listed = sandbox.glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"]
    (b_run,) = [run["TaskRunId"] for run in listed if run["TaskRunId"] != a_run]
    assert b_answer["Data"]["TaskRunId"] == b_run  # its own run, never A's
    assert runs.calls_to("CancelMLTaskRun") == []
    assert sandbox.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=a_run)["Status"] == "RUNNING"

    sandbox.invoke(a_handed_over["payload"])
    a_answer = sandbox.answer(a)
    assert a_answer["Status"] == "SUCCESS" and a_answer["Data"]["TaskRunId"] == a_run, a_answer
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 2


def test_a_generations_folder_names_its_resource_and_its_request(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    transform_id = sandbox.transform()
    prefix = f"s3://{BUCKET}/labeling-sets/"
    events = [
        sandbox.event("Create", generation_props(transform_id), resource_type=GENERATION, logical_id="NextRound"),
        sandbox.event("Create", generation_props(transform_id), resource_type=GENERATION, logical_id="OtherRound"),
    ]
    for event in events:
        sandbox.invoke(event)
        folder = sandbox.answer(event)["Data"]["OutputS3Path"]
        assert folder.startswith(prefix), folder
        named = FOLDER.fullmatch(folder[len(prefix) :])
        assert named is not None, folder
        assert named.groups() == (mark(f"{STACK_ID}#{event['LogicalResourceId']}"), mark(event["RequestId"]))


def test_the_lost_reply_of_a_generation_start_is_adopted_by_its_folder(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns
) -> None:
    transform_id = sandbox.transform()
    prefix = f"s3://{BUCKET}/labeling-sets/"
    replies.lose_next_reply("StartMLLabelingSetGenerationTaskRun")  # started, then a 500
    replies.listing_lag_seconds = 2.0
    create = sandbox.event("Create", generation_props(transform_id), resource_type=GENERATION, logical_id="NextRound")
    creating = sandbox.start(create)
    wait_for(lambda: runs.calls_to("StartMLLabelingSetGenerationTaskRun"))
    # Another resource's generation under the same prefix, started while the lost reply was out:
    # by the time it started, both runs fit; only the folder tells the request's own.
    other = time.strftime("%Y%m%dT%H%M%S000", time.gmtime()) + f"Z-{mark('another#stack')}-{mark('another')}/"
    other_run = sandbox.glue.start_ml_labeling_set_generation_task_run(
        TransformId=transform_id, OutputS3Path=prefix + other
    )["TaskRunId"]
    sandbox.finish(creating)

    answer = sandbox.answer(create)
    assert answer["Status"] == "SUCCESS", answer
    assert len(runs.calls_to("StartMLLabelingSetGenerationTaskRun")) == 2  # the request's one start, and the other
    (own,) = [
        run
        for run in sandbox.glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"]
        if run["TaskRunId"] != other_run
    ]
    assert answer["Data"] == {
        "TaskRunId": own["TaskRunId"],
        "OutputS3Path": own["Properties"]["LabelingSetGenerationTaskRunProperties"]["OutputS3Path"],
    }
    named = FOLDER.fullmatch(answer["Data"]["OutputS3Path"][len(prefix) :])
    assert named is not None and named.groups() == (mark(f"{STACK_ID}#NextRound"), mark(create["RequestId"]))
    assert runs.calls_to("CancelMLTaskRun") == []
