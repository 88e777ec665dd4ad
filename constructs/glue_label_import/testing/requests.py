"""CloudFormation's side of a test of the handler: its custom-resource requests, the handler's asset in
a synthesized cloud assembly, and the resources (in moto) that the requests name.

``cfn_event`` builds a request as CloudFormation sends it (every property a string); its ResponseURL
carries ``SECRET``, the presigned part that must never be logged: a test that finds ``SECRET`` in
the handler's output has found a leak.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

__all__ = [
    "BUCKET",
    "EVALUATION",
    "FUNCTION_ARN",
    "GENERATION",
    "LEDGER_TABLE",
    "SECRET",
    "STACK_ID",
    "cfn_event",
    "create_ledger",
    "create_transform",
    "evaluation_props",
    "generation_props",
    "handler_asset_path",
    "handler_function",
    "props",
]

BUCKET = "labels-bucket"
"""The S3 bucket the handler tests keep their label files in."""
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Labels/5b6e1a40-0a6b-11ef-9b7e-0a1b2c3d4e5f"
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
SECRET = "X-Amz-Signature=0123456789abcdef-presigned-secret"  # noqa: S105  # a marker, not a credential
"""The presigned part of every ``cfn_event`` ResponseURL: never to be found in the handler's output."""


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


def create_transform(glue: Any, name: str = "customers") -> str:
    """A FIND_MATCHES transform in (moto's) Glue, keyed on customer_id; returns its TransformId."""
    response = glue.create_ml_transform(
        Name=name,
        InputRecordTables=[{"DatabaseName": "crm", "TableName": "customers"}],
        Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "customer_id"}},
        Role="arn:aws:iam::123456789012:role/GlueFindMatches",
    )
    return str(response["TransformId"])


def handler_function(template: dict[str, Any]) -> dict[str, Any]:
    """The handler's ``AWS::Lambda::Function`` in a synthesized template."""
    (function,) = [
        resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and logical_id.startswith("GlueLabelImportProviderHandler")
    ]
    return dict(function)


def handler_asset_path(outdir: Path, stack_name: str) -> Path:
    """The folder of the handler's Lambda asset in a synthesized cloud assembly."""
    template = json.loads((outdir / f"{stack_name}.template.json").read_text())
    s3_key = handler_function(template)["Properties"]["Code"]["S3Key"]
    manifest = json.loads((outdir / f"{stack_name}.assets.json").read_text())
    (source,) = [
        asset["source"]["path"]
        for asset in manifest["files"].values()
        if any(d["objectKey"] == s3_key for d in asset["destinations"].values())
    ]
    return outdir / str(source)


def props(
    transform_id: str,
    path: str = f"s3://{BUCKET}/round-1.csv",
    *,
    replace: bool = False,
    timeout: int = 3600,
) -> dict[str, Any]:
    """The properties of a Custom::GlueImportLabels resource."""
    return {"TransformId": transform_id, "InputS3Path": path, "ReplaceAllLabels": replace, "ServiceTimeout": timeout}


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
