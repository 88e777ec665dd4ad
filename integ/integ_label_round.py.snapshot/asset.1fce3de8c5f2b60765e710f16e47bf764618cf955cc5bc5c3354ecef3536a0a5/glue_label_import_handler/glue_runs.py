"""The handler's AWS Glue calls on ML task runs of any type: list, wait for, cancel.

Nothing here knows about CloudFormation or crhelper. The clock is injected so that tests can run
hour-long task runs in milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .retries import SYSTEM_CLOCK, Clock, is_transient, with_retries
from .rules import FINAL_STATUSES, newest_task_runs

LOGGER = logging.getLogger(__name__)

NOT_FOUND = "EntityNotFoundException"

# GetMLTaskRun every second at first, then every eighth of the run's age, at most every 4.5 s:
# every run is seen within 5 s of its end (the median long run within about 2.3 s), and a
# 10-minute run costs under 150 calls.
POLL_MIN_S = 1.0
POLL_AGE_FRACTION = 0.125
POLL_MAX_S = 4.5
MAX_PAGES = 10  # the newest 1,000 runs of a type: far more than a transform's history holds in practice

Run = dict[str, Any]


def started_on(run: Run) -> float | None:
    """When Glue says the run started (epoch seconds), if it says so."""
    started = run.get("StartedOn")
    return started.timestamp() if isinstance(started, datetime) else None


def poll_interval(age_s: float) -> float:
    """Seconds to wait before the next GetMLTaskRun on a run that is `age_s` seconds old."""
    return min(POLL_MAX_S, max(POLL_MIN_S, age_s * POLL_AGE_FRACTION))


class TaskRuns:
    """ML task runs of Glue transforms, through one Glue client."""

    def __init__(self, glue: Any, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.glue = glue
        self.clock = clock

    def history(
        self, transform_id: str, task_run_type: str, *, status: str | None = None, retry_until: float
    ) -> Iterator[Run]:
        """The transform's runs of `task_run_type` (and `status`), newest first, page after page.

        Bounded: at most MAX_PAGES pages, and no new page once `retry_until` has passed.
        """

        def in_time() -> bool:
            if self.clock.now() < retry_until:
                return True
            LOGGER.warning({"action": "history", "TransformId": transform_id, "stopped": "out of time"})
            return False

        criteria = {"TaskRunType": task_run_type, **({"Status": status} if status else {})}
        yield from newest_task_runs(
            lambda **params: self.call("get_ml_task_runs", retry_until=retry_until, **params),
            max_pages=MAX_PAGES,
            go_on=in_time,
            TransformId=transform_id,
            Filter=criteria,
        )

    def wait(self, transform_id: str, run_id: str, *, started_at: float, stop_at: float) -> Run | None:
        """Poll the run until it ends (its GetMLTaskRun answer) or `stop_at` comes (None).

        Throttling and network trouble that last until `stop_at` also give None: the run may
        still be going, and the caller decides whether to hand over or to time out.
        """
        status = None
        while True:
            try:
                run = self.call("get_ml_task_run", retry_until=stop_at, TransformId=transform_id, TaskRunId=run_id)
            except (BotoCoreError, ClientError) as error:
                if not is_transient(error):
                    raise
                return None
            if run["Status"] != status:
                status = run["Status"]
                LOGGER.info({"action": "status", "TransformId": transform_id, "TaskRunId": run_id, "Status": status})
            if status in FINAL_STATUSES:
                return run
            now = self.clock.now()
            if now >= stop_at:
                return None
            self.clock.sleep(min(poll_interval(now - started_at), stop_at - now))

    def cancel(self, transform_id: str, run_id: str, *, retry_until: float) -> None:
        """Ask Glue to stop the run; its status goes to STOPPING, then STOPPED."""
        response = self.call("cancel_ml_task_run", retry_until=retry_until, TransformId=transform_id, TaskRunId=run_id)
        LOGGER.info(
            {"action": "cancel", "TransformId": transform_id, "TaskRunId": run_id, "Status": response.get("Status")}
        )

    def transform(self, transform_id: str, *, retry_until: float) -> dict[str, Any]:
        """GetMLTransform's answer: status, schema, label count, evaluation metrics."""
        return self.call("get_ml_transform", retry_until=retry_until, TransformId=transform_id)

    def call(self, operation: str, *, retry_until: float, **params: Any) -> dict[str, Any]:
        """Call Glue, retrying throttling and transient errors until `retry_until`.

        Only for calls that are safe to repeat: a retried call may have been done once already.
        """
        response: dict[str, Any] = with_retries(
            lambda: getattr(self.glue, operation)(**params), retry_until=retry_until, clock=self.clock, what=operation
        )
        return response
