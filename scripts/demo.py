"""`make demo`: the example app's label round, deployed on a local emulation of Glue and S3.

    make demo      (or: python scripts/demo.py)

What is real: the example app (app.py) synthesized as `cdk synth` would, its custom resources'
properties from the template, and the handler, run from the synthesized Lambda asset in a process
of its own per request, with only boto3 besides it, answering over HTTPS to a local ResponseURL,
as its own role: the template's roles and policies in moto's IAM, every call the handler makes
checked while it runs (the summary counts them; the demo's own set-up calls are not checked).
What is emulated: AWS (moto's server in this process, with the Glue ML task runs of
glue_label_import.testing: runs take about a second, metrics are scripted), the resources the
custom resources stand on (created from the template's own properties), and CloudFormation, played
for the custom resources only, in the template's dependency order: an Update only when a
resource's properties changed, the rollback of a failed Update (the stack's status, which the
handler reads, is UPDATE_ROLLBACK_IN_PROGRESS meanwhile), and Deletes in reverse order.

Exits non-zero if a request got other than exactly one answer, IAM denied a call, or a step did
not go as shown.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
)
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)

from demo_cloud import CUSTOM_TYPES, STACK, Cloud, DemoFailed, Tally  # noqa: E402
from glue_label_import.__main__ import main as command_line  # noqa: E402
from glue_label_import.labeling import Labeling  # noqa: E402
from glue_label_import.testing import glue_ml, install  # noqa: E402
from glue_label_import.testing.sandbox import lambda_sandbox  # noqa: E402

METRICS = {"Precision": 0.9, "Recall": 0.8, "AreaUnderPRCurve": 0.88}


def label(fetched: Path, round_file: Path) -> int:
    """Fill in the labels of a fetched labeling set (scripted) as `glue-label-import label` writes them:
    the first half of each set one entity, the second half another. Returns the rows labelled."""
    labeling = Labeling.load(fetched, round_file)
    for labeling_set in labeling.sets:
        rows = len(labeling_set.records)
        labeling_set.labels = ["A" if number < rows / 2 else "B" for number in range(rows)]
    return labeling.write().rows


def run(say: Callable[[str], None] = print) -> Tally:
    """Play the example's label round; raise DemoFailed when a step does not go as shown."""
    install()
    with tempfile.TemporaryDirectory(prefix="glue-label-import-demo-") as folder:
        app = Path(folder) / "app"
        app.mkdir()
        shutil.copy(REPO / "app.py", app)
        shutil.copytree(REPO / "data", app / "data")
        shutil.copytree(REPO / "labels", app / "labels")
        example = Example(app, say)
        template = example.synthesize()
        with (
            lambda_sandbox(app.parent, example.outdir, STACK) as sandbox,
            mock.patch.dict(os.environ, AWS_ENDPOINT_URL=sandbox.env["AWS_ENDPOINT_URL"]),
        ):
            glue_ml.starting_seconds, glue_ml.running_seconds = 0.2, 0.5  # Glue's minutes, in under a second
            cloud = Cloud(sandbox, say)
            cloud.stand_up(template, example.outdir, example.label_files())
            first_deploy(cloud, template)
            next_round(cloud, example)
            later_failure_round(cloud, example)
            failing_round(cloud, example)
            say("-- destroy: every custom resource deleted")
            cloud.destroy()
            history(cloud)
    return cloud.tally


class Example:
    """The copy of the example app the demo labels and synthesizes again."""

    def __init__(self, app: Path, say: Callable[[str], None]) -> None:
        self.app, self.say, self.synths = app, say, 0
        self.outdir = app.parent / "cdk.out-0"

    def label_files(self) -> list[str]:
        return sorted(path.name for path in (self.app / "labels").glob("*.csv"))

    def synthesize(self) -> dict[str, Any]:
        """`cdk synth` of the app into a new cloud assembly; its template."""
        self.synths += 1
        self.outdir = self.app.parent / f"cdk.out-{self.synths}"
        env = {**os.environ, "CDK_OUTDIR": str(self.outdir)}
        subprocess.run([sys.executable, "app.py"], check=True, env=env, cwd=self.app, capture_output=True)
        template = dict(json.loads((self.outdir / f"{STACK}.template.json").read_text()))
        customs = sum(r["Type"] in CUSTOM_TYPES for r in template["Resources"].values())
        self.say(f"synth     {STACK} with labels/{{{','.join(self.label_files())}}}: {customs} custom resources")
        return template


def first_deploy(cloud: Cloud, template: dict[str, Any]) -> None:
    cloud.say("-- deploy: import of labels/, evaluation, generation of the next set")
    glue_ml.script_next_run()  # the import
    glue_ml.script_next_run(metrics={**METRICS, "F1": 0.82})
    _expect(cloud.deploy(template), 3, "the first deploy")


def next_round(cloud: Cloud, example: Example) -> None:
    cloud.say("-- a new labeling round: fetch the generated set, label it, deploy again")
    next_set = _data_of(cloud, "Custom::GlueGenerateLabelingSet")["OutputS3Path"]
    fetched = example.app.parent / "fetched.csv"
    if command_line(["fetch", next_set, str(fetched)]) != 0:
        raise DemoFailed(f"fetch {next_set} failed")
    cloud.say("label     by hand: glue-label-import label fetched.csv --out labels/round-3.csv (a terminal interface)")
    rows = label(fetched, example.app / "labels" / "round-3.csv")
    cloud.say(f"labelled  {rows} rows into labels/round-3.csv (scripted: half of each labeling set A, half B)")
    glue_ml.script_next_run()
    glue_ml.script_next_run(metrics={**METRICS, "F1": 0.84})
    template = example.synthesize()
    cloud.upload_assets(example.outdir, example.label_files())
    _expect(cloud.deploy(template), 3, "the second round")


def later_failure_round(cloud: Cloud, example: Example) -> None:
    cloud.say("-- a round whose gate passes and whose later resource fails: the rollback restores the labels")
    better = example.app / "labels" / "round-4.csv"
    header, *rows = (example.app / "labels" / "round-3.csv").read_text().splitlines(keepends=True)
    better.write_text(header + "".join(reversed(rows)))
    glue_ml.script_next_run()  # the import of the new set
    glue_ml.script_next_run(metrics={**METRICS, "F1": 0.86})  # its evaluation: the gate passes
    glue_ml.script_next_run(final_status="FAILED", error_string="Access Denied writing the labeling set")
    glue_ml.script_next_run()  # the rollback's import of the previous set
    glue_ml.script_next_run(metrics={**METRICS, "F1": 0.8})  # the rollback's evaluation: down 0.06, not gated
    template = example.synthesize()
    cloud.upload_assets(example.outdir, example.label_files())
    _expect(cloud.deploy(template, expect_failure=True), 3, "the round with a later failure")
    better.unlink()


def failing_round(cloud: Cloud, example: Example) -> None:
    cloud.say("-- a round that lowers F1 below the gate: the deploy fails and rolls back")
    worse = example.app / "labels" / "round-4.csv"
    shutil.copy(example.app / "labels" / "round-3.csv", worse)
    glue_ml.script_next_run()  # the import of the worse set
    glue_ml.script_next_run(metrics={**METRICS, "F1": 0.61})  # its evaluation: below 0.7
    glue_ml.script_next_run()  # the rollback's import of the previous set
    glue_ml.script_next_run(metrics={**METRICS, "F1": 0.83})  # the rollback's evaluation, without gates
    template = example.synthesize()
    cloud.upload_assets(example.outdir, example.label_files())
    _expect(cloud.deploy(template, expect_failure=True), 2, "the failing round")
    worse.unlink()


def history(cloud: Cloud) -> None:
    """End with `glue-label-import history`: the transform's imports, evaluations and labeling sets."""
    transform_id = cloud.resolve.refs[_logical_id(cloud.template, "AWS::Glue::MLTransform")]
    cloud.say(f"-- history: glue-label-import history {transform_id}")
    table, listed = _command_output(["history", transform_id]), _command_output(["history", transform_id, "--json"])
    for line in table.splitlines():
        cloud.say(f"history   {line}")
    imports = [entry["input_s3_path"] for entry in reversed(json.loads(listed)) if entry["task"] == "import"]
    for key in dict.fromkeys(path.rsplit("/", 1)[1] for path in imports):
        cloud.say(f"label set {key[:12]}... = labels/{{{cloud.label_sets[key]}}}")
    if len(imports) != 6 or imports[3] != imports[1] or imports[5] != imports[1]:
        raise DemoFailed("a rollback did not import the previous label set again, once")


def _command_output(argv: list[str]) -> str:
    """What `glue-label-import ARGV...` prints; DemoFailed if it fails."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = command_line(argv)
    if status != 0:
        raise DemoFailed(f"glue-label-import {' '.join(argv)} exited {status}")
    return printed.getvalue()


def _expect(touched: list[str], count: int, step: str) -> None:
    if len(touched) != count:
        raise DemoFailed(f"{step} sent {len(touched)} requests, not {count}: {touched}")


def _data_of(cloud: Cloud, resource_type: str) -> dict[str, Any]:
    (resource,) = [r for r in cloud.deployed.values() if r.type == resource_type]
    return resource.data


def _logical_id(template: dict[str, Any], resource_type: str) -> str:
    (logical_id,) = [k for k, r in template["Resources"].items() if r["Type"] == resource_type]
    return logical_id


def main() -> int:
    try:
        tally = run()
    except DemoFailed as problem:
        print(f"demo FAILED: {problem}")
        return 1
    print(
        f"summary   {tally.requests} requests, {tally.answers} answers (one each), "
        f"{tally.failed_as_expected} failed as expected, {tally.iam_checked} calls checked by IAM "
        f"({tally.iam_denied} denied), {time.monotonic() - tally.started:.1f} s"
    )
    return 0 if tally.requests == tally.answers and tally.iam_denied == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
