"""Custom::GlueImportLabels: a label import (StartImportLabelsTaskRun) as a task of the engine."""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from .answers import TaskFailed, fit_reason
from .deadline import within
from .glue_runs import NOT_FOUND, Run, TaskRuns
from .request import checked_string, parse_boolean, service_timeout_s, transform_id
from .retries import CALL_DEADLINE_S, error_code
from .rules import LABEL_FILE_COLUMNS, column_mismatch, s3_uri_problem, split_s3_uri
from .task import OwnAnswers, Task

LOGGER = logging.getLogger(__name__)

LOOKUP_S = 5.0  # how long the lookup of the label count may retry
HEADER_BYTES = 65536  # the header of a label file is in its first 64 KiB, or the file is not one to check


@dataclass(frozen=True)
class ImportLabels(Task):
    """One label import, as the resource's properties describe it."""

    task_run_type: ClassVar[str] = "IMPORT_LABELS"
    start_operation: ClassVar[str] = "StartImportLabelsTaskRun"

    transform_id: str
    input_s3_path: str
    replace_all_labels: bool
    service_timeout_s: int

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> ImportLabels:
        """Read and check TransformId, InputS3Path, ReplaceAllLabels and ServiceTimeout."""
        return cls(
            transform_id=transform_id(properties),
            input_s3_path=checked_string(properties, "InputS3Path", s3_uri_problem),
            replace_all_labels=parse_boolean("ReplaceAllLabels", properties.get("ReplaceAllLabels", False)),
            service_timeout_s=service_timeout_s(properties),
        )

    def fits(self, run: Run) -> bool:
        """An import of this file in this mode: the path AND Replace match."""
        path, replace = _import_of(run)
        return path == self.input_s3_path and replace == self.replace_all_labels

    def start(self, glue: Any, now: float) -> Any:
        """StartImportLabelsTaskRun of the file."""
        response = glue.start_import_labels_task_run(
            TransformId=self.transform_id,
            InputS3Path=self.input_s3_path,
            ReplaceAllLabels=self.replace_all_labels,
        )
        return response.get("TaskRunId")

    def answer_done(
        self, runs: TaskRuns, event: Mapping[str, Any], own: OwnAnswers, *, gated: bool, retry_until: float
    ) -> dict[str, Any] | None:
        """The Data of this resource's own import that already put this file's labels on the transform, if any.

        Walking the SUCCEEDED imports newest first: a replacing request is done when the newest is
        a replacing import of this file by this resource; an appending request when this resource
        imported this file at or after the newest replacing import. Another resource's import of the
        same file is never answered: the request imports the file itself.
        """
        mine = own.run_ids()
        if not mine:
            return None
        for run in runs.history(self.transform_id, self.task_run_type, status="SUCCEEDED", retry_until=retry_until):
            path, replace = _import_of(run)
            if self.replace_all_labels:
                done = replace and path == self.input_s3_path and run["TaskRunId"] in mine
                return self.outputs(runs, run, {"Gated": gated}) if done else None
            if path == self.input_s3_path and run["TaskRunId"] in mine:
                return self.outputs(runs, run, {"Gated": gated})
            if replace:
                return None
        return None

    def check(self, runs: TaskRuns, s3: Any, event: Mapping[str, Any], *, retry_until: float) -> dict[str, Any]:
        """The label file starts with labeling_set_id,label, and its columns are the transform's schema plus those.

        Answers in about a second what a failed task run would say minutes later. When the header
        or the schema cannot be read, the log says so and Glue decides.
        """
        header = _header(s3, self.input_s3_path)
        if header is not None:
            _check_first_columns(header, self.input_s3_path)
        try:
            schema = runs.transform(self.transform_id, retry_until=retry_until).get("Schema") or []
        except (BotoCoreError, ClientError) as error:
            if error_code(error) == NOT_FOUND:  # no such transform: said before any start
                raise
            LOGGER.warning({"action": "column check", "skipped": f"no transform schema: {error_code(error)}"})
            return {}
        if not schema:
            LOGGER.info({"action": "column check", "skipped": "no schema"})
            return {}
        if header is None:
            LOGGER.info({"action": "column check", "skipped": "no header"})
            return {}
        mismatch = column_mismatch(
            (column.strip() for column in header),
            [*LABEL_FILE_COLUMNS, *(str(column.get("Name", "")) for column in schema)],
            elsewhere="the transform",
        )
        if mismatch:
            head = "label file columns do not match the transform's schema: "
            raise TaskFailed(fit_reason(head, mismatch, f" ({self.input_s3_path})"))
        return {}

    def outputs(self, runs: TaskRuns, run: Run, before: Mapping[str, Any]) -> dict[str, Any]:
        """TaskRunId and, when Glue tells it as a number, the transform's LabelCount."""
        outputs: dict[str, Any] = {"TaskRunId": run["TaskRunId"]}
        log = {"action": "label count", "TransformId": self.transform_id, "answer": "without LabelCount"}
        try:
            count: Any = runs.transform(self.transform_id, retry_until=runs.clock.now() + LOOKUP_S).get("LabelCount")
        except (BotoCoreError, ClientError) as error:  # the import succeeded: its answer goes out without the count
            LOGGER.warning({**log, "error": f"{type(error).__name__}: {error_code(error)}"})
            return outputs
        if count is not None:
            try:
                outputs["LabelCount"] = int(count)
            except (TypeError, ValueError, OverflowError) as error:  # Glue told no whole number
                LOGGER.warning({**log, "error": f"{type(error).__name__}: {error}"})
        return outputs


def _import_of(run: Run) -> tuple[str | None, bool]:
    """The InputS3Path and Replace of an import run, as GetMLTaskRuns reports them."""
    properties = run.get("Properties", {}).get("ImportLabelsTaskRunProperties", {})
    return properties.get("InputS3Path"), bool(properties.get("Replace", False))


def _check_first_columns(header: list[str], s3_path: str) -> None:
    """Refuse a header that does not start with labeling_set_id,label: Glue requires them as the first two columns."""
    first = [column.strip() for column in header[: len(LABEL_FILE_COLUMNS)]]
    if [column.lower() for column in first] != list(LABEL_FILE_COLUMNS):
        head = (
            f"the label file's first two columns must be {','.join(LABEL_FILE_COLUMNS)} (Glue's rule); "
            "its header starts with "
        )
        raise TaskFailed(fit_reason(head, ",".join(first), f" ({s3_path})"))


def _read_head(s3: Any, bucket: str, key: str) -> bytes:
    """GetObject of the file's first HEADER_BYTES, its body read in full."""
    body: bytes = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{HEADER_BYTES - 1}")["Body"].read()
    return body


def _header(s3: Any, s3_path: str) -> list[str] | None:
    """The column names in the first line of the label file, or None (logged) when they cannot be read."""
    bucket, key = split_s3_uri(s3_path)
    try:
        head = within(partial(_read_head, s3, bucket, key), CALL_DEADLINE_S)  # a trickling body cannot hold it
    except (BotoCoreError, ClientError) as error:
        LOGGER.warning({"action": "column check", "skipped": f"label file header not read: {error_code(error)}"})
        return None
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    first_line, newline, _ = text.partition("\n")
    if not newline and len(head) >= HEADER_BYTES:
        LOGGER.warning({"action": "column check", "skipped": f"no header line in the first {HEADER_BYTES} bytes"})
        return None
    return next(csv.reader([first_line.rstrip("\r")]), None)
