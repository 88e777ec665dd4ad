"""Glue's CSV output in S3: the part files a task run writes into a folder, merged into one file.

A labeling-set generation (StartMLLabelingSetGenerationTaskRun) and a label export
(StartExportLabelsTaskRun) write their rows as the part files of a Spark job into the folder
they are given: several CSV files with the same header, some of them empty. :func:`merge_parts`
downloads them and writes one CSV file with one header.

The parts are the objects directly in the folder (not in its subfolders) whose name does not
start with ``_`` or ``.`` (Spark's ``_SUCCESS`` marker, checksums), with or without a ``.csv``
extension, in key order. Empty ones are skipped. This module calls an S3 client it is given
and never imports boto3.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from glue_label_import._handler.rules import LABEL_COLUMN, LABELING_SET_ID_COLUMN, s3_uri_problem, split_s3_uri
from glue_label_import.label_file import counted
from glue_label_import.staging import replaced_whole

PAGE_SIZE = 1000
"""Keys per ListObjectsV2 page (S3's maximum)."""


class OutputError(ValueError):
    """Glue's output cannot be merged into a label file: the message names the object and line."""


@dataclass(frozen=True)
class S3Folder:
    """A folder of an S3 bucket: ``prefix`` ends with ``/``."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Folder:
        """Read ``s3://bucket/folder``; a prefix without a trailing ``/`` is taken as a folder.

        :raises ValueError: ``url`` is not ``s3://bucket/prefix`` with a valid bucket name.
        """
        problem = s3_uri_problem(url)
        if problem:
            raise ValueError(f"S3 path {url!r} {problem}; expected s3://bucket/folder/")
        bucket, prefix = split_s3_uri(url)
        return cls(bucket, prefix if prefix.endswith("/") else prefix + "/")

    def subfolder(self, name: str) -> S3Folder:
        """The folder ``name`` in this one."""
        return S3Folder(self.bucket, f"{self.prefix}{name}/")

    def url(self, key: str | None = None) -> str:
        """``s3://bucket/prefix``, or of the object ``key`` when given."""
        return f"s3://{self.bucket}/{self.prefix if key is None else key}"


@dataclass(frozen=True)
class MergedParts:
    """What :func:`merge_parts` wrote: counts of its source objects, rows and labeling sets."""

    folder: S3Folder
    files: int
    empty: int
    rows: int
    labeling_sets: int

    def summary(self) -> str:
        """``30 rows in 3 labeling sets from 2 files (1 empty skipped) under s3://...``."""
        empty = f" ({self.empty} empty skipped)" if self.empty else ""
        return (
            f"{counted(self.rows, 'row')} in {counted(self.labeling_sets, 'labeling set')} "
            f"from {counted(self.files, 'file')}{empty} under {self.folder.url()}"
        )


def merge_parts(s3: Any, folder: S3Folder, out: Path) -> MergedParts:
    """Download the CSV parts in ``folder`` with the S3 client ``s3`` and write them to ``out`` as one file.

    ``out`` gets one header and every row, with ``\\n`` line endings; it is written to a
    temporary file next to it, then renamed, so it is replaced whole or not at all. Every part
    must have the header of the first, with a ``labeling_set_id`` and a ``label`` column, and
    every row a ``labeling_set_id`` (the ``label`` may be empty: a set still to label).

    :raises OutputError: no non-empty part in ``folder``, or a part that breaks the rules above.
    :raises botocore.exceptions.ClientError: from S3, as it comes.
    """
    keys = list(_part_keys(s3, folder))
    with replaced_whole(out) as text:
        merged = _write_parts(s3, folder, keys, text)
    return merged


def _part_keys(s3: Any, folder: S3Folder) -> Iterator[tuple[str, int]]:
    """Yield the key and size of each part in ``folder``, in key order, through every page of the listing."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=folder.bucket, Prefix=folder.prefix, Delimiter="/", PaginationConfig={"PageSize": PAGE_SIZE}
    )
    subfolders: list[str] = []
    found = False
    for page in pages:
        subfolders.extend(common["Prefix"] for common in page.get("CommonPrefixes", []))
        for entry in page.get("Contents", []):
            name = entry["Key"][len(folder.prefix) :]
            if name and not name.startswith(("_", ".")):
                found = True
                yield entry["Key"], entry["Size"]
    if not found:
        inside = f"; it holds the folders {', '.join(folder.url(key) for key in subfolders)}" if subfolders else ""
        raise OutputError(f"no CSV files in {folder.url()}{inside}")


def _write_parts(s3: Any, folder: S3Folder, keys: list[tuple[str, int]], text: TextIO) -> MergedParts:
    """Write the parts ``keys`` of ``folder`` to ``text`` as one CSV file; return what was written."""
    writer = csv.writer(text, lineterminator="\n")
    header: tuple[list[str], str] | None = None  # the header and the part it was first read in
    files = empty = rows = 0
    set_ids: set[str] = set()
    for key, size in keys:
        records = _records(s3, folder, key) if size else iter(())
        first = next(records, None)
        if first is None:
            empty += 1
            continue
        part_header = first[1]
        if header is None:
            _check_header(part_header, folder.url(key))
            header = (part_header, key)
            writer.writerow(part_header)
        elif part_header != header[0]:
            raise OutputError(
                f"{folder.url(key)} has the header {','.join(part_header)}, "
                f"not {','.join(header[0])} as {folder.url(header[1])}"
            )
        set_index = part_header.index(LABELING_SET_ID_COLUMN)
        for line, record in records:
            where = f"{folder.url(key)} line {line}"
            if len(record) != len(part_header):
                raise OutputError(f"{where}: expected {len(part_header)} fields, got {len(record)}")
            if not record[set_index].strip():
                raise OutputError(f"{where}: empty {LABELING_SET_ID_COLUMN!r}")
            writer.writerow(record)
            set_ids.add(record[set_index])
            rows += 1
        files += 1
    if header is None:
        raise OutputError(f"no CSV files in {folder.url()}, only {counted(empty, 'empty object')}")
    return MergedParts(folder=folder, files=files, empty=empty, rows=rows, labeling_sets=len(set_ids))


def _records(s3: Any, folder: S3Folder, key: str) -> Iterator[tuple[int, list[str]]]:
    """Yield the non-blank CSV records of the object ``key``, each with the line it starts on."""
    body = s3.get_object(Bucket=folder.bucket, Key=key)["Body"].read()
    try:
        content = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise OutputError(f"{folder.url(key)} is not UTF-8 text: {error}") from error
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise OutputError(f"{folder.url(key)} line {reader.line_num}: malformed CSV: {error}") from error
        if record:
            yield line, record


def _check_header(header: list[str], where: str) -> None:
    """Raise :class:`OutputError` if ``header`` lacks a column Glue's label files need."""
    for name in (LABELING_SET_ID_COLUMN, LABEL_COLUMN):
        if name not in header:
            raise OutputError(f"{where} has no {name!r} column; its header holds: {', '.join(header)}")
