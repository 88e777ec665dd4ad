"""The task-run model of the Glue ML emulation: runs whose status is a function of the clock.

A run has no background activity: its status is derived, whenever it is read, from its start time
(``STARTING`` -> ``RUNNING`` -> final status, or ``STOPPING`` -> ``STOPPED`` once cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from glue_label_import._handler.rules import FINAL_STATUSES

OPERATIONS = (
    "StartImportLabelsTaskRun",
    "StartMLEvaluationTaskRun",
    "StartMLLabelingSetGenerationTaskRun",
    "StartExportLabelsTaskRun",
    "GetMLTaskRun",
    "GetMLTaskRuns",
    "CancelMLTaskRun",
)
SCRIPTABLE_FINAL_STATUSES = FINAL_STATUSES - {"STOPPED"}
TASK_RUN_TYPES = ("IMPORT_LABELS", "EVALUATION", "LABELING_SET_GENERATION", "EXPORT_LABELS")
LOG_GROUP_NAME = "/aws-glue/ml-transforms"

DEFAULT_METRICS = {"F1": 0.9, "Precision": 0.92, "Recall": 0.88, "AreaUnderPRCurve": 0.91}
"""The FindMatchesMetrics an evaluation run writes when the test scripts none."""


@dataclass(frozen=True)
class RunScript:
    """How a started run behaves: phase durations (seconds) and outcome."""

    starting_seconds: float
    running_seconds: float
    final_status: str = "SUCCEEDED"
    error_string: str | None = None
    metrics: dict[str, Any] | None = None  # what an evaluation run writes to the transform


@dataclass
class FakeMLTaskRun:
    """A task run whose status is a function of the clock, and what it does to its transform when it succeeds."""

    transform_id: str
    task_run_id: str
    task_run_type: str  # IMPORT_LABELS, EVALUATION, ...
    properties: dict[str, Any]  # its TaskRunProperties besides TaskType
    started_at: float
    script: RunScript
    effect: Callable[[Any], None]  # applied once to the transform when the run is seen SUCCEEDED
    cancelled_at: float | None = None
    stopping_seconds: float = 0.0
    applied: bool = False

    def cancel(self, now: float, stopping_seconds: float) -> None:
        self.cancelled_at = now
        self.stopping_seconds = stopping_seconds

    def timeline(self) -> list[tuple[str, float]]:
        """The run's statuses, each with the clock time it begins."""
        running_from = self.started_at + self.script.starting_seconds
        phases = [
            ("STARTING", self.started_at),
            ("RUNNING", running_from),
            (self.script.final_status, running_from + self.script.running_seconds),
        ]
        if self.cancelled_at is None:
            return phases
        stopped_at = self.cancelled_at + self.stopping_seconds
        return [phase for phase in phases if phase[1] <= self.cancelled_at] + [
            ("STOPPING", self.cancelled_at),
            ("STOPPED", stopped_at),
        ]

    def phase_at(self, now: float) -> tuple[str, float]:
        """The status at ``now`` and the clock time it began."""
        timeline = self.timeline()
        return next((p for p in reversed(timeline) if p[1] <= now), timeline[0])

    def status_at(self, now: float) -> str:
        return self.phase_at(now)[0]

    def as_dict(self, now: float) -> dict[str, Any]:
        """The run as a ``TaskRun`` / ``GetMLTaskRunResponse`` structure."""
        status, since = self.phase_at(now)
        finished = status in FINAL_STATUSES
        result: dict[str, Any] = {
            "TransformId": self.transform_id,
            "TaskRunId": self.task_run_id,
            "Status": status,
            "LogGroupName": LOG_GROUP_NAME,
            "Properties": {"TaskType": self.task_run_type, **self.properties},
            "StartedOn": _timestamp(self.started_at),
            "LastModifiedOn": _timestamp(since),
            "ExecutionTime": int((since if finished else now) - self.started_at),
        }
        if finished:
            result["CompletedOn"] = _timestamp(since)
        if status == "FAILED" and self.script.error_string is not None:
            result["ErrorString"] = self.script.error_string
        return result


def matches(run: FakeMLTaskRun, criteria: dict[str, Any], now: float) -> bool:
    """Whether ``run`` satisfies a ``TaskRunFilterCriteria`` structure."""
    return (
        criteria.get("TaskRunType") in (None, run.task_run_type)
        and criteria.get("Status") in (None, run.status_at(now))
        and run.started_at < criteria.get("StartedBefore", float("inf"))
        and run.started_at > criteria.get("StartedAfter", float("-inf"))
    )


_SORT_KEYS: dict[str, Callable[[FakeMLTaskRun, float], Any]] = {
    "TASK_RUN_TYPE": lambda run, now: run.task_run_type,
    "STATUS": lambda run, now: run.status_at(now),
    "STARTED": lambda run, now: run.started_at,
}


def sorted_runs(runs: list[FakeMLTaskRun], criteria: dict[str, Any], now: float) -> list[FakeMLTaskRun]:
    """Order runs by a ``TaskRunSortCriteria`` structure; newest first by default."""
    newest_first = sorted(runs, key=lambda run: run.started_at, reverse=True)
    if not criteria:
        return newest_first
    sort_key = _SORT_KEYS[criteria["Column"]]
    return sorted(
        newest_first,
        key=lambda run: sort_key(run, now),
        reverse=criteria["SortDirection"] == "DESCENDING",
    )


def _timestamp(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)


def task_runs_of(backend: Any) -> dict[str, FakeMLTaskRun]:
    """The task runs of a moto ``GlueBackend`` (one account and region), by id; created on first use
    (``GlueBackend.__init__`` knows no task runs)."""
    return cast(dict[str, FakeMLTaskRun], backend.__dict__.setdefault("_ml_task_runs", {}))
