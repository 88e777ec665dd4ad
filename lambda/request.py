"""What CloudFormation asks for: the custom resource's properties, parsed and checked.

CloudFormation hands every property over as a string, so `ReplaceAllLabels` arrives as
"true" or "false" and `ServiceTimeout` as "3600". Everything is checked before any AWS call,
and a bad value is reported with the property's name and the value itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_TRANSFORM_ID_LENGTH = 255
DEFAULT_SERVICE_TIMEOUT_S = 3600
MAX_SHOWN_VALUE = 120
_BUCKET_NAME = re.compile(r"(?!\d{1,3}(\.\d{1,3}){3}$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BOOLEANS = {"true": True, "false": False}


class InvalidProperty(ValueError):
    """A property of the custom resource that Glue would refuse or that makes no sense."""


def s3_uri_problem(uri: str) -> str | None:
    """Say why `uri` is not an `s3://bucket/key` with a valid bucket name and a key, or None."""
    if not uri.startswith("s3://"):
        return "must start with s3://"
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not _BUCKET_NAME.fullmatch(bucket):
        return f"bucket name {bucket!r} is not a valid S3 bucket name"
    if not key:
        return "has no object key after the bucket name"
    return None


def transform_id_problem(transform_id: str) -> str | None:
    """Say why `transform_id` cannot be a Glue TransformId, or None."""
    if not 1 <= len(transform_id) <= MAX_TRANSFORM_ID_LENGTH:
        return f"must be 1 to {MAX_TRANSFORM_ID_LENGTH} characters long, got {len(transform_id)}"
    return None


@dataclass(frozen=True)
class ImportRequest:
    """One label import, as the resource's properties describe it."""

    transform_id: str
    input_s3_path: str
    replace_all_labels: bool
    service_timeout_s: int

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> ImportRequest:
        """Read and check the ResourceProperties of a CloudFormation request."""
        return cls(
            transform_id=_checked_string(properties, "TransformId", transform_id_problem),
            input_s3_path=_checked_string(properties, "InputS3Path", s3_uri_problem),
            replace_all_labels=_parse_boolean("ReplaceAllLabels", properties.get("ReplaceAllLabels", False)),
            service_timeout_s=_parse_seconds(
                "ServiceTimeout", properties.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT_S)
            ),
        )


def physical_id(transform_id: str, logical_id: str) -> str:
    """A short physical id that is the same for every Create of this resource on this transform."""
    digest = hashlib.sha256(f"{transform_id}/{logical_id}".encode()).hexdigest()[:16]
    return f"{logical_id[:40]}-{digest}"


def _checked_string(properties: Mapping[str, Any], name: str, problem_of: Callable[[str], str | None]) -> str:
    value = properties.get(name)
    problem = problem_of(value) if isinstance(value, str) else "must be a string"
    if problem or not isinstance(value, str):
        raise InvalidProperty(f"{name} {_shown(value)} {problem}")
    return value


def _parse_boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    raise InvalidProperty(f"{name} {_shown(value)} must be true or false")


def _parse_seconds(name: str, value: Any) -> int:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise InvalidProperty(f"{name} {_shown(value)} must be a whole number of seconds") from None
    if seconds < 1:
        raise InvalidProperty(f"{name} {_shown(value)} must be at least 1 second")
    return seconds


def _shown(value: Any) -> str:
    """The value as a reason shows it: short enough that the property's name survives 256 characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else f"{text[: MAX_SHOWN_VALUE - 4]}...{text[-1]}"
