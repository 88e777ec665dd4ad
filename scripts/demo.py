"""`make demo`: the example app's label round, deployed on a local emulation of Glue and S3.

    make demo      (or: python scripts/demo.py)

What is real: the example app (app.py) synthesized as `cdk synth` would, its custom resources'
properties from the template, and the handler, run from the synthesized Lambda asset in a process
of its own per request, with only boto3 besides it, answering over HTTPS to a local ResponseURL.
What is emulated: AWS (moto's server in this process, with the Glue ML task runs of
glue_label_import.testing: runs take about a second, metrics are scripted), the resources the
custom resources stand on (created from the template's own properties), and CloudFormation, played
for the custom resources only, in the template's dependency order: an Update only when a
resource's properties changed, the rollback of a failed Update (the stack's status, which the
handler reads, is UPDATE_ROLLBACK_IN_PROGRESS meanwhile), and Deletes in reverse order.

Exits non-zero if a request got other than exactly one answer or a step did not go as shown.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
)
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)

from glue_label_import.__main__ import main as command_line  # noqa: E402
from glue_label_import.testing import glue_ml, install, stacks  # noqa: E402
from glue_label_import.testing.requests import STACK_ID  # noqa: E402
from glue_label_import.testing.sandbox import LambdaSandbox, lambda_sandbox  # noqa: E402

STACK = "GlueLabelImportExample"
ACCOUNT, REGION = "123456789012", "us-east-1"
DATA_BUCKET = "glue-label-import-example-data"
CUSTOM_TYPES = ("Custom::GlueImportLabels", "Custom::GlueEvaluateTransform", "Custom::GlueGenerateLabelingSet")
SHORT_TYPES = {"Custom::GlueImportLabels": "import", "Custom::GlueEvaluateTransform": "evaluation",
               "Custom::GlueGenerateLabelingSet": "generation"}  # fmt: skip
METRICS = {"Precision": 0.9, "Recall": 0.8, "AreaUnderPRCurve": 0.88}


class DemoFailed(Exception):
    """A step did not go as the demo shows it."""


@dataclass
class Resource:
    """A custom resource as the emulated CloudFormation knows it."""

    logical_id: str
    type: str
    properties: dict[str, Any]  # resolved
    physical_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    """What the demo asked and what it heard."""

    requests: int = 0
    answers: int = 0
    failed_as_expected: int = 0
    started: float = field(default_factory=time.monotonic)


class Resolver:
    """The intrinsic functions the custom resources' properties use: Ref, Fn::GetAtt, Fn::Join, Fn::Sub."""

    def __init__(self) -> None:
        self.refs: dict[str, Any] = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
        self.attributes: dict[tuple[str, str], Any] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
            ((function, argument),) = value.items()
            return self.function(function, argument)
        return {key: self(item) for key, item in value.items()}

    def function(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            return self.refs[argument]
        if function == "Fn::GetAtt":
            return self.attributes[(argument[0], argument[1])]
        if function == "Fn::Join":
            return str(argument[0]).join(str(self(part)) for part in argument[1])
        if function == "Fn::Sub":
            text = str(argument)
            for name, ref in self.refs.items():
                text = text.replace("${" + name + "}", str(ref))
            return text
        raise DemoFailed(f"the demo does not resolve {function}")


class Cloud:
    """moto's AWS with what the example's custom resources stand on, and CloudFormation for them."""

    def __init__(self, sandbox: LambdaSandbox, say: Callable[[str], None]) -> None:
        self.sandbox = sandbox
        self.say = say
        self.resolve = Resolver()
        self.deployed: dict[str, Resource] = {}
        self.template: dict[str, Any] = {}  # the last template deployed: what a rollback goes back to
        self.tally = Tally()
        self.label_sets: dict[str, str] = {}  # asset key of a merged label set: the files it holds

    def stand_up(self, template: dict[str, Any], outdir: Path, label_files: list[str]) -> None:
        """Create the data bucket, the Glue database, table and transform, and upload the file assets."""
        resources = template["Resources"]
        glue, s3 = self.sandbox.glue, self.sandbox.s3
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::S3::Bucket":
                s3.create_bucket(Bucket=DATA_BUCKET)
                self.resolve.refs[logical_id] = DATA_BUCKET
            if resource["Type"] == "AWS::IAM::Role":
                self.resolve.attributes[(logical_id, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
        for resource in resources.values():
            if resource["Type"] == "AWS::Glue::Database":
                glue.create_database(DatabaseInput=self.resolve(resource["Properties"]["DatabaseInput"]))
        for resource in resources.values():
            if resource["Type"] == "AWS::Glue::Table":
                properties = self.resolve(resource["Properties"])
                glue.create_table(DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"])
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::Glue::MLTransform":
                properties = self.resolve(resource["Properties"])
                transform_id = glue.create_ml_transform(
                    Name=properties["Name"],
                    InputRecordTables=properties["InputRecordTables"]["GlueTables"],
                    Parameters=properties["TransformParameters"],
                    Role=properties["Role"],
                    GlueVersion=properties["GlueVersion"],
                    WorkerType=properties["WorkerType"],
                    NumberOfWorkers=properties["NumberOfWorkers"],
                )["TransformId"]
                self.resolve.refs[logical_id] = transform_id
                self.say(f"emulated  {logical_id} (AWS::Glue::MLTransform) {transform_id}, its database and table")
        self.upload_assets(outdir, label_files)

    def upload_assets(self, outdir: Path, label_files: list[str]) -> None:
        """Upload the file assets as `cdk deploy` would (the label files; the handler is run from its folder)."""
        manifest = json.loads((outdir / f"{STACK}.assets.json").read_text())
        for asset in manifest["files"].values():
            source = outdir / asset["source"]["path"]
            if asset["source"].get("packaging") == "zip" or not source.is_file():
                continue
            for destination in asset["destinations"].values():
                bucket = self.resolve({"Fn::Sub": destination["bucketName"]})
                if bucket not in {b["Name"] for b in self.sandbox.s3.list_buckets()["Buckets"]}:
                    self.sandbox.s3.create_bucket(Bucket=bucket)
                self.sandbox.s3.upload_file(str(source), bucket, destination["objectKey"])
                self.label_sets[destination["objectKey"]] = "+".join(label_files)

    def deploy(self, template: dict[str, Any], expect_failure: bool = False) -> list[str]:
        """Create or Update each custom resource whose properties changed, in dependency order.

        A FAILED answer rolls back as CloudFormation does: each resource this deploy changed gets
        an Update back to the previous template's properties (resolved with the attributes the
        resources have then), in dependency order. Returns the logical ids sent a request.
        """
        changed: list[tuple[Resource, dict[str, Any]]] = []
        stacks.set(STACK_ID, "UPDATE_IN_PROGRESS")
        for logical_id in dependency_order(template):
            properties = self.properties(template, logical_id)
            current = self.deployed.get(logical_id)
            if current is not None and current.properties == properties:
                continue
            if current is None:
                current = self.deployed[logical_id] = Resource(
                    logical_id, template["Resources"][logical_id]["Type"], {}
                )
            changed.append((current, current.properties))
            old, current.properties = current.properties, properties
            answer = self.request("Update" if old else "Create", current, old or None)
            if answer["Status"] == "FAILED":
                if not expect_failure:
                    raise DemoFailed(f"{logical_id} failed: {answer['Reason']}")
                self.tally.failed_as_expected += 1
                self.roll_back(changed)
                return [resource.logical_id for resource, _ in changed]
        if expect_failure:
            raise DemoFailed("the deploy was expected to fail its quality gate, and did not")
        self.template = template
        return [resource.logical_id for resource, _ in changed]

    def roll_back(self, changed: list[tuple[Resource, dict[str, Any]]]) -> None:
        """Put back what a failed deploy changed: Updates to the previous template, in dependency order."""
        self.say("rollback  CloudFormation puts back what this deploy changed")
        stacks.set(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS")
        for resource, _ in changed:
            failed_properties = resource.properties
            resource.properties = self.properties(self.template, resource.logical_id)
            answer = self.request("Update", resource, failed_properties)
            if answer["Status"] != "SUCCESS":
                raise DemoFailed(f"the rollback of {resource.logical_id} failed: {answer['Reason']}")
        stacks.set(STACK_ID, "UPDATE_ROLLBACK_COMPLETE")

    def properties(self, template: dict[str, Any], logical_id: str) -> dict[str, Any]:
        """A custom resource's properties as CloudFormation sends them, intrinsic functions resolved."""
        declared = template["Resources"][logical_id]["Properties"]
        return dict(self.resolve({k: v for k, v in declared.items() if k != "ServiceToken"}))

    def destroy(self) -> None:
        """Delete every custom resource, in reverse order of creation."""
        for resource in reversed(list(self.deployed.values())):
            answer = self.request("Delete", resource)
            if answer["Status"] != "SUCCESS":
                raise DemoFailed(f"the Delete of {resource.logical_id} failed")
        self.deployed.clear()

    def request(self, request_type: str, resource: Resource, old: dict[str, Any] | None = None) -> dict[str, Any]:
        """One CloudFormation request, answered by the handler (hand-overs replayed as Lambda would)."""
        event = self.sandbox.event(
            request_type,
            resource.properties,
            logical_id=resource.logical_id,
            physical_id=resource.physical_id or None,
            old_properties=old,
            resource_type=resource.type,
        )
        self.tally.requests += 1
        started = time.monotonic()
        payload = event
        while True:
            self.sandbox.invoke(payload, remaining_s=600)
            if self.sandbox.responses.answers(event["RequestId"]):
                break
            (handed_over,) = self.sandbox.invokes.take()
            payload = handed_over["payload"]
        answers = self.sandbox.responses.answers(event["RequestId"])
        if len(answers) != 1:
            raise DemoFailed(f"{resource.logical_id} {request_type} got {len(answers)} answers")
        self.tally.answers += 1
        answer = answers[0]
        resource.physical_id = answer["PhysicalResourceId"]
        if answer["Status"] == "SUCCESS":
            resource.data = answer.get("Data") or {}
            for name, value in resource.data.items():
                self.resolve.attributes[(resource.logical_id, name)] = value
        shown = answer["Reason"] if answer["Status"] == "FAILED" else _shown_data(resource.data)
        self.say(
            f"{request_type.lower():<9} {resource.logical_id} ({SHORT_TYPES[resource.type]}): {answer['Status']}"
            f" {shown} [{time.monotonic() - started:.1f} s]"
        )
        return answer


def dependency_order(template: dict[str, Any]) -> list[str]:
    """The template's custom resources, each after those it depends on (DependsOn, Ref, Fn::GetAtt).

    Those CloudFormation would run side by side (the gate and the generation, after the imports)
    are played one after another in the template's order, which is their declaration order.
    """
    resources = template["Resources"]
    custom = [logical_id for logical_id, r in resources.items() if r["Type"] in CUSTOM_TYPES]

    def needs(logical_id: str) -> set[str]:
        text = json.dumps(resources[logical_id].get("Properties", {}))
        depends = set(resources[logical_id].get("DependsOn", []))
        return {other for other in custom if other != logical_id and (other in depends or f'"{other}"' in text)}

    ordered: list[str] = []
    while len(ordered) < len(custom):
        ready = [r for r in custom if r not in ordered and needs(r) <= set(ordered)]
        if not ready:
            raise DemoFailed("the custom resources depend on each other in a cycle")
        ordered.extend(ready)
    return ordered


def label(fetched: Path, round_file: Path) -> int:
    """Fill in the `label` column of a fetched labeling set (scripted): the first half of each set
    one entity, the second half another. Returns the rows labelled."""
    with fetched.open(newline="") as text:
        reader = csv.DictReader(text)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    sets: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        sets.setdefault(row["labeling_set_id"], []).append(row)
    for members in sets.values():
        for number, row in enumerate(members):
            row["label"] = "A" if number < len(members) / 2 else "B"
    with round_file.open("w", newline="") as text:
        writer = csv.DictWriter(text, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for members in sets.values() for row in members)
    return len(rows)


def _shown_data(data: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in data.items() if k != "TaskRunId") or ""


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
        f"{tally.failed_as_expected} failed as expected, {time.monotonic() - tally.started:.1f} s"
    )
    return 0 if tally.requests == tally.answers else 1


if __name__ == "__main__":
    sys.exit(main())
