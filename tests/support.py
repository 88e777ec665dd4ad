"""What the tests share: small stacks, CloudFormation events, a Lambda context, label files, a fake clock.

One module, so that no test file keeps its own copy of a helper.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam

BUCKET = "labels-bucket"
"""The S3 bucket the handler tests keep their label files in."""
LABELS = "labeling_set_id,label,customer_id\ns1,A,1\ns1,A,2\ns1,B,3\n"
"""A small label file Glue can import: one labeling set of three rows."""

GLUE_ROLE_ARN = "arn:aws:iam::123456789012:role/GlueFindMatches"


def find_matches_transform(
    stack: Stack, construct_id: str = "Transform", *, primary_key: str = "customer_id", role: str = GLUE_ROLE_ARN
) -> glue.CfnMLTransform:
    """A FIND_MATCHES CfnMLTransform over a customers table."""
    return glue.CfnMLTransform(
        stack,
        construct_id,
        role=role,
        input_record_tables=glue.CfnMLTransform.InputRecordTablesProperty(
            glue_tables=[glue.CfnMLTransform.GlueTablesProperty(database_name="crm", table_name="customers")]
        ),
        transform_parameters=glue.CfnMLTransform.TransformParametersProperty(
            transform_type="FIND_MATCHES",
            find_matches_parameters=glue.CfnMLTransform.FindMatchesParametersProperty(
                primary_key_column_name=primary_key
            ),
        ),
    )


def new_stack(outdir: str | None = None) -> Stack:
    """An empty stack in a fresh app."""
    return Stack(App(outdir=outdir), "Labels")


def logical_id(stack: Stack, construct: Any) -> str:
    """The logical id of the custom resource of a construct of this library (its child "Resource")."""
    return str(stack.resolve(construct.node.find_child("Resource").node.default_child.logical_id))


def glue_role(stack: Stack) -> iam.IRole:
    """An imported Glue service role."""
    return iam.Role.from_role_arn(stack, "GlueRole", GLUE_ROLE_ARN)


def handler_asset_path(outdir: Path, stack_name: str) -> Path:
    """The folder of the handler's Lambda asset in a synthesized cloud assembly."""
    template = json.loads((outdir / f"{stack_name}.template.json").read_text())
    (function,) = [
        resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and logical_id.startswith("GlueLabelImportProviderHandler")
    ]
    s3_key = function["Properties"]["Code"]["S3Key"]
    manifest = json.loads((outdir / f"{stack_name}.assets.json").read_text())
    (source,) = [
        asset["source"]["path"]
        for asset in manifest["files"].values()
        if any(d["objectKey"] == s3_key for d in asset["destinations"].values())
    ]
    return outdir / source


STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Labels/5b6e1a40-0a6b-11ef-9b7e-0a1b2c3d4e5f"
OTHER_STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Other/77aa0c10-0a6b-11ef-9b7e-0a1b2c3d4e5f"
LEDGER_TABLE = "Labels-GlueLabelImportLedger"
"""The run ledger's table in the handler tests (the end-to-end tests create the synthesized one)."""


def create_ledger(dynamodb: Any, name: str = LEDGER_TABLE, key: str = "Id", ttl: str | None = None) -> str:
    """A run ledger table in (moto's) DynamoDB, keyed as the provider's; returns its name."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})
    return name


FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Labels-GlueLabelImportHandler"
SECRET = "X-Amz-Signature=0123456789abcdef-presigned-secret"


def cfn_event(
    request_type: str,
    properties: dict[str, Any],
    *,
    response_base: str = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
    logical_id: str = "Labels",
    stack_id: str = STACK_ID,
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
    resource_type: str = "Custom::GlueImportLabels",
) -> dict[str, Any]:
    """A CloudFormation custom-resource request, with every property a string as CFN sends it."""
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": FUNCTION_ARN,
        "ResponseURL": f"{response_base}/{request_id}?{SECRET}",
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": {"ServiceToken": FUNCTION_ARN, **{k: _cfn_string(v) for k, v in properties.items()}},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = {k: _cfn_string(v) for k, v in old_properties.items()}

    return event


def _cfn_string(value: Any) -> Any:
    """A property as CloudFormation hands it over: every value a string, lists of strings kept."""
    if isinstance(value, list):
        return [_cfn_string(item) for item in value]
    return str(value).lower() if isinstance(value, bool) else str(value)


class LambdaContext:
    """The parts of Lambda's context object the handler uses; remaining time from a clock."""

    def __init__(self, remaining_s: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._end = clock() + remaining_s
        self.function_name = FUNCTION_ARN.rsplit(":", 1)[1]
        self.invoked_function_arn = FUNCTION_ARN
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - self._clock()) * 1000))


def create_transform(glue: Any, name: str = "customers") -> str:
    """A FIND_MATCHES transform in (moto's) Glue, keyed on customer_id; returns its TransformId."""
    response = glue.create_ml_transform(
        Name=name,
        InputRecordTables=[{"DatabaseName": "crm", "TableName": "customers"}],
        Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "customer_id"}},
        Role="arn:aws:iam::123456789012:role/GlueFindMatches",
    )
    return str(response["TransformId"])


def props(
    transform_id: str,
    path: str = f"s3://{BUCKET}/round-1.csv",
    *,
    replace: bool = False,
    timeout: int = 3600,
) -> dict[str, Any]:
    """The properties of a Custom::GlueImportLabels resource."""
    return {"TransformId": transform_id, "InputS3Path": path, "ReplaceAllLabels": replace, "ServiceTimeout": timeout}


class FakeClock:
    """Fake time for the handler's Clock: sleeping moves it on at once, and each sleep is recorded."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


EVALUATION = "Custom::GlueEvaluateTransform"


def evaluation_props(
    transform_id: str, *, after: tuple[str, ...] = ("tsk-import-1",), **thresholds: float
) -> dict[str, Any]:
    """The properties of a Custom::GlueEvaluateTransform resource; thresholds by property name (MinF1=0.8)."""
    return {"TransformId": transform_id, "After": list(after), "ServiceTimeout": 3600, **thresholds}


GENERATION = "Custom::GlueGenerateLabelingSet"


def generation_props(
    transform_id: str, *, output: str = f"s3://{BUCKET}/labeling-sets/", after: tuple[str, ...] = ("tsk-1",)
) -> dict[str, Any]:
    """The properties of a Custom::GlueGenerateLabelingSet resource."""
    return {"TransformId": transform_id, "OutputS3Path": output, "After": list(after), "ServiceTimeout": 3600}


FETCHED = """\
labeling_set_id,label,customer_id,name,email,city
s1,,1,Ana Silva,ana@example.com,Lisbon
s1,,2,Ana Silva,ana.silva@example.com,Lisbon
s1,,3,Ana Sylva,ana@example.com,Lisbon
s2,,4,Bo Chen,bo@example.com,Oslo
s2,,5,Bo Chen,bo@example.com,Bergen
s2,,6,Cy Dahl,cy@example.com,Oslo
s2,,7,Bo Chen,bo@example.com,Oslo
s3,,8,Di Ek,di@example.com,Rome
s3,,9,Di Ek,di@example.com,Rome
"""
"""A labeling set as `glue-label-import fetch` writes it, still to label: 3 sets, 9 rows."""


def write_fetched(folder: Path, content: str = FETCHED) -> Path:
    """Write ``content`` (default :data:`FETCHED`) as ``fetched.csv`` in ``folder``; its path."""
    path = folder / "fetched.csv"
    path.write_text(content, encoding="utf-8")
    return path


# Errors any AWS JSON service may answer without its model listing them.
COMMON_ERROR_CODES = frozenset({"ThrottlingException", "AccessDeniedException", "UnrecognizedClientException"})


def shape_errors(shape: Any, value: Any, where: str = "") -> list[str]:
    """Where a decoded JSON value breaks a botocore shape: unknown or missing members, wrong types,
    values outside an enum, a length or a range. Empty when the value is valid."""
    name = where or shape.name
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{name}: a structure, got {value!r}"]
        errors = [f"{name}: unknown member {key}" for key in value if key not in shape.members]
        errors += [f"{name}: missing {key}" for key in shape.required_members if key not in value]
        for key, member in shape.members.items():
            if key in value:
                errors += shape_errors(member, value[key], f"{name}.{key}")
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{name}: a list, got {value!r}"]
        errors = _size_errors(shape, len(value), name)
        for index, item in enumerate(value):
            errors += shape_errors(shape.member, item, f"{name}[{index}]")
        return errors
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{name}: a map, got {value!r}"]
        return [e for key, item in value.items() for e in shape_errors(shape.value, item, f"{name}[{key}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{name}: a string, got {value!r}"]
        if shape.enum and value not in shape.enum:
            return [f"{name}: {value!r} is not one of {shape.enum}"]
        return _size_errors(shape, len(value), name)
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{name}: an integer, got {value!r}"]
        return _size_errors(shape, value, name)
    if kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return [f"{name}: a number, got {value!r}"]
        return _size_errors(shape, value, name)
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{name}: a boolean, got {value!r}"]
    if kind == "timestamp":  # epoch seconds on the wire of a JSON protocol
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{name}: epoch seconds, got {value!r}"]
    return [f"{name}: no check for shapes of type {kind}"]


def _size_errors(shape: Any, size: float, name: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and size < low) or (high is not None and size > high):
        return [f"{name}: {size} is outside [{low}, {high}]"]
    return []


def response_errors(operation_model: Any, status: int, body: bytes) -> list[str]:
    """Where an HTTP response of a JSON-protocol AWS operation breaks botocore's model: its output
    shape, or for an error, one of the operation's modelled errors (or a common one) and its shape."""
    decoded = json.loads(body) if body else {}
    name = operation_model.name
    if status < 300:
        if operation_model.output_shape is None:
            return [] if not decoded else [f"{name}: a body where the model has no output"]
        return shape_errors(operation_model.output_shape, decoded, name)
    code = str(decoded.get("__type", "")).rsplit("#", 1)[-1]
    modelled = {error.name: error for error in operation_model.error_shapes}
    if code not in modelled and code not in COMMON_ERROR_CODES:
        return [f"{name}: error {code!r} is not among its modelled errors {sorted(modelled)}"]
    message = decoded.get("message", decoded.get("Message"))
    errors = [] if isinstance(message, str) else [f"{name} {code}: no message"]
    if code in modelled:
        fields = {k: v for k, v in decoded.items() if k not in ("__type", "message", "Message")}
        errors += shape_errors(modelled[code], fields, f"{name} {code}")
    return errors


class CheckedResponses:
    """Every response a boto3 client receives, checked against botocore's model as it arrives."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.problems: list[str] = []
        self.seen: set[tuple[str, str]] = set()  # (operation, error code or "OK")
        client.meta.events.register("before-parse", self._check)

    def _check(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict["body"]
        status = response_dict["status_code"]
        code = "OK" if status < 300 else str(json.loads(body).get("__type", "")).rsplit("#", 1)[-1]
        self.seen.add((operation_model.name, code))
        self.problems.extend(response_errors(operation_model, status, body))
