"""Glue's rules that the construct (at synth), the command line and the handler (at deploy) share.

Pure: no boto3, crhelper or aws_cdk, so the Lambda asset carries it and synth imports it as
``glue_label_import._handler.rules``. It holds a label file's first columns and the comparison of
columns, ``s3://`` paths, the TransformId rule, the statuses of a Glue ML task run and the paging
of GetMLTaskRuns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import count
from typing import Any

LABELING_SET_ID_COLUMN = "labeling_set_id"
"""The column that groups rows into labeling sets."""

LABEL_COLUMN = "label"
"""The column whose equal values, within one labeling set, mark rows that match."""

LABEL_FILE_COLUMNS = (LABELING_SET_ID_COLUMN, LABEL_COLUMN)
"""The first two columns of every label file Glue imports ("The first two columns (labeling_set_id, label) are
required"), besides the data's columns."""

MAX_TRANSFORM_ID_LENGTH = 255
"""The longest TransformId Glue accepts."""

FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT"})
"""Statuses a Glue ML task run ends in."""

IN_FLIGHT_STATUSES = frozenset({"STARTING", "RUNNING"})
"""Statuses of a Glue ML task run that has not ended (STOPPING is on its way to STOPPED)."""

MAX_SHOWN_VALUE = 120
"""The longest value an error message shows in full."""

_BUCKET_NAME = re.compile(r"(?!\d{1,3}(\.\d{1,3}){3}$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def shown(value: Any) -> str:
    """The value as a message shows it: short enough that the name before it survives 256 characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else f"{text[: MAX_SHOWN_VALUE - 4]}...{text[-1]}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key`` (the key may be a prefix, or empty); check it first with
    `s3_uri_problem` or `s3_prefix_problem`."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def s3_prefix_problem(uri: str) -> str | None:
    """Say why `uri` is not an `s3://bucket/` or `s3://bucket/prefix` with a valid bucket name, or None."""
    if not uri.startswith("s3://"):
        return "must start with s3://"
    bucket = split_s3_uri(uri)[0]
    if not _BUCKET_NAME.fullmatch(bucket):
        return f"bucket name {shown(bucket)} is not a valid S3 bucket name"
    return None


def s3_uri_problem(uri: str) -> str | None:
    """Say why `uri` is not an `s3://bucket/key` with a valid bucket name and a key, or None."""
    problem = s3_prefix_problem(uri)
    if problem is None and not split_s3_uri(uri)[1]:
        return "has no object key after the bucket name"
    return problem


def transform_id_problem(transform_id: str) -> str | None:
    """Say why `transform_id` cannot be a Glue TransformId, or None."""
    if not 1 <= len(transform_id) <= MAX_TRANSFORM_ID_LENGTH:
        return f"must be 1 to {MAX_TRANSFORM_ID_LENGTH} characters long, got {len(transform_id)}"
    return None


def column_mismatch(found: Iterable[str], expected: Iterable[str], *, elsewhere: str) -> str | None:
    """`missing a, b; not in <elsewhere> c`: the columns that differ, or None when they are the same.

    One rule for the handler (against GetMLTransform's Schema, at deploy) and the construct (against a
    `glue.CfnTable` of the app, at synth). Names are compared in lower case, as Glue's catalog keeps them.
    """
    found_names = {column.lower() for column in found}
    expected_names = {column.lower() for column in expected}
    problems = [
        f"{what} {', '.join(sorted(columns))}"
        for what, columns in (
            ("missing", expected_names - found_names),
            (f"not in {elsewhere}", found_names - expected_names),
        )
        if columns
    ]
    return "; ".join(problems) or None


TASK_RUNS_PAGE_SIZE = 100
"""Task runs asked for per GetMLTaskRuns call (Glue's maximum)."""


def newest_task_runs(
    get_ml_task_runs: Callable[..., Mapping[str, Any]],
    *,
    max_pages: int | None = None,
    go_on: Callable[[], bool] = lambda: True,
    **criteria: Any,
) -> Iterator[dict[str, Any]]:
    """The task runs GetMLTaskRuns lists for `criteria` (TransformId, Filter), newest first, page after
    page (``NextToken``: botocore has no paginator for it); at most `max_pages` pages, and no next
    page once `go_on()` says no."""
    token: str | None = None
    for page in count(1):
        paging = {"NextToken": token} if token else {}
        sort = {"Column": "STARTED", "SortDirection": "DESCENDING"}
        response = get_ml_task_runs(**criteria, Sort=sort, MaxResults=TASK_RUNS_PAGE_SIZE, **paging)
        yield from response.get("TaskRuns", [])
        token = response.get("NextToken")
        if not token or page == max_pages or not go_on():
            return
