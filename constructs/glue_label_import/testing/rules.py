"""Glue's refusals, as the emulation makes them: its errors, its limits and the checks at start."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from moto.glue.exceptions import GlueClientError, InvalidInputException
from moto.glue.models import GlueBackend, glue_backends

from glue_label_import._handler.rules import IN_FLIGHT_STATUSES

from .control import glue_ml
from .runs import task_runs_of

__all__ = [
    "ACCOUNT_CONCURRENT_RUNS",
    "LABEL_FILE_LIMIT_BYTES",
    "MAX_TAGS",
    "TRANSFORM_CONCURRENT_RUNS",
    "AccessDeniedException",
    "ConcurrentRunsExceededException",
    "LabelFileTooLargeException",
    "MLTransformNotReadyException",
]

LABEL_FILE_LIMIT_BYTES = 10 * 1024 * 1024
"""Glue's limit on the size of a label file to import (10 MB)."""
TRANSFORM_CONCURRENT_RUNS = 3
"""Glue's limit on task runs in flight on one transform, for evaluations and labeling-set generations."""
ACCOUNT_CONCURRENT_RUNS = 30
"""Glue's limit on ML task runs in flight in an account, for evaluations and labeling-set generations."""
MAX_TAGS = 50
"""Glue's limit of tags per resource: TagResource past it is refused with InvalidInputException."""

_S3_URI = re.compile(r"s3://(?P<bucket>[^/]+)/(?P<key>.+)")


class MLTransformNotReadyException(GlueClientError):
    """Glue's answer to an evaluation of a transform that has no labels yet."""

    def __init__(self, message: str) -> None:
        super().__init__("MLTransformNotReadyException", message)


class ConcurrentRunsExceededException(GlueClientError):
    """Glue's answer to a start beyond the task runs a transform or an account may have in flight."""

    def __init__(self, message: str) -> None:
        super().__init__("ConcurrentRunsExceededException", message)


class LabelFileTooLargeException(GlueClientError):
    """Glue's answer to an import of a label file over ``LABEL_FILE_LIMIT_BYTES``."""

    def __init__(self) -> None:
        limit_mb = LABEL_FILE_LIMIT_BYTES // (1024 * 1024)
        super().__init__("ResourceNumberLimitExceededException", f"Label file has exceeded the limit of {limit_mb} MB.")


class AccessDeniedException(GlueClientError):
    """Glue's answer to a call its caller's IAM policies do not allow."""

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://bucket/key`` path; refused with InvalidInputException otherwise."""
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise InvalidInputException(
            "StartImportLabelsTaskRun",
            f"InputS3Path {uri} is not a valid S3 path of the form s3://bucket/key",
        )
    return match["bucket"], match["key"]


def check_region(backend: GlueBackend, bucket: Any, operation: str) -> None:
    """Refuse, as Glue does, an S3 path in a bucket of another region than the transform's."""
    if bucket.region_name != backend.region_name:
        raise InvalidInputException(
            operation,
            "S3 path provided is not in the same region as transform. "
            f"Expecting region - {backend.region_name}, but got - {bucket.region_name}.",
        )


def check_capacity(backend: GlueBackend, transform_id: str) -> None:
    """Refuse an evaluation or a labeling-set generation as Glue does when the transform or the account
    has no room. Runs of every type count; botocore's model gives imports and exports no such refusal."""
    now = glue_ml.now()
    in_flight = [
        run
        for regional in glue_backends[backend.account_id].values()
        for run in task_runs_of(regional).values()
        if run.status_at(now) in IN_FLIGHT_STATUSES | {"STOPPING"}
    ]
    on_transform = [run for run in in_flight if run.transform_id == transform_id]
    if len(on_transform) >= TRANSFORM_CONCURRENT_RUNS:
        raise ConcurrentRunsExceededException(
            f"ML Task Runs count {len(on_transform) + 1} has exceeded the transform limit of "
            f"{TRANSFORM_CONCURRENT_RUNS} task runs."
        )
    if len(in_flight) >= ACCOUNT_CONCURRENT_RUNS:
        raise ConcurrentRunsExceededException(
            f"ML Task Runs count {len(in_flight) + 1} has exceeded the limit of {ACCOUNT_CONCURRENT_RUNS} task runs."
        )


def limiting_tags(tag_resource: Callable[..., None]) -> Callable[..., None]:
    """TagResource refused with InvalidInputException past MAX_TAGS tags on the resource, as Glue does."""

    @functools.wraps(tag_resource)
    def wrapper(self: GlueBackend, resource_arn: str, tags: dict[str, str] | None) -> None:
        current = self.get_tags(resource_arn) or {}
        if len({**current, **(tags or {})}) > MAX_TAGS:
            raise InvalidInputException("TagResource", f"a resource may have at most {MAX_TAGS} tags")
        tag_resource(self, resource_arn, tags)

    return wrapper
