"""An emulation of AWS Glue FindMatches task runs on moto, for testing Glue code and stacks offline.

    pip install 'cdk-glue-label-import[testing]'

moto (5.2) models Glue ML transforms (CreateMLTransform, GetMLTransform, ...) but not their task
runs. ``install()`` adds them to moto's Glue backend, so that ``moto.mock_aws()`` and moto's
server (``moto.server.ThreadedMotoServer``, in the same process) serve them, with the request and
response shapes and error codes of botocore's Glue model:

* ``StartImportLabelsTaskRun``: checks the transform and reads ``InputS3Path`` from moto's S3,
  refusing at start what Glue refuses: a file it cannot access (``InvalidInputException``,
  "Cannot access the label file at ..."), in a bucket of another region (``InvalidInputException``),
  of size 0 (``InvalidInputException``) or over 10 MB (``ResourceNumberLimitExceededException``);
  once the run succeeds the transform holds the file's labels (``LabelCount``; replaced or added);
* ``StartMLEvaluationTaskRun``: refused with ``MLTransformNotReadyException`` while the transform
  has no labels; once the run succeeds the transform's ``EvaluationMetrics.FindMatchesMetrics``
  are the scripted metrics (``DEFAULT_METRICS`` unless scripted) with a ``ConfusionMatrix`` that
  agrees with them and the ``ColumnImportances`` of the transform's columns;
* ``StartMLLabelingSetGenerationTaskRun``: writes CSV part files of ``LABELING_SETS`` labeling
  sets (``labeling_set_id``, an empty ``label``, the input table's columns) under its
  ``OutputS3Path`` once the run succeeds, and an empty part file;
* ``StartExportLabelsTaskRun``: writes the transform's labels back out the same way; refused with
  ``EntityNotFoundException`` ("No labelset exists for transformId ...") when the transform has
  none, and with ``InvalidInputException`` for an output bucket of another region;
* an evaluation or a labeling-set generation is refused with ``ConcurrentRunsExceededException``
  when its transform has ``TRANSFORM_CONCURRENT_RUNS`` (3) runs in flight, or the account
  ``ACCOUNT_CONCURRENT_RUNS`` (30) in any region; runs of every type count (imports and exports
  are not refused so: botocore's model gives them no such error);
* with ``glue_label_import.testing_iam.enforced_iam()`` on, Glue ML actions are judged against the
  transform's ARN and refused with ``AccessDeniedException``, and the label file is read and the
  labeling set written as the transform's role (see that module);
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
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, TypeVar, cast

from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from moto.glue.exceptions import (
    EntityNotFoundException,
    GlueClientError,
    InvalidInputException,
)
from moto.glue.models import FakeMLTransform, GlueBackend, glue_backends
from moto.glue.responses import GlueResponse
from moto.moto_api._internal import mock_random
from moto.s3.exceptions import MissingBucket, MissingKey
from moto.s3.models import s3_backends
from moto.utilities.paginator import paginate

from .testing_iam import transform_role_denial

__all__ = [
    "ACCOUNT_CONCURRENT_RUNS",
    "DEFAULT_METRICS",
    "LABELING_SETS",
    "LABEL_FILE_LIMIT_BYTES",
    "MAX_TAGS",
    "TRANSFORM_CONCURRENT_RUNS",
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
TASK_RUN_TYPES = ("IMPORT_LABELS", "EVALUATION", "LABELING_SET_GENERATION", "EXPORT_LABELS")
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

LABEL_FILE_LIMIT_BYTES = 10 * 1024 * 1024
"""Glue's limit on the size of a label file to import (10 MB)."""
TRANSFORM_CONCURRENT_RUNS = 3
"""Glue's limit on task runs in flight on one transform, for evaluations and labeling-set generations."""
ACCOUNT_CONCURRENT_RUNS = 30
"""Glue's limit on ML task runs in flight in an account, for evaluations and labeling-set generations."""


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
    * ``check_s3_objects`` -- whether a start is refused, as Glue refuses it, for a
      label file that is missing, in another region, empty or over 10 MB (otherwise
      such a run succeeds without labels);
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
            self._scripts: deque[tuple[str | None, RunScript]] = deque()
            self._failures: dict[str, deque[ScriptedGlueError]] = {}

    def script_next_run(
        self,
        *,
        starting_seconds: float | None = None,
        running_seconds: float | None = None,
        final_status: str = "SUCCEEDED",
        error_string: str | None = None,
        metrics: dict[str, Any] | None = None,
        task_run_type: str | None = None,
    ) -> None:
        """Queue the behaviour of the next run to start (FIFO).

        With ``task_run_type`` (``IMPORT_LABELS``, ``EVALUATION``, ``LABELING_SET_GENERATION``,
        ``EXPORT_LABELS``) only the next run of that type takes it, whatever starts first: for
        runs started at once. Durations left out take the controller's current defaults;
        ``error_string`` is reported when ``final_status`` is ``FAILED``;
        ``metrics`` (``F1``, ``Precision``, ...) are what an evaluation run
        writes to the transform's ``EvaluationMetrics`` when it succeeds
        (``DEFAULT_METRICS`` when left out).
        """
        if final_status not in SCRIPTABLE_FINAL_STATUSES:
            raise ValueError(f"final_status must be one of {sorted(SCRIPTABLE_FINAL_STATUSES)}")
        if task_run_type not in (None, *TASK_RUN_TYPES):
            raise ValueError(f"task_run_type must be one of {TASK_RUN_TYPES}, not {task_run_type!r}")
        with self._lock:
            self._scripts.append(
                (
                    task_run_type,
                    RunScript(
                        starting_seconds=(self.starting_seconds if starting_seconds is None else starting_seconds),
                        running_seconds=(self.running_seconds if running_seconds is None else running_seconds),
                        final_status=final_status,
                        error_string=error_string,
                        metrics=metrics,
                    ),
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

    def _next_script(self, task_run_type: str) -> RunScript:
        """The first script queued for any run or for this type, else the defaults."""
        with self._lock:
            for queued in self._scripts:
                if queued[0] in (None, task_run_type):
                    self._scripts.remove(queued)
                    return queued[1]
        return RunScript(self.starting_seconds, self.running_seconds)


glue_ml = GlueMLTaskRuns()


class _MLTaskRunBackend(GlueBackend):
    """Task-run state and operations, grafted onto ``GlueBackend`` by ``install()``."""

    @property
    def ml_task_runs(self) -> dict[str, FakeMLTaskRun]:
        # GlueBackend.__init__ knows no task runs: create the dict on first use.
        return cast(dict[str, FakeMLTaskRun], self.__dict__.setdefault("_ml_task_runs", {}))

    def start_import_labels_task_run(self, transform_id: str, input_s3_path: str, replace: bool) -> str:
        transform = self.get_ml_transform(transform_id)
        label_rows = self._label_file(input_s3_path, transform.role)

        def import_labels(transform: Any) -> None:
            if label_rows is not None:
                kept = [] if replace else getattr(transform, "labels", [])
                transform.labels = kept + label_rows
                transform.label_count = len(transform.labels)

        return self._start_run(
            transform_id,
            "IMPORT_LABELS",
            {"ImportLabelsTaskRunProperties": {"InputS3Path": input_s3_path, "Replace": replace}},
            glue_ml._next_script("IMPORT_LABELS"),
            import_labels,
        )

    def _label_file(self, input_s3_path: str, role_arn: str) -> list[dict[str, str]] | None:
        """The data rows of a CSV label file in moto's S3 (blank lines skipped), read as the transform's
        role (``role_arn``) and refused as Glue refuses it.

        :raises InvalidInputException: the file cannot be read (by the role, with ``enforced_iam``), is in
            another region or is empty.
        :raises LabelFileTooLargeException: the file is over ``LABEL_FILE_LIMIT_BYTES``.
        Without ``check_s3_objects``, a file that cannot be read is None and nothing is refused.
        """
        bucket_name, key = _parse_s3_uri(input_s3_path)
        s3 = s3_backends[self.account_id][self.partition]
        denial = transform_role_denial(self.account_id, role_arn, "s3:GetObject", f"arn:aws:s3:::{bucket_name}/{key}")
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
            self._check_region(bucket, "StartImportLabelsTaskRun")
            if label_file.size == 0:
                raise InvalidInputException("StartImportLabelsTaskRun", "Invalid label file of size 0.")
            if label_file.size > LABEL_FILE_LIMIT_BYTES:
                raise LabelFileTooLargeException()
        rows = csv.DictReader(io.StringIO(label_file.value.decode("utf-8-sig")))
        return [dict(row) for row in rows if any((cell or "").strip() for cell in row.values())]

    def _check_region(self, bucket: Any, operation: str) -> None:
        """Refuse, as Glue does, an S3 path in a bucket of another region than the transform's."""
        if bucket.region_name != self.region_name:
            raise InvalidInputException(
                operation,
                "S3 path provided is not in the same region as transform. "
                f"Expecting region - {self.region_name}, but got - {bucket.region_name}.",
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
        self._check_capacity(transform_id)
        script = glue_ml._next_script("LABELING_SET_GENERATION")
        folder = prefix if prefix.endswith("/") else prefix + "/"
        # The run works as Glue's Spark job does, as the transform's role: it lists the output folder,
        # writes a temporary file under it, reads it back and deletes it, then writes the parts.
        temporary = f"arn:aws:s3:::{bucket}/{folder}_temporary/0/part-00000.csv"
        accesses = [
            ("s3:ListBucket", f"arn:aws:s3:::{bucket}"),
            *((action, temporary) for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject")),
            *(("s3:PutObject", f"arn:aws:s3:::{bucket}/{folder}part-{part:05d}.csv") for part in range(PART_FILES + 1)),
        ]
        for action, resource in accesses:  # denied, the run fails
            denial = transform_role_denial(self.account_id, transform.role, action, resource)
            if denial is not None:
                script = replace(script, final_status="FAILED", error_string=f"AccessDenied: {denial}")
                break
        return self._start_run(transform_id, "LABELING_SET_GENERATION", properties, script, generate)

    def start_export_labels_task_run(self, transform_id: str, output_s3_path: str) -> str:
        self.apply_completed_runs()
        labels = getattr(self.get_ml_transform(transform_id), "labels", [])
        if not labels:
            raise EntityNotFoundException(
                f"No labelset exists for transformId {transform_id} in account id {self.account_id}."
            )
        bucket, prefix = _parse_s3_uri(output_s3_path)
        s3 = s3_backends[self.account_id][self.partition]
        if bucket in s3.buckets:
            self._check_region(s3.get_bucket(bucket), "StartExportLabelsTaskRun")
        header = list(labels[0])

        def export(transform: Any) -> None:
            self._write_parts(bucket, prefix, header, labels)

        properties = {"ExportLabelsTaskRunProperties": {"OutputS3Path": output_s3_path}}
        return self._start_run(transform_id, "EXPORT_LABELS", properties, glue_ml._next_script("EXPORT_LABELS"), export)

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
            raise MLTransformNotReadyException(
                "This operation can only be applied to a transform that is in a READY state."
            )
        self._check_capacity(transform_id)
        script = glue_ml._next_script("EVALUATION")

        def evaluate(transform: Any) -> None:
            transform.evaluation_metrics = {
                "TransformType": "FIND_MATCHES",
                "FindMatchesMetrics": _find_matches_metrics(transform, script.metrics or {}),
            }

        return self._start_run(transform_id, "EVALUATION", {}, script, evaluate)

    def _check_capacity(self, transform_id: str) -> None:
        """Refuse an evaluation or a labeling-set generation as Glue does when the transform or the account
        has no room. Runs of every type count; botocore's model gives imports and exports no such refusal."""
        now = glue_ml.now()
        in_flight = [
            run
            for backend in glue_backends[self.account_id].values()
            for run in cast(_MLTaskRunBackend, backend).ml_task_runs.values()
            if run.status_at(now) in ACTIVE_STATUSES | {"STOPPING"}
        ]
        on_transform = [run for run in in_flight if run.transform_id == transform_id]
        if len(on_transform) >= TRANSFORM_CONCURRENT_RUNS:
            raise ConcurrentRunsExceededException(
                f"ML Task Runs count {len(on_transform) + 1} has exceeded the transform limit of "
                f"{TRANSFORM_CONCURRENT_RUNS} task runs."
            )
        if len(in_flight) >= ACCOUNT_CONCURRENT_RUNS:
            raise ConcurrentRunsExceededException(
                f"ML Task Runs count {len(in_flight) + 1} has exceeded the limit of "
                f"{ACCOUNT_CONCURRENT_RUNS} task runs."
            )

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

    def _determine_resource(self) -> str:
        """The resource moto's access control judges a Glue action against: a transform's ARN for the
        operations on one (as IAM does), the tagged resource's for tags, ``*`` for the rest."""
        try:
            parameters = json.loads(self.body or "{}")
        except ValueError:
            return "*"
        transform_id = parameters.get("TransformId")
        if isinstance(transform_id, str):
            return f"arn:{self.partition}:glue:{self.region}:{self.current_account}:mlTransform/{transform_id}"
        return str(parameters.get("ResourceArn", "*"))

    def _authenticate_and_authorize_normal_action(self, resource: str = "*") -> None:
        """moto's access control, its refusal in Glue's words: ``AccessDeniedException`` naming the
        action and the resource (moto's own answer is an XML error that boto3 cannot parse for Glue)."""
        try:
            ActionAuthenticatorMixin._authenticate_and_authorize_normal_action(self, resource)
        except AccessDeniedError as denied:
            action = f"glue:{self._get_action()}"
            raise AccessDeniedException(
                f"{denied.message} on resource: {resource} because no identity-based policy allows the {action} action"
            ) from denied

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
    # moto's access control judges these against "*" unless told: name the table and the stack, as IAM does.
    DynamoHandler._determine_resource = _dynamodb_table_arn  # type: ignore[attr-defined]
    CloudFormationResponse._determine_resource = _cloudformation_stack_arn  # type: ignore[attr-defined]


def _dynamodb_table_arn(self: DynamoHandler) -> str:
    """The ARN of the table a DynamoDB request names (``*`` for a request without one)."""
    try:
        body = self.body if isinstance(self.body, dict) else json.loads(self.body or "{}")
    except ValueError:
        return "*"
    table = body.get("TableName")
    return f"arn:{self.partition}:dynamodb:{self.region}:{self.current_account}:table/{table}" if table else "*"


def _cloudformation_stack_arn(self: CloudFormationResponse) -> str:
    """The stack a CloudFormation request names by its ARN (a StackId), as IAM judges it; else ``*``."""
    stack = self._get_param("StackName")
    return stack if isinstance(stack, str) and stack.startswith("arn:") else "*"


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


def _confusion_matrix(precision: Any, recall: Any) -> dict[str, Any]:
    """``{"ConfusionMatrix": ...}`` of 100 true pairs that agrees with precision and recall; nothing when
    a test scripted either as missing or not a number from 0 to 1 (no matrix agrees with it)."""
    if not all(isinstance(value, (int, float)) and 0 <= value <= 1 for value in (precision, recall)):
        return {}
    true_positives = round(100 * recall)
    false_positives = round(true_positives * (1 - precision) / precision) if precision else 100
    return {
        "ConfusionMatrix": {
            "NumTruePositives": true_positives,
            "NumFalsePositives": false_positives,
            "NumTrueNegatives": 1000,
            "NumFalseNegatives": 100 - true_positives,
        }
    }


def _find_matches_metrics(transform: Any, scripted: dict[str, Any]) -> dict[str, Any]:
    """An evaluation's ``FindMatchesMetrics``: the scripted ones over ``DEFAULT_METRICS``, a
    ``ConfusionMatrix`` of 100 true pairs that agrees with their precision and recall, and the
    ``ColumnImportances`` of the transform's columns but its primary key (the first most important)."""
    metrics = {**DEFAULT_METRICS, **scripted}
    columns = [column["Name"] for column in transform.as_dict().get("Schema", [])]
    primary_key = transform.parameters.get("FindMatchesParameters", {}).get("PrimaryKeyColumnName")
    scored = [column for column in columns if column != primary_key]
    return {
        **_confusion_matrix(metrics.get("Precision"), metrics.get("Recall")),
        "ColumnImportances": [
            {"ColumnName": column, "Importance": round(1 / (rank + 2), 4)} for rank, column in enumerate(scored)
        ],
        **metrics,
    }


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
