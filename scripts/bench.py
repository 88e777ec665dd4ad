"""Benchmarks: what `cdk deploy` and `cdk destroy` wait on us, beyond Glue's own work.

    make bench      (or: python scripts/bench.py)

Prints one `name: value` line per figure. The handler runs from its synthesized asset in a
Lambda-like subprocess against moto's server with the Glue task-run extension, as in the
end-to-end tests (glue_label_import.testing.sandbox). The crhelper-default baselines come from the same
runs and crhelper's own code: a rule that polls every `polling_interval` minutes, and the
`sleep_on_delete` that `_wait_for_cwlogs` sleeps before a Delete answers.

`round_ratio`: a label round's deploy (an import, then an evaluation and a generation that both
follow only the import) with Glue's proportions (2, 10 and 8 minutes, here seconds times
ROUND_SCALE), CloudFormation played as it deploys: each custom resource starts once those it
depends on (DependsOn, Ref, Fn::GetAtt in the synthesized template) are done, the others at
once. The ratio is the round's time over import + max(evaluation, generation); goal <= 1.1.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
)
os.environ.setdefault("AWS_REGION", "us-east-1")

from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from crhelper import CfnResource

from demo_cloud import ACCOUNT, REGION, dependencies
from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import._handler.glue_runs import TaskRuns
from glue_label_import._handler.retries import Clock
from glue_label_import.testing import glue_ml, install
from glue_label_import.testing.examples import LABELS, find_matches_transform
from glue_label_import.testing.requests import (
    BUCKET,
    EVALUATION,
    evaluation_props,
)
from glue_label_import.testing.sandbox import LambdaSandbox, lambda_sandbox
from glue_label_import.testing.template_values import TemplateValues

RUN_SECONDS = (2.4, 5.3, 8.7, 12.1, 16.6, 19.4)  # each run ends this long after it starts: not on a poll tick
LONG_RUN_SECONDS = tuple(120 + 61.7 * n for n in range(13))  # 2 to 14.5 minutes, never on a poll tick
STARTING_S = 1.0
SYNTH_REPEATS = 3
SYNTH_APP = """
import sys
from pathlib import Path
from aws_cdk import App, Stack, aws_iam as iam
from glue_label_import.testing.examples import find_matches_transform
from glue_label_import import LabelImport, LabelSource
count, folder = int(sys.argv[1]), Path(sys.argv[2])
app = App(outdir=str(folder / "cdk.out"))
stack = Stack(app, "Bench")
role = iam.Role(stack, "GlueRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
transforms = [find_matches_transform(stack, f"Transform{n}", role=role.role_arn) for n in range(min(count, 5))]
for n in range(count):
    labels = folder / f"labels-{n}.csv"
    labels.write_text("labeling_set_id,label,customer_id\\n" + "".join(f"s{n},A,{i}\\n" for i in range(12)))
    LabelImport(stack, f"Labels{n}", transform=transforms[n % 5], source=LabelSource.from_asset(str(labels)))
app.synth()
"""

ROUND_MINUTES = {"IMPORT_LABELS": 2, "EVALUATION": 10, "LABELING_SET_GENERATION": 8}  # Glue's run times
ROUND_SCALE = 5.0  # seconds of the emulation per minute of Glue (see round_ratio)
ANSWER_POLL_S = 0.05


def round_template() -> dict[str, Any]:
    """The bench's stack: an import, and an evaluation and a generation that both follow only the import."""
    stack = Stack(App(), "Labels")
    transform = find_matches_transform(stack)
    LabelImport(
        stack,
        "Labels",
        transform=transform,
        source=LabelSource.from_s3_path(f"s3://{BUCKET}/round.csv"),
        replace_all_labels=True,
    )
    TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.5)  # the defaults: both follow the import
    bucket = s3.Bucket.from_bucket_name(stack, "Output", BUCKET)
    LabelingSetGeneration(stack, "NextRound", transform=transform, output_bucket=bucket)
    return dict(Template.from_stack(stack).to_json())


def round_seconds(sandbox: LambdaSandbox, template: dict[str, Any]) -> float:
    """Wall time of the round's Creates, each started once what it depends on answered, as CloudFormation does."""
    sandbox.upload("round.csv", LABELS)
    refs = {"Transform": sandbox.transform("bench-round"), "AWS::Partition": "aws"}
    resolve = TemplateValues(refs, {}, ACCOUNT, REGION, strict=True)  # each answer's Data joins its attributes
    for task_run_type, minutes in ROUND_MINUTES.items():
        glue_ml.script_next_run(
            starting_seconds=0.1 * minutes * ROUND_SCALE,
            running_seconds=0.9 * minutes * ROUND_SCALE,
            task_run_type=task_run_type,
        )
    needs = dependencies(template)
    answered: dict[str, dict[str, Any]] = {}
    invocations: list[subprocess.Popen[str]] = []

    def create(logical_id: str) -> dict[str, Any]:
        resource = template["Resources"][logical_id]
        declared = {key: value for key, value in resource["Properties"].items() if key != "ServiceToken"}
        properties = resolve(declared)
        event = sandbox.event("Create", properties, logical_id=logical_id, resource_type=resource["Type"])
        invocations.append(sandbox.start(event))
        while not sandbox.responses.answers(event["RequestId"]):  # CloudFormation goes on at the answer
            time.sleep(ANSWER_POLL_S)
        answer = sandbox.answer(event)
        if answer["Status"] != "SUCCESS":
            raise RuntimeError(f"{logical_id} failed: {answer.get('Reason')}")
        return dict(answer["Data"])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(needs)) as pool:
        running: dict[Future[dict[str, Any]], str] = {}
        while len(answered) < len(needs):
            for logical_id, waits_for in needs.items():
                if logical_id not in answered and logical_id not in running.values() and waits_for <= set(answered):
                    running[pool.submit(create, logical_id)] = logical_id
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                logical_id = running.pop(future)
                answered[logical_id] = future.result()
                resolve.attributes.update({(logical_id, name): value for name, value in answered[logical_id].items()})
    seconds = time.monotonic() - started
    for invocation in invocations:
        sandbox.finish(invocation)  # each ended cleanly, without logging the ResponseURL
    return seconds


def round_ratio(sandbox: LambdaSandbox) -> tuple[float, float]:
    """The round's deploy time, and its ratio to import + max(evaluation, generation).

    Each resource's time beyond its run is fixed (a Lambda process starting, 1 to 3 s here on a
    busy machine; the poll that sees the run end) where Glue's runs take minutes: at 5 s per
    Glue minute it weighs about as much against the runs as a real deploy's does against them.
    """
    seconds = round_seconds(sandbox, round_template())
    minutes = ROUND_MINUTES
    ideal = minutes["IMPORT_LABELS"] + max(minutes["EVALUATION"], minutes["LABELING_SET_GENERATION"])
    return seconds, seconds / (ideal * ROUND_SCALE)


def detection_delays(
    sandbox: LambdaSandbox, resource_type: str = "Custom::GlueImportLabels"
) -> tuple[list[float], list[float]]:
    """Per run: seconds from the run's end to the answer; and when crhelper's default polling would answer."""
    transform_id = sandbox.transform(f"bench-{resource_type[8:]}")
    path = sandbox.upload("bench.csv", LABELS)
    if resource_type == EVALUATION:  # an evaluation needs a transform with labels
        labelled = sandbox.event("Create", {"TransformId": transform_id, "InputS3Path": path})
        sandbox.invoke(labelled)
    polling_s = 60 * CfnResource(sleep_on_delete=0, log_level="WARNING")._polling_interval
    ours, baseline = [], []
    for number, run_s in enumerate(RUN_SECONDS):
        glue_ml.script_next_run(starting_seconds=STARTING_S, running_seconds=run_s - STARTING_S)
        properties = (  # each request something new to do: imports of the same file would run only once
            evaluation_props(transform_id, after=(f"tsk-{number}",))
            if resource_type == EVALUATION
            else {"TransformId": transform_id, "InputS3Path": sandbox.upload(f"bench-{number}.csv", LABELS)}
        )
        event = sandbox.event("Create", properties, resource_type=resource_type)
        invoked_at = time.time()
        sandbox.invoke(event)
        answer = sandbox.answer(event)
        run = sandbox.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=answer["Data"]["TaskRunId"])
        ended_at = run["CompletedOn"].timestamp()
        ours.append(sandbox.responses.answered_at(event["RequestId"])[0] - ended_at)
        # crhelper's rule first fires one interval after polling is set up, then every interval.
        baseline.append(polling_s - ((ended_at - invoked_at) % polling_s))
    return ours, baseline


def delete_seconds(sandbox: LambdaSandbox) -> float:
    transform_id = sandbox.transform("bench-delete")
    event = sandbox.event("Delete", {"TransformId": transform_id, "InputS3Path": "s3://labels-bucket/gone.csv"})
    event["PhysicalResourceId"] = "bench-1"
    return sandbox.invoke(event).seconds


def crhelper_default_delete_sleep_s() -> float:
    """What crhelper's `_wait_for_cwlogs` sleeps with its default `sleep_on_delete`, in a 15-minute Lambda."""
    slept: list[float] = []
    helper = CfnResource(log_level="WARNING")
    helper._context = type("Context", (), {"get_remaining_time_in_millis": lambda self: 900_000})()
    helper._wait_for_cwlogs(sleep=slept.append)
    return sum(slept)


class _RunningFor:
    """A Glue client whose one run is RUNNING for `seconds` on a fake clock, counting GetMLTaskRun."""

    def __init__(self, seconds: float) -> None:
        self.now, self.end, self.calls = 0.0, seconds, 0

    def get_ml_task_run(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return {"TaskRunId": "tsk-bench", "Status": "RUNNING" if self.now < self.end else "SUCCEEDED"}

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def polled(run_s: float) -> _RunningFor:
    """The handler's real polling code (TaskRuns.wait) on a run of `run_s` seconds, on the fake clock."""
    glue = _RunningFor(run_s)
    runs = TaskRuns(glue, clock=Clock(now=lambda: glue.now, sleep=glue.sleep))
    runs.wait("tfm-bench", "tsk-bench", started_at=0.0, stop_at=run_s + 3600)
    return glue


def get_ml_task_run_calls(run_s: float) -> int:
    """GetMLTaskRun calls while a run of `run_s` seconds goes on."""
    return polled(run_s).calls


def long_detection_delays() -> list[float]:
    """Seconds from the end of a run of 2 to 15 minutes to the poll that sees it, on the controlled clock."""
    return [polled(run_s).now - run_s for run_s in LONG_RUN_SECONDS]


def synth_seconds(imports: int) -> float:
    """Median wall time of a whole synth process: `imports` LabelImports, each with its own label file,
    into up to 5 CfnMLTransforms that run as a role of the stack (as in the example app)."""
    times = []
    for _ in range(SYNTH_REPEATS):
        with tempfile.TemporaryDirectory() as folder:
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", SYNTH_APP, str(imports), folder], check=True)
            times.append(time.monotonic() - started)
    return statistics.median(times)


def zipped_kb(folder: Path) -> float:
    with tempfile.TemporaryFile() as archive:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    zipped.write(file, file.relative_to(folder))
        return archive.tell() / 1024


def main() -> None:
    install()
    glue_ml.reset()
    with tempfile.TemporaryDirectory() as workdir, lambda_sandbox(Path(workdir)) as sandbox:
        ours, baseline = detection_delays(sandbox)
        print(f"detection_delay_s: {statistics.median(ours):.2f}")
        evaluations, _ = detection_delays(sandbox, EVALUATION)
        print(f"detection_delay_evaluation_s: {statistics.median(evaluations):.2f}")
        print(f"crhelper_default_detection_delay_s: {statistics.median(baseline):.2f}")
        deleted = delete_seconds(sandbox)
        print(f"delete_s: {deleted:.2f}")
        print(f"crhelper_default_delete_s: {deleted + crhelper_default_delete_sleep_s():.2f}")
        print(f"detection_delay_long_s: {statistics.median(long_detection_delays()):.2f}")
        print(f"get_ml_task_run_calls_per_10min: {get_ml_task_run_calls(600)}")
        print(f"asset_kb: {zipped_kb(sandbox.asset):.1f}")
        seconds, ratio = round_ratio(sandbox)
        print(f"round_s: {seconds:.2f}")
        print(f"round_ratio: {ratio:.2f}")
    one, fifty = synth_seconds(1), synth_seconds(50)
    print(f"synth_1_s: {one:.2f}")
    print(f"synth_50_s: {fifty:.2f}")
    print(f"synth_ratio_50_to_1: {fifty / one:.2f}")


if __name__ == "__main__":
    main()
