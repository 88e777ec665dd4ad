"""A transform's label history: its imports, evaluations and labeling sets, from GetMLTaskRuns.

Used by the ``history`` command (:mod:`glue_label_import.aws_commands`). GetMLTaskRuns answers in
pages (``NextToken``; botocore has no paginator for it): every page is read, newest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ._handler.rules import newest_task_runs

TASKS = {"IMPORT_LABELS": "import", "EVALUATION": "evaluation", "LABELING_SET_GENERATION": "labeling set"}
"""The task run types of the label history, and how it names them."""

COLUMNS = ("STARTED (UTC)", "TASK", "STATUS", "TASK RUN ID", "LABELS")


@dataclass(frozen=True)
class HistoryEntry:
    """One task run of the label history."""

    started: datetime
    task: str  # import, evaluation or labeling set
    status: str
    task_run_id: str
    s3_path: str | None = None  # the file an import read, the folder a generation wrote
    replace: bool | None = None  # of an import: whether it replaced the transform's labels
    error: str | None = None  # Glue's ErrorString of a run that failed

    @classmethod
    def from_task_run(cls, run: dict[str, Any]) -> HistoryEntry | None:
        """The entry of a ``TaskRun`` of GetMLTaskRuns, or None for a run outside the label history."""
        properties = run.get("Properties") or {}
        task = TASKS.get(str(properties.get("TaskType")))
        if task is None:
            return None
        imported = properties.get("ImportLabelsTaskRunProperties") or {}
        generated = properties.get("LabelingSetGenerationTaskRunProperties") or {}
        return cls(
            started=run["StartedOn"],
            task=task,
            status=str(run.get("Status", "")),
            task_run_id=str(run["TaskRunId"]),
            s3_path=imported.get("InputS3Path") or generated.get("OutputS3Path"),
            replace=bool(imported.get("Replace")) if imported else None,
            error=run.get("ErrorString"),
        )

    def labels(self) -> str:
        """What the LABELS column shows: replace or append, and the file; the folder of a labeling set."""
        if self.task == "import":
            return f"{'replace' if self.replace else 'append'} {self.s3_path or ''}".rstrip()
        return self.s3_path or ""

    def as_json(self) -> dict[str, Any]:
        """The entry as ``--json`` prints it: only the fields its task has."""
        fields: dict[str, Any] = {
            "started": self.started.astimezone(timezone.utc).isoformat(),
            "task": self.task,
            "status": self.status,
            "task_run_id": self.task_run_id,
        }
        if self.task == "import":
            fields.update(input_s3_path=self.s3_path, replace=self.replace)
        elif self.task == "labeling set":
            fields["output_s3_path"] = self.s3_path
        if self.error:
            fields["error"] = self.error
        return fields


def label_history(glue: Any, transform_id: str) -> list[HistoryEntry]:
    """The transform's imports, evaluations and labeling sets, newest first, from every page of GetMLTaskRuns."""
    entries = (
        HistoryEntry.from_task_run(run) for run in newest_task_runs(glue.get_ml_task_runs, TransformId=transform_id)
    )
    return [entry for entry in entries if entry is not None]


def history_table(entries: list[HistoryEntry]) -> str:
    """The entries as a table with a header, columns aligned."""
    rows = [COLUMNS] + [
        (
            f"{entry.started.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}",
            entry.task,
            entry.status,
            entry.task_run_id,
            entry.labels(),
        )
        for entry in entries
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    )


def history_json(entries: list[HistoryEntry]) -> str:
    """The entries as a JSON array, newest first."""
    return json.dumps([entry.as_json() for entry in entries], indent=2)
