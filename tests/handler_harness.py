"""What the handler tests need around the handler: CloudFormation events and a Lambda context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Labels/5b6e1a40-0a6b-11ef-9b7e-0a1b2c3d4e5f"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Labels-GlueLabelImportHandler"
SECRET = "X-Amz-Signature=0123456789abcdef-presigned-secret"


def cfn_event(
    request_type: str,
    properties: dict[str, Any],
    *,
    response_base: str = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
    logical_id: str = "Labels",
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A CloudFormation custom-resource request, with every property a string as CFN sends it."""
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": FUNCTION_ARN,
        "ResponseURL": f"{response_base}/{request_id}?{SECRET}",
        "StackId": STACK_ID,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": "Custom::GlueImportLabels",
        "ResourceProperties": {"ServiceToken": FUNCTION_ARN, **{k: _cfn_string(v) for k, v in properties.items()}},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = {k: _cfn_string(v) for k, v in old_properties.items()}
    return event


def _cfn_string(value: Any) -> str:
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
