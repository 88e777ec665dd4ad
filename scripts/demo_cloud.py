"""The demo's emulated cloud: moto's AWS with what the example's custom resources stand on (created from
the template's own properties), and CloudFormation played for the custom resources only, in the
template's dependency order, through the synthesized handler in its Lambda sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glue_label_import.testing import stacks
from glue_label_import.testing.requests import STACK_ID
from glue_label_import.testing.sandbox import LambdaSandbox
from glue_label_import.testing.template_values import TemplateValues

STACK = "GlueLabelImportExample"
ACCOUNT, REGION = "123456789012", "us-east-1"
DATA_BUCKET = "glue-label-import-example-data"
SHORT_TYPES = {"Custom::GlueImportLabels": "import", "Custom::GlueEvaluateTransform": "evaluation",
               "Custom::GlueGenerateLabelingSet": "generation"}  # fmt: skip
CUSTOM_TYPES = tuple(SHORT_TYPES)


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
    iam_checked: int = 0  # calls of the handler that moto's IAM judged against its role's policies
    iam_denied: int = 0
    started: float = field(default_factory=time.monotonic)


class Resolver(TemplateValues):
    """The values of the template as CloudFormation resolves them for the demo: a Ref or Fn::GetAtt of
    what the demo has not made raises KeyError, a function other than Ref, Fn::GetAtt, Fn::Join and
    Fn::Sub DemoFailed."""

    def __init__(self) -> None:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
        super().__init__(pseudo, {}, ACCOUNT, REGION, strict=True)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (function,) = value
            if function.startswith("Fn::") and function not in ("Fn::GetAtt", "Fn::Join", "Fn::Sub"):
                raise DemoFailed(f"the demo does not resolve {function}")
        return super().__call__(value)


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
        self.say("emulated  IAM: the template's roles; the handler runs as its own, every call it makes checked")

    def update_roles(self, template: dict[str, Any]) -> None:
        """The template's roles and policies in moto's IAM, as CloudFormation updates them before the
        custom resources that use them (a new label asset, a new grant); the handler acts as its role."""
        refs = {k: v for k, v in self.resolve.refs.items() if not k.startswith("AWS::")}
        self.sandbox.act_as_handler_role(refs, template=template)

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
        self.update_roles(template)
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
        self.update_roles(self.template)
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
        if self.sandbox.iam_checks is not None:
            self.tally.iam_checked = self.sandbox.iam_checks.checked
            self.tally.iam_denied = len(self.sandbox.iam_checks.denied)
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


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """Each custom resource of the template, in the template's order, and the custom resources it
    waits for: DependsOn, Ref, Fn::GetAtt."""
    resources = template["Resources"]
    custom = [logical_id for logical_id, r in resources.items() if r["Type"] in CUSTOM_TYPES]

    def needs(logical_id: str) -> set[str]:
        text = json.dumps(resources[logical_id].get("Properties", {}))
        depends = set(resources[logical_id].get("DependsOn", []))
        return {other for other in custom if other != logical_id and (other in depends or f'"{other}"' in text)}

    return {logical_id: needs(logical_id) for logical_id in custom}


def dependency_order(template: dict[str, Any]) -> list[str]:
    """The template's custom resources, each after those it depends on (DependsOn, Ref, Fn::GetAtt).

    Those CloudFormation would run side by side (the gate and the generation, after the imports)
    are played one after another in the template's order, which is their declaration order.
    """
    needs = dependencies(template)
    custom = list(needs)
    ordered: list[str] = []
    while len(ordered) < len(custom):
        ready = [r for r in custom if r not in ordered and needs[r] <= set(ordered)]
        if not ready:
            raise DemoFailed("the custom resources depend on each other in a cycle")
        ordered.extend(ready)
    return ordered


def _shown_data(data: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in data.items() if k != "TaskRunId") or ""
