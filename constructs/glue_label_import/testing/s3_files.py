"""Label files and labeling sets in moto's S3, read and written as Glue's task runs do.

An import reads its label file as the transform's role; a labeling-set generation works as Glue's
Spark job does (it lists its output folder, writes a temporary file, reads it back and deletes it),
then writes CSV part files; an export writes the transform's labels out the same way.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from moto.glue.exceptions import InvalidInputException
from moto.glue.models import GlueBackend
from moto.s3.exceptions import MissingBucket, MissingKey
from moto.s3.models import s3_backends

from .control import glue_ml
from .iam import transform_role_denial
from .rules import LABEL_FILE_LIMIT_BYTES, LabelFileTooLargeException, check_region, parse_s3_uri

__all__ = ["LABELING_SETS", "PART_FILES", "ROWS_PER_SET"]

LABELING_SETS = 3
"""How many labeling sets a labeling-set generation writes."""
ROWS_PER_SET = 10
PART_FILES = 2
"""How many CSV part files a generation or an export writes (and one empty part besides)."""


def label_rows(backend: GlueBackend, input_s3_path: str, role_arn: str) -> list[dict[str, str]] | None:
    """The data rows of a CSV label file in moto's S3 (blank lines skipped), read as the transform's
    role (``role_arn``) and refused as Glue refuses it.

    :raises InvalidInputException: the file cannot be read (by the role, with ``enforced_iam``), is in
        another region or is empty.
    :raises LabelFileTooLargeException: the file is over ``LABEL_FILE_LIMIT_BYTES``.
    Without ``check_s3_objects``, a file that cannot be read is None and nothing is refused.
    """
    bucket_name, key = parse_s3_uri(input_s3_path)
    s3 = s3_backends[backend.account_id][backend.partition]
    denial = transform_role_denial(backend.account_id, role_arn, "s3:GetObject", f"arn:aws:s3:::{bucket_name}/{key}")
    if denial is not None:
        raise InvalidInputException(
            "StartImportLabelsTaskRun", f"Cannot access the label file at {input_s3_path}. {denial}"
        )
    try:
        bucket = s3.get_bucket(bucket_name)
        label_file = s3.get_object(bucket_name, key)
        if label_file is None:
            raise MissingKey(key=key)
    except (MissingBucket, MissingKey) as error:
        if not glue_ml.check_s3_objects:
            return None
        message = f"Cannot access the label file at {input_s3_path}. {error.message}"
        raise InvalidInputException("StartImportLabelsTaskRun", message) from error
    if glue_ml.check_s3_objects:
        check_region(backend, bucket, "StartImportLabelsTaskRun")
        if label_file.size == 0:
            raise InvalidInputException("StartImportLabelsTaskRun", "Invalid label file of size 0.")
        if label_file.size > LABEL_FILE_LIMIT_BYTES:
            raise LabelFileTooLargeException()
    rows = csv.DictReader(io.StringIO(label_file.value.decode("utf-8-sig")))
    return [dict(row) for row in rows if any((cell or "").strip() for cell in row.values())]


def labeling_set_rows(columns: list[str]) -> list[dict[str, str]]:
    """What a generation writes: ``LABELING_SETS`` sets of ``ROWS_PER_SET`` rows, each to label."""
    return [
        {"labeling_set_id": f"lset-{n}", "label": "", **{c: f"{c}-{n}-{i}" for c in columns}}
        for n in range(1, LABELING_SETS + 1)
        for i in range(ROWS_PER_SET)
    ]


def generation_denial(backend: GlueBackend, role_arn: str, bucket: str, prefix: str) -> str | None:
    """Why a generation into s3://bucket/prefix fails as the transform's role (``role_arn``); None when
    its Spark job may do all it does: list the output folder, write a temporary file under it, read it
    back and delete it, then write the parts."""
    folder = prefix if prefix.endswith("/") else prefix + "/"
    temporary = f"arn:aws:s3:::{bucket}/{folder}_temporary/0/part-00000.csv"
    accesses = [
        ("s3:ListBucket", f"arn:aws:s3:::{bucket}"),
        *((action, temporary) for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject")),
        *(("s3:PutObject", f"arn:aws:s3:::{bucket}/{folder}part-{part:05d}.csv") for part in range(PART_FILES + 1)),
    ]
    for action, resource in accesses:
        denial = transform_role_denial(backend.account_id, role_arn, action, resource)
        if denial is not None:
            return denial
    return None


def check_export_bucket(backend: GlueBackend, bucket: str) -> None:
    """Refuse, as Glue does, an export into a bucket of another region (a missing bucket is not refused)."""
    s3 = s3_backends[backend.account_id][backend.partition]
    if bucket in s3.buckets:
        check_region(backend, s3.get_bucket(bucket), "StartExportLabelsTaskRun")


def write_parts(backend: GlueBackend, bucket: str, prefix: str, header: list[str], rows: list[dict[str, Any]]) -> None:
    """Write `rows` as CSV part files under s3://bucket/prefix, as Glue's Spark jobs do, plus an empty part."""
    folder = prefix if prefix.endswith("/") else prefix + "/"
    s3 = s3_backends[backend.account_id][backend.partition]
    for part in range(PART_FILES):
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[part::PART_FILES])
        s3.put_object(bucket, f"{folder}part-{part:05d}.csv", text.getvalue().encode())
    s3.put_object(bucket, f"{folder}part-{PART_FILES:05d}.csv", b"")
