"""The handler's AWS Glue calls: start (or adopt) a label import, wait for it, cancel it.

Nothing here knows about CloudFormation or crhelper. The clock and the sleep are injected so
that tests can run hour-long imports in milliseconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from request import ImportRequest
from retries import error_code, is_transient, with_retries

LOGGER = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT"})
IN_FLIGHT_STATUSES = frozenset({"STARTING", "RUNNING"})
NOT_FOUND = "EntityNotFoundException"

# GetMLTaskRun every second at first, then every eighth of the run's age, at most every 20 s:
# a run ending in its first 40 s is seen within 5 s, and a 10-minute run costs under 60 calls.
POLL_MIN_S = 1.0
POLL_AGE_FRACTION = 0.125
POLL_MAX_S = 20.0
MAX_REASON_LENGTH = 256  # crhelper cuts longer reasons from the front

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class ImportFailed(Exception):
    """The import did not succeed; the message is the Reason CloudFormation shows."""


def poll_interval(age_s: float) -> float:
    """Seconds to wait before the next GetMLTaskRun on a run that is `age_s` seconds old."""
    return min(POLL_MAX_S, max(POLL_MIN_S, age_s * POLL_AGE_FRACTION))


def fit_reason(head: str, message: str, tail: str) -> str:
    """`head + message + tail` in at most 256 characters, shortening the message from its end.

    crhelper cuts a longer reason from the front; this keeps the start of the message and the
    coordinates in `tail` instead.
    """
    room = MAX_REASON_LENGTH - len(head) - len(tail)
    if len(message) > room:
        message = message[: max(room - 3, 0)] + "..."
    return f"{head}{message}{tail}"[:MAX_REASON_LENGTH]


def failure_reason(run: dict[str, Any]) -> str:
    """`<status>: <Glue's ErrorString> (task run <id>, log group <name>)`, at most 256 characters."""
    return fit_reason(
        f"{run['Status']}: ",
        run.get("ErrorString") or "Glue gave no error message",
        f" (task run {run['TaskRunId']}, log group {run.get('LogGroupName', 'unknown')})",
    )


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

        def adopt_or_start() -> tuple[str, str]:
            # Retried as one: after a lost answer to a start, the retry adopts the run it started.
            in_flight = self.find_run(request, IN_FLIGHT_STATUSES, retry_until=0.0)
            if in_flight:
                return in_flight, "adopt"
            response = self._glue.start_import_labels_task_run(
                TransformId=request.transform_id,
                InputS3Path=request.input_s3_path,
                ReplaceAllLabels=request.replace_all_labels,
            )
            return str(response["TaskRunId"]), "start"

        try:
            run_id, action = with_retries(
                adopt_or_start,
                retry_until=retry_until,
                clock=self.clock,
                sleep=self.sleep,
                what="StartImportLabelsTaskRun",
            )
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", error))
            raise ImportFailed(
                fit_reason(f"{error_code(error)}: ", message, f" (transform {request.transform_id[:100]})")
            ) from error
        LOGGER.info({"action": action, "TransformId": request.transform_id, "TaskRunId": run_id})
        return run_id

    def find_run(self, request: ImportRequest, statuses: frozenset[str], *, retry_until: float) -> str | None:
        """The newest import of the same file into the same transform in one of `statuses`."""
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
            if run["Status"] in statuses and path == request.input_s3_path:
                return str(run["TaskRunId"])
        return None

    def wait(self, transform_id: str, run_id: str, *, started_at: float, stop_at: float) -> dict[str, Any] | None:
        """Poll the run until it ends (its GetMLTaskRun answer) or `stop_at` comes (None).

        Throttling and network trouble that last until `stop_at` also give None: the run may
        still be going, and the caller decides whether to hand over or to time out.
        """
        status = None
        while True:
            try:
                run = self._call("get_ml_task_run", retry_until=stop_at, TransformId=transform_id, TaskRunId=run_id)
            except (BotoCoreError, ClientError) as error:
                if not is_transient(error):
                    raise
                return None
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
        """Call Glue, retrying throttling and transient errors until `retry_until`."""
        response: dict[str, Any] = with_retries(
            lambda: getattr(self._glue, operation)(**params),
            retry_until=retry_until,
            clock=self.clock,
            sleep=self.sleep,
            what=operation,
        )
        return response
