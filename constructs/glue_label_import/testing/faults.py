"""Faults the emulation injects: scripted service errors, lost replies and a lagging listing.

``glue_ml.fail_next`` refuses a call before Glue does anything (``ScriptedGlueError``); ``replies``
(``ReplyFaults``) makes a reply go wrong after Glue did the work. Replies that trickle in a byte at
a time are the local proxy's (``glue_label_import.testing.endpoints.TricklingProxy``).
"""

from __future__ import annotations

import threading

from moto.glue.exceptions import GlueClientError

from .runs import OPERATIONS, FakeMLTaskRun

__all__ = ["ReplyFaults", "ScriptedGlueError", "replies"]

# Glue reports its modelled faults with HTTP 500; every other error is a 400.
_SERVER_ERROR_CODES = frozenset({"InternalServiceException"})


class ScriptedGlueError(GlueClientError):
    """An error injected with ``GlueMLTaskRuns.fail_next``."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message)
        self.code = 500 if error_code in _SERVER_ERROR_CODES else 400


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
