"""The handler's AWS Glue calls: start (or adopt) a label import, wait for it, cancel it.

Nothing here knows about CloudFormation or crhelper. The clock and the sleep are injected so
that tests can run hour-long imports in milliseconds.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from request import ImportRequest

LOGGER = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT"})
IN_FLIGHT_STATUSES = frozenset({"STARTING", "RUNNING"})
RETRYABLE_ERRORS = frozenset({"ThrottlingException", "InternalServiceException", "OperationTimeoutException"})
NOT_FOUND = "EntityNotFoundException"

# GetMLTaskRun every second at first, then every eighth of the run's age, at most every 20 s:
# a run ending in its first 40 s is seen within 5 s, and a 10-minute run costs under 60 calls.
POLL_MIN_S = 1.0
POLL_AGE_FRACTION = 0.125
POLL_MAX_S = 20.0
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 8.0
MAX_REASON_LENGTH = 256  # crhelper cuts longer reasons from the front

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class ImportFailed(Exception):
    """The import did not succeed; the message is the Reason CloudFormation shows."""


def poll_interval(age_s: float) -> float:
    """Seconds to wait before the next GetMLTaskRun on a run that is `age_s` seconds old."""
    return min(POLL_MAX_S, max(POLL_MIN_S, age_s * POLL_AGE_FRACTION))


def failure_reason(run: dict[str, Any]) -> str:
    """`<status>: <Glue's ErrorString> (task run <id>, log group <name>)`, at most 256 characters.

    The error text is shortened from its end, so the status, the start of Glue's message and the
    run's coordinates all survive crhelper's limit.
    """
    head = f"{run['Status']}: "
    tail = f" (task run {run['TaskRunId']}, log group {run.get('LogGroupName', 'unknown')})"
    error = run.get("ErrorString") or "Glue gave no error message"
    room = MAX_REASON_LENGTH - len(head) - len(tail)
    if len(error) > room:
        error = error[: max(room - 3, 0)] + "..."
    return f"{head}{error}{tail}"[:MAX_REASON_LENGTH]


class ImportRuns:
    """Label import task runs on Glue ML transforms, through one Glue client."""

    def __init__(self, glue: Any, *, clock: Clock = time.time, sleep: Sleep = time.sleep) -> None:
        self._glue = glue
        self.clock = clock
        self.sleep = sleep

    def start(self, request: ImportRequest, *, retry_until: float) -> str:
        """Start the import, or adopt the same import already in flight (a duplicate delivery).

        :raises ImportFailed: Glue refused, with its error code, its message and the transform id.
        """
        try:
            run_id = self.find_in_flight(request, retry_until=retry_until)
            action = "adopt"
            if run_id is None:
                response = self._call(
                    "start_import_labels_task_run",
                    retry_until=retry_until,
                    TransformId=request.transform_id,
                    InputS3Path=request.input_s3_path,
                    ReplaceAllLabels=request.replace_all_labels,
                )
                run_id, action = str(response["TaskRunId"]), "start"
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", str(error))
            raise ImportFailed(f"{_error_code(error)}: {message} (transform {request.transform_id})") from error
        LOGGER.info({"action": action, "TransformId": request.transform_id, "TaskRunId": run_id})
        return run_id

    def find_in_flight(self, request: ImportRequest, *, retry_until: float) -> str | None:
        """The id of a STARTING or RUNNING import of the same file into the same transform."""
        response = self._call(
            "get_ml_task_runs",
            retry_until=retry_until,
            TransformId=request.transform_id,
            Filter={"TaskRunType": "IMPORT_LABELS"},
            Sort={"Column": "STARTED", "SortDirection": "DESCENDING"},
            MaxResults=100,
        )
        for run in response.get("TaskRuns", []):
            path = run.get("Properties", {}).get("ImportLabelsTaskRunProperties", {}).get("InputS3Path")
            if run["Status"] in IN_FLIGHT_STATUSES and path == request.input_s3_path:
                return str(run["TaskRunId"])
        return None

    def wait(self, transform_id: str, run_id: str, *, started_at: float, stop_at: float) -> dict[str, Any] | None:
        """Poll the run until it ends (its GetMLTaskRun answer) or `stop_at` comes (None)."""
        status = None
        while True:
            run = self._call("get_ml_task_run", retry_until=stop_at, TransformId=transform_id, TaskRunId=run_id)
            if run["Status"] != status:
                status = run["Status"]
                LOGGER.info({"action": "status", "TransformId": transform_id, "TaskRunId": run_id, "Status": status})
            if status in FINAL_STATUSES:
                return run
            now = self.clock()
            if now >= stop_at:
                return None
            self.sleep(min(poll_interval(now - started_at), stop_at - now))

    def cancel(self, transform_id: str, run_id: str, *, retry_until: float) -> None:
        """Ask Glue to stop the run; its status goes to STOPPING, then STOPPED."""
        response = self._call("cancel_ml_task_run", retry_until=retry_until, TransformId=transform_id, TaskRunId=run_id)
        LOGGER.info(
            {"action": "cancel", "TransformId": transform_id, "TaskRunId": run_id, "Status": response.get("Status")}
        )

    def label_count(self, transform_id: str) -> int | None:
        """How many labels the transform holds now, if Glue says."""
        count = self._glue.get_ml_transform(TransformId=transform_id).get("LabelCount")
        return None if count is None else int(count)

    def _call(self, operation: str, *, retry_until: float, **params: Any) -> dict[str, Any]:
        """Call Glue, retrying throttling and transient errors with jittered backoff until `retry_until`."""
        delay = RETRY_FIRST_S
        while True:
            try:
                response: dict[str, Any] = getattr(self._glue, operation)(**params)
                return response
            except ClientError as error:
                if _error_code(error) not in RETRYABLE_ERRORS or self.clock() + delay > retry_until:
                    raise
                LOGGER.warning(
                    {"action": "retry", "operation": operation, "error": _error_code(error), "delay_s": delay}
                )
            self.sleep(delay)
            delay = min(RETRY_MAX_S, delay * 2) * random.uniform(0.8, 1.0)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
