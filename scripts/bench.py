"""Benchmarks: what `cdk deploy` and `cdk destroy` wait on us, beyond Glue's own work.

    make bench      (or: python scripts/bench.py)

Prints one `name: value` line per figure. The handler runs from its synthesized asset in a
Lambda-like subprocess against moto's server with the Glue task-run extension, as in the
end-to-end tests (tests/e2e_harness.py). The crhelper-default baselines come from the same
runs and crhelper's own code: a rule that polls every `polling_interval` minutes, and the
`sleep_on_delete` that `_wait_for_cwlogs` sleeps before a Delete answers.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "lambda")]
os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
)
os.environ.setdefault("AWS_REGION", "us-east-1")

from crhelper import CfnResource  # noqa: E402

from e2e_harness import LambdaSandbox, lambda_sandbox  # noqa: E402
from glue_label_import.testing import glue_ml, install  # noqa: E402
from glue_runs import TaskRuns  # noqa: E402
from retries import Clock  # noqa: E402
from support import EVALUATION, LABELS, evaluation_props  # noqa: E402

RUN_SECONDS = (2.4, 5.3, 8.7, 12.1, 16.6, 19.4)  # each run ends this long after it starts: not on a poll tick
LONG_RUN_SECONDS = tuple(120 + 61.7 * n for n in range(13))  # 2 to 14.5 minutes, never on a poll tick
STARTING_S = 1.0
SYNTH_REPEATS = 3
SYNTH_APP = """
import sys
from pathlib import Path
from aws_cdk import App, Stack, aws_iam as iam
sys.path.insert(0, sys.argv[3])
from support import find_matches_transform
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
            subprocess.run([sys.executable, "-c", SYNTH_APP, str(imports), folder, str(REPO / "tests")], check=True)
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
    one, fifty = synth_seconds(1), synth_seconds(50)
    print(f"synth_1_s: {one:.2f}")
    print(f"synth_50_s: {fifty:.2f}")
    print(f"synth_ratio_50_to_1: {fifty / one:.2f}")


if __name__ == "__main__":
    main()
