"""The controller of the emulated task runs (``glue_ml``): the clock, phase durations, scripted
runs and failures, and the calls that were made."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .faults import ScriptedGlueError
from .runs import OPERATIONS, SCRIPTABLE_FINAL_STATUSES, TASK_RUN_TYPES, RunScript

__all__ = ["GlueMLTaskRuns", "glue_ml"]


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
