"""An emulation of AWS Glue FindMatches task runs on moto, for testing Glue code and stacks offline.

    pip install 'cdk-glue-label-import[testing]'

moto (5.2) models Glue ML transforms (CreateMLTransform, GetMLTransform, ...) but not their task
runs. ``install()`` adds them to moto's Glue backend, so that ``moto.mock_aws()`` and moto's
server (``moto.server.ThreadedMotoServer``, in the same process) serve them, with the request and
response shapes and error codes of botocore's Glue model:

* ``StartImportLabelsTaskRun``: checks the transform and ``InputS3Path`` (read from moto's S3);
  once the run succeeds the transform holds the file's labels (``LabelCount``; replaced or added);
* ``StartMLEvaluationTaskRun``: refused with ``MLTransformNotReadyException`` while the transform
  has no labels; once the run succeeds the transform's ``EvaluationMetrics.FindMatchesMetrics``
  are the scripted metrics (``DEFAULT_METRICS`` unless scripted);
* ``StartMLLabelingSetGenerationTaskRun``: writes CSV part files of ``LABELING_SETS`` labeling
  sets (``labeling_set_id``, an empty ``label``, the input table's columns) under its
  ``OutputS3Path`` once the run succeeds, and an empty part file;
* ``StartExportLabelsTaskRun``: writes the transform's labels back out the same way; refused with
  ``InvalidInputException`` when the transform has none;
* ``GetMLTaskRun`` / ``GetMLTaskRuns`` (``Filter``, ``Sort``, ``MaxResults``/``NextToken``
  pages) report runs with ``Properties`` as Glue does; ``CancelMLTaskRun`` moves a run in flight
  to ``STOPPING``, then ``STOPPED``;
* ``GetMLTransform`` reports ``Status`` (``NOT_READY`` until the transform has labels, then
  ``READY``), its ``EvaluationMetrics``, and its ``Schema`` (its input table's columns, when moto's
  Glue catalog has the table).

Runs have no background activity: a run's status is derived, whenever it is read, from its start
time on the clock of the module-level controller ``glue_ml`` (``STARTING`` -> ``RUNNING`` -> final
status). What a run does to its transform happens when the transform or the run is next read
after it succeeded. Through ``glue_ml`` a test sets phase durations and the clock, scripts the
next runs' outcomes and metrics (``script_next_run``), injects service errors (``fail_next``) and
reads the calls that were made (``calls``, ``calls_to``); ``reset()`` restores the defaults.

    from moto import mock_aws
    from glue_label_import.testing import glue_ml, install

    install()
    with mock_aws():
        glue_ml.reset()
        glue_ml.script_next_run(metrics={"F1": 0.71})
        ...  # your code: its Glue calls are served by moto
"""

from __future__ import annotations

import csv
import functools
import io
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, TypeVar, cast

from moto.cloudformation.models import CloudFormationBackend
from moto.core.responses import ActionResult
from moto.glue.exceptions import (
    EntityNotFoundException,
    GlueClientError,
    InvalidInputException,
)
from moto.glue.models import FakeMLTransform, GlueBackend
from moto.glue.responses import GlueResponse
from moto.moto_api._internal import mock_random
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.paginator import paginate

__all__ = [
    "DEFAULT_METRICS",
    "LABELING_SETS",
    "MAX_TAGS",
    "GlueMLTaskRuns",
    "ReplyFaults",
    "RunScript",
    "StackStatuses",
    "glue_ml",
    "install",
    "replies",
    "stacks",
]

OPERATIONS = (
    "StartImportLabelsTaskRun",
    "StartMLEvaluationTaskRun",
    "StartMLLabelingSetGenerationTaskRun",
    "StartExportLabelsTaskRun",
    "GetMLTaskRun",
    "GetMLTaskRuns",
    "CancelMLTaskRun",
)
ACTIVE_STATUSES = frozenset({"STARTING", "RUNNING"})
SCRIPTABLE_FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT"})
FINAL_STATUSES = SCRIPTABLE_FINAL_STATUSES | {"STOPPED"}
LOG_GROUP_NAME = "/aws-glue/ml-transforms"

_S3_URI = re.compile(r"s3://(?P<bucket>[^/]+)/(?P<key>.+)")
# Glue reports its modelled faults with HTTP 500; every other error is a 400.
_SERVER_ERROR_CODES = frozenset({"InternalServiceException"})

_PAGINATION_MODEL = {
    "get_ml_task_runs": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "task_run_id",
    }
}

_T = TypeVar("_T")


LABELING_SETS = 3
"""How many labeling sets a labeling-set generation writes."""
ROWS_PER_SET = 10
PART_FILES = 2
"""How many CSV part files a generation or an export writes (and one empty part besides)."""

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


class MLTransformNotReadyException(GlueClientError):
    """Glue's answer to an evaluation of a transform that has no labels yet."""

    def __init__(self, message: str) -> None:
        super().__init__("MLTransformNotReadyException", message)


class ScriptedGlueError(GlueClientError):
    """An error injected with ``GlueMLTaskRuns.fail_next``."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message)
        self.code = 500 if error_code in _SERVER_ERROR_CODES else 400


class GlueMLTaskRuns:
    """Per-process controller of the task-run operations added by ``install()``.

    Attributes tests may set directly:

    * ``clock`` -- returns the current time in epoch seconds (``time.time``);
    * ``starting_seconds``, ``running_seconds``, ``stopping_seconds`` --
      phase durations of runs that have no script;
    * ``check_s3_objects`` -- whether a run whose label file is missing from
      moto's S3 ends ``FAILED`` (otherwise it succeeds without labels);
    * ``calls`` -- ``(operation, request parameters)`` of every call, in order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Restore defaults and forget calls, scripted runs and failures."""
        with self._lock:
            self.clock: Callable[[], float] = time.time
            self.starting_seconds = 1.0
            self.running_seconds = 2.0
            self.stopping_seconds = 1.0
            self.check_s3_objects = True
            self.calls: list[tuple[str, dict[str, Any]]] = []
            self._scripts: deque[RunScript] = deque()
            self._failures: dict[str, deque[ScriptedGlueError]] = {}

    def script_next_run(
        self,
        *,
        starting_seconds: float | None = None,
        running_seconds: float | None = None,
        final_status: str = "SUCCEEDED",
        error_string: str | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        """Queue the behaviour of the next run to start (FIFO).

        Durations left out take the controller's current defaults;
        ``error_string`` is reported when ``final_status`` is ``FAILED``;
        ``metrics`` (``F1``, ``Precision``, ...) are what an evaluation run
        writes to the transform's ``EvaluationMetrics`` when it succeeds
        (``DEFAULT_METRICS`` when left out).
        """
        if final_status not in SCRIPTABLE_FINAL_STATUSES:
            raise ValueError(f"final_status must be one of {sorted(SCRIPTABLE_FINAL_STATUSES)}")
        with self._lock:
            self._scripts.append(
                RunScript(
                    starting_seconds=(self.starting_seconds if starting_seconds is None else starting_seconds),
                    running_seconds=(self.running_seconds if running_seconds is None else running_seconds),
                    final_status=final_status,
                    error_string=error_string,
                    metrics=metrics,
                )
            )

    def fail_next(self, operation: str, code: str, message: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` fail with AWS error ``code``.

        ``InternalServiceException`` is returned with HTTP 500, any other code
        (``ThrottlingException``, ``InvalidInputException``, ...) with HTTP 400.
        """
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {OPERATIONS}")
        with self._lock:
            failures = self._failures.setdefault(operation, deque())
            failures.extend(ScriptedGlueError(code, message) for _ in range(times))

    def calls_to(self, operation: str) -> list[dict[str, Any]]:
        """Request parameters of the calls made to ``operation``, in order."""
        return [params for name, params in self.calls if name == operation]

    def now(self) -> float:
        return self.clock()

    def _observe(self, operation: str, params: dict[str, Any]) -> None:
        """Log a call, then raise the failure scripted for it, if any."""
        with self._lock:
            self.calls.append((operation, params))
            failures = self._failures.get(operation)
            failure = failures.popleft() if failures else None
        if failure is not None:
            raise failure

    def _next_script(self) -> RunScript:
        with self._lock:
            if self._scripts:
                return self._scripts.popleft()
        return RunScript(self.starting_seconds, self.running_seconds)


glue_ml = GlueMLTaskRuns()


class _MLTaskRunBackend(GlueBackend):
    """Task-run state and operations, grafted onto ``GlueBackend`` by ``install()``."""

    @property
    def ml_task_runs(self) -> dict[str, FakeMLTaskRun]:
        # GlueBackend.__init__ knows no task runs: create the dict on first use.
        return cast(dict[str, FakeMLTaskRun], self.__dict__.setdefault("_ml_task_runs", {}))

    def start_import_labels_task_run(self, transform_id: str, input_s3_path: str, replace: bool) -> str:
        self.get_ml_transform(transform_id)
        bucket, key = _parse_s3_uri(input_s3_path)
        label_rows = _label_file(self.account_id, self.partition, bucket, key)

        def import_labels(transform: Any) -> None:
            if label_rows is not None:
                kept = [] if replace else getattr(transform, "labels", [])
                transform.labels = kept + label_rows
                transform.label_count = len(transform.labels)

        return self._start_run(
            transform_id,
            "IMPORT_LABELS",
            {"ImportLabelsTaskRunProperties": {"InputS3Path": input_s3_path, "Replace": replace}},
            _script_for(input_s3_path, label_rows),
            import_labels,
        )

    def start_ml_labeling_set_generation_task_run(self, transform_id: str, output_s3_path: str) -> str:
        transform = self.get_ml_transform(transform_id)
        bucket, prefix = _parse_s3_uri(output_s3_path)
        columns = [column["Name"] for column in transform.as_dict().get("Schema", [])] or ["id"]

        def generate(transform: Any) -> None:
            rows = [
                {"labeling_set_id": f"lset-{n}", "label": "", **{c: f"{c}-{n}-{i}" for c in columns}}
                for n in range(1, LABELING_SETS + 1)
                for i in range(ROWS_PER_SET)
            ]
            self._write_parts(bucket, prefix, ["labeling_set_id", "label", *columns], rows)

        properties = {"LabelingSetGenerationTaskRunProperties": {"OutputS3Path": output_s3_path}}
        return self._start_run(transform_id, "LABELING_SET_GENERATION", properties, glue_ml._next_script(), generate)

    def start_export_labels_task_run(self, transform_id: str, output_s3_path: str) -> str:
        self.apply_completed_runs()
        labels = getattr(self.get_ml_transform(transform_id), "labels", [])
        if not labels:
            raise InvalidInputException("StartExportLabelsTaskRun", f"No labels found for transform {transform_id}")
        bucket, prefix = _parse_s3_uri(output_s3_path)
        header = list(labels[0])

        def export(transform: Any) -> None:
            self._write_parts(bucket, prefix, header, labels)

        properties = {"ExportLabelsTaskRunProperties": {"OutputS3Path": output_s3_path}}
        return self._start_run(transform_id, "EXPORT_LABELS", properties, glue_ml._next_script(), export)

    def _write_parts(self, bucket: str, prefix: str, header: list[str], rows: list[dict[str, str]]) -> None:
        """Write `rows` as CSV part files under s3://bucket/prefix, as Glue's Spark jobs do, plus an empty part."""
        folder = prefix if prefix.endswith("/") else prefix + "/"
        s3 = s3_backends[self.account_id][self.partition]
        for part in range(PART_FILES):
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows[part::PART_FILES])
            s3.put_object(bucket, f"{folder}part-{part:05d}.csv", text.getvalue().encode())
        s3.put_object(bucket, f"{folder}part-{PART_FILES:05d}.csv", b"")

    def start_ml_evaluation_task_run(self, transform_id: str) -> str:
        self.apply_completed_runs()
        if self.get_ml_transform(transform_id).label_count == 0:
            raise MLTransformNotReadyException(f"MLTransform {transform_id} is not ready: it has no labels")
        script = glue_ml._next_script()
        metrics = {**DEFAULT_METRICS, **(script.metrics or {})}

        def evaluate(transform: Any) -> None:
            transform.evaluation_metrics = {"TransformType": "FIND_MATCHES", "FindMatchesMetrics": metrics}

        return self._start_run(transform_id, "EVALUATION", {}, script, evaluate)

    def _start_run(
        self,
        transform_id: str,
        task_run_type: str,
        properties: dict[str, Any],
        script: RunScript,
        effect: Callable[[Any], None],
    ) -> str:
        run = FakeMLTaskRun(
            transform_id=transform_id,
            task_run_id=f"tsk{mock_random.get_random_hex(32)}",
            task_run_type=task_run_type,
            properties=properties,
            started_at=glue_ml.now(),
            script=script,
            effect=effect,
        )
        self.ml_task_runs[run.task_run_id] = run
        return run.task_run_id

    def get_ml_task_run(self, transform_id: str, task_run_id: str) -> FakeMLTaskRun:
        self.get_ml_transform(transform_id)
        run = self.ml_task_runs.get(task_run_id)
        if run is None or run.transform_id != transform_id:
            raise EntityNotFoundException(f"MLTaskRun {task_run_id} not found")
        return run

    @paginate(pagination_model=_PAGINATION_MODEL)
    def get_ml_task_runs(
        self,
        transform_id: str,
        filter_criteria: dict[str, Any],
        sort_criteria: dict[str, Any],
    ) -> list[FakeMLTaskRun]:
        self.get_ml_transform(transform_id)
        now = glue_ml.now()
        runs = [
            run
            for run in self.ml_task_runs.values()
            if run.transform_id == transform_id and _matches(run, filter_criteria, now)
        ]
        return _sorted_runs(runs, sort_criteria, now)

    def cancel_ml_task_run(self, transform_id: str, task_run_id: str) -> FakeMLTaskRun:
        run = self.get_ml_task_run(transform_id, task_run_id)
        now = glue_ml.now()
        if run.status_at(now) in ACTIVE_STATUSES:
            run.cancel(now, glue_ml.stopping_seconds)
        return run

    def apply_completed_runs(self) -> None:
        """Apply what runs that have succeeded since last looked at did to their transforms, in order."""
        now = glue_ml.now()
        succeeded = [run for run in self.ml_task_runs.values() if not run.applied and run.status_at(now) == "SUCCEEDED"]
        for run in sorted(succeeded, key=lambda run: run.phase_at(now)[1]):
            run.applied = True
            transform = self.ml_transforms.get(run.transform_id)
            if transform is not None:
                run.effect(transform)


def _observed(
    operation: str,
) -> Callable[[Callable[[Any], ActionResult]], Callable[[Any], ActionResult]]:
    """Have a response method log its call and honour scripted failures first."""

    def decorate(handler: Callable[[Any], ActionResult]) -> Callable[[Any], ActionResult]:
        @functools.wraps(handler)
        def observed(self: GlueResponse) -> ActionResult:
            glue_ml._observe(operation, self.parameters)
            result = handler(self)
            replies._after(operation)
            return result

        return observed

    return decorate


class _MLTaskRunResponse(GlueResponse):
    """Request handlers, grafted onto ``GlueResponse`` by ``install()``."""

    @property
    def ml_backend(self) -> _MLTaskRunBackend:
        return cast(_MLTaskRunBackend, self.glue_backend)

    @_observed("StartImportLabelsTaskRun")
    def start_import_labels_task_run(self) -> ActionResult:
        task_run_id = self.ml_backend.start_import_labels_task_run(
            transform_id=self._get_param("TransformId"),
            input_s3_path=self._get_param("InputS3Path"),
            replace=bool(self._get_param("ReplaceAllLabels", False)),
        )
        return ActionResult({"TaskRunId": task_run_id})

    @_observed("StartMLEvaluationTaskRun")
    def start_ml_evaluation_task_run(self) -> ActionResult:
        return ActionResult({"TaskRunId": self.ml_backend.start_ml_evaluation_task_run(self._get_param("TransformId"))})

    @_observed("StartMLLabelingSetGenerationTaskRun")
    def start_ml_labeling_set_generation_task_run(self) -> ActionResult:
        task_run_id = self.ml_backend.start_ml_labeling_set_generation_task_run(
            self._get_param("TransformId"), self._get_param("OutputS3Path")
        )
        return ActionResult({"TaskRunId": task_run_id})

    @_observed("StartExportLabelsTaskRun")
    def start_export_labels_task_run(self) -> ActionResult:
        task_run_id = self.ml_backend.start_export_labels_task_run(
            self._get_param("TransformId"), self._get_param("OutputS3Path")
        )
        return ActionResult({"TaskRunId": task_run_id})

    @_observed("GetMLTaskRun")
    def get_ml_task_run(self) -> ActionResult:
        run = self.ml_backend.get_ml_task_run(self._get_param("TransformId"), self._get_param("TaskRunId"))
        return ActionResult(run.as_dict(glue_ml.now()))

    @_observed("GetMLTaskRuns")
    def get_ml_task_runs(self) -> ActionResult:
        runs, next_token = self.ml_backend.get_ml_task_runs(
            transform_id=self._get_param("TransformId"),
            filter_criteria=self._get_param("Filter", {}),
            sort_criteria=self._get_param("Sort", {}),
            next_token=self._get_param("NextToken"),
            max_results=self._get_param("MaxResults"),
        )
        now = glue_ml.now()
        listed = [run.as_dict(now) for run in runs if replies.listed(run, now)]
        return ActionResult({"TaskRuns": listed, "NextToken": next_token})

    @_observed("CancelMLTaskRun")
    def cancel_ml_task_run(self) -> ActionResult:
        run = self.ml_backend.cancel_ml_task_run(self._get_param("TransformId"), self._get_param("TaskRunId"))
        return ActionResult(
            {
                "TransformId": run.transform_id,
                "TaskRunId": run.task_run_id,
                "Status": run.status_at(glue_ml.now()),
            }
        )


@functools.cache
def install() -> None:
    """Add the task-run operations to moto's Glue backend and responses (idempotent)."""
    _graft(_MLTaskRunBackend, GlueBackend)
    _graft(_MLTaskRunResponse, GlueResponse)
    for name in ("get_ml_transform", "get_ml_transforms"):
        setattr(GlueBackend, name, _applying_completed_runs(getattr(GlueBackend, name)))
    FakeMLTransform.as_dict = _as_glue_reports(FakeMLTransform.as_dict)  # type: ignore[method-assign,assignment]
    GlueBackend.tag_resource = _limiting_tags(GlueBackend.tag_resource)  # type: ignore[method-assign]
    CloudFormationBackend.describe_stacks = _describing_set_stacks(  # type: ignore[method-assign]
        CloudFormationBackend.describe_stacks
    )


def _as_glue_reports(
    as_dict: Callable[[FakeMLTransform], dict[str, Any]],
) -> Callable[[FakeMLTransform], dict[str, Any]]:
    """Report a transform as Glue does: ``Status`` READY once it has labels (NOT_READY before),
    its ``EvaluationMetrics`` once evaluated, and its ``Schema``: the columns of its input table,
    when the catalog has it."""

    @functools.wraps(as_dict)
    def wrapper(self: FakeMLTransform) -> dict[str, Any]:
        response = as_dict(self)
        response["Status"] = "READY" if self.label_count else "NOT_READY"
        metrics = getattr(self, "evaluation_metrics", None)
        if metrics:
            response["EvaluationMetrics"] = metrics
        tables = self.input_record_tables
        try:
            table = self.backend.get_table(tables[0]["DatabaseName"], tables[0]["TableName"])
        except (EntityNotFoundException, IndexError, KeyError):
            return response
        columns = table.as_dict()["StorageDescriptor"].get("Columns", [])
        response["Schema"] = [{"Name": column["Name"], "DataType": column.get("Type", "string")} for column in columns]
        return response

    return wrapper


def _graft(source: type, target: type) -> None:
    """Copy the attributes ``source`` defines itself onto ``target``."""
    for name, value in vars(source).items():
        if not name.startswith("__"):
            setattr(target, name, value)


def _applying_completed_runs(method: Callable[..., _T]) -> Callable[..., _T]:
    """Wrap a backend method so runs that finished are applied first."""

    @functools.wraps(method)
    def wrapper(self: _MLTaskRunBackend, *args: Any, **kwargs: Any) -> _T:
        self.apply_completed_runs()
        return method(self, *args, **kwargs)

    return wrapper


def _parse_s3_uri(uri: str) -> tuple[str, str]:
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise InvalidInputException(
            "StartImportLabelsTaskRun",
            f"InputS3Path {uri} is not a valid S3 path of the form s3://bucket/key",
        )
    return match["bucket"], match["key"]


def _label_file(account_id: str, partition: str, bucket: str, key: str) -> list[dict[str, str]] | None:
    """The data rows of a CSV label file in moto's S3 (blank lines skipped), if present."""
    try:
        label_file = s3_backends[account_id][partition].get_object(bucket, key)
    except MissingBucket:
        return None
    if label_file is None:
        return None
    rows = csv.DictReader(io.StringIO(label_file.value.decode("utf-8-sig")))
    return [dict(row) for row in rows if any((cell or "").strip() for cell in row.values())]


def _script_for(input_s3_path: str, label_rows: list[dict[str, str]] | None) -> RunScript:
    """The next scripted run, failing it as Glue would if its label file is missing."""
    script = glue_ml._next_script()
    if label_rows is None and glue_ml.check_s3_objects and script.final_status == "SUCCEEDED":
        return replace(
            script,
            final_status="FAILED",
            error_string=f"Input S3 path {input_s3_path} does not exist",
        )
    return script


def _matches(run: FakeMLTaskRun, criteria: dict[str, Any], now: float) -> bool:
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


def _sorted_runs(runs: list[FakeMLTaskRun], criteria: dict[str, Any], now: float) -> list[FakeMLTaskRun]:
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


MAX_TAGS = 50
"""Glue's limit of tags per resource: TagResource past it is refused with InvalidInputException."""


class ReplyFaults:
    """Replies that go wrong after Glue did the work (``replies``, reset by ``reset()``):

    * ``lose_next_reply(operation)`` -- the next call of ``operation`` is done (a start starts its
      run), then answered with ``InternalServiceException`` (HTTP 500), as when the reply was lost;
    * ``listing_lag_seconds`` -- GetMLTaskRuns lists a run only this long after it started (Glue's
      listing may lag a start by seconds).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.listing_lag_seconds = 0.0
            self._lost: list[str] = []

    def lose_next_reply(self, operation: str, times: int = 1) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {OPERATIONS}")
        with self._lock:
            self._lost.extend([operation] * times)

    def listed(self, run: FakeMLTaskRun, now: float) -> bool:
        """Whether GetMLTaskRuns lists the run yet."""
        return run.started_at + self.listing_lag_seconds <= now

    def _after(self, operation: str) -> None:
        with self._lock:
            lost = operation in self._lost
            if lost:
                self._lost.remove(operation)
        if lost:
            raise ScriptedGlueError("InternalServiceException", f"{operation}: the reply was lost")


replies = ReplyFaults()


class StackStatuses:
    """CloudFormation's DescribeStacks for the stacks a test sets (``stacks``, reset by ``reset()``).

    ``set(stack_id, status, root_id=None)`` makes DescribeStacks(StackName=stack_id) report the
    stack at ``status``, with ``RootId`` and ``ParentId`` when it is nested in ``root_id``. Stacks
    not set are moto's own (an unknown one is moto's ValidationError).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stacks: dict[str, _ReportedStack] = {}

    def reset(self) -> None:
        with self._lock:
            self._stacks.clear()

    def set(self, stack_id: str, status: str, *, root_id: str | None = None) -> None:
        stack = _ReportedStack(
            stack_id=stack_id,
            stack_name=stack_id.split("/")[1] if stack_id.count("/") >= 2 else stack_id,
            stack_status=status,
            root_id=root_id,
            parent_id=root_id,
        )
        with self._lock:
            self._stacks[stack_id] = stack

    def get(self, stack_id: str) -> _ReportedStack | None:
        with self._lock:
            return self._stacks.get(stack_id)


@dataclass(frozen=True)
class _ReportedStack:
    """A stack as DescribeStacks reports it (moto's serializer reads these attributes)."""

    stack_id: str
    stack_name: str
    stack_status: str
    root_id: str | None
    parent_id: str | None
    creation_time: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tags: dict[str, str] = field(default_factory=dict)


stacks = StackStatuses()


def _describing_set_stacks(describe: Callable[..., Any]) -> Callable[..., Any]:
    """DescribeStacks that answers for the stacks set in ``stacks`` first."""

    @functools.wraps(describe)
    def wrapper(self: CloudFormationBackend, name_or_stack_id: str) -> Any:
        stack = stacks.get(name_or_stack_id) if name_or_stack_id else None
        return [stack] if stack is not None else describe(self, name_or_stack_id)

    return wrapper


def _limiting_tags(tag_resource: Callable[..., None]) -> Callable[..., None]:
    """TagResource refused with InvalidInputException past MAX_TAGS tags on the resource, as Glue does."""

    @functools.wraps(tag_resource)
    def wrapper(self: GlueBackend, resource_arn: str, tags: dict[str, str] | None) -> None:
        current = self.get_tags(resource_arn) or {}
        if len({**current, **(tags or {})}) > MAX_TAGS:
            raise InvalidInputException("TagResource", f"a resource may have at most {MAX_TAGS} tags")
        tag_resource(self, resource_arn, tags)

    return wrapper
