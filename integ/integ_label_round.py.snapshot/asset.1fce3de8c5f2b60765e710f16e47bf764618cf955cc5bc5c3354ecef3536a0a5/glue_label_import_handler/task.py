"""The part of a resource's Glue ML task run that differs per resource type: the `Task` base class.

`imports`, `evaluation` and `generation` each subclass it; the engine (engine.py) runs any `Task`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from .glue_runs import Run, TaskRuns, started_on
from .request import InvalidProperty

# How far Glue's StartedOn may stray from the handler's clock (both are synchronized to Amazon's time
# service; a StartedOn rounded down to the second is still the call's): a run Glue says started this
# much before a start call went out, or after it came back, may still be the call's.
CLOCK_SKEW_S = 1.0

T = TypeVar("T", bound="Task")
Reader = Callable[[], Mapping[str, Any] | None]  # a ledger read, None when nothing is on record


class OwnAnswers:
    """What a resource answered before (its run ledger; nothing when the ledger is out of reach), each
    read when the task first asks (an import always does, an evaluation for an Update, a generation never)."""

    def __init__(self, read_current: Reader, read_for_these: Reader) -> None:
        self._read_current = read_current
        self._read_for_these = read_for_these

    @cached_property
    def current(self) -> Mapping[str, Any] | None:
        """The Data of its last SUCCESS."""
        return self._read_current()

    @cached_property
    def for_these_properties(self) -> Mapping[str, Any] | None:
        """The Data it answered for the request's properties."""
        return self._read_for_these()

    def run_ids(self) -> set[str]:
        """The task runs of those answers: runs this resource started."""
        answers = (self.current or {}, self.for_these_properties or {})
        return {str(answer["TaskRunId"]) for answer in answers if answer.get("TaskRunId")}


class Task(abc.ABC):
    """One resource's Glue ML task run: the part of the lifecycle that differs per resource type."""

    task_run_type: ClassVar[str]
    """The TaskRunType GetMLTaskRuns reports for runs of this kind."""
    start_operation: ClassVar[str]
    """The Glue operation that starts a run, for messages."""
    reuses_answers: ClassVar[bool] = False
    """Whether the Data answered before for the same inputs is answered again without a run: in a
    rollback (for the restored properties) and for an Update that is `unchanged`."""

    transform_id: str
    service_timeout_s: int

    @classmethod
    @abc.abstractmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> Task:
        """Read and check the resource's properties; raise InvalidProperty naming a bad one."""

    @classmethod
    def from_request(cls, event: Mapping[str, Any]) -> Task:
        """The task of a CloudFormation request: its properties (and what else of the request it needs)."""
        return cls.from_properties(event["ResourceProperties"])

    @classmethod
    def from_old_properties(cls: type[T], event: Mapping[str, Any]) -> T | None:
        """The task an Update's old properties described, or None (not an Update, or unreadable)."""
        if event.get("RequestType") != "Update":
            return None
        try:
            return cls.from_properties(event.get("OldResourceProperties") or {})  # type: ignore[return-value]
        except InvalidProperty:
            return None

    @abc.abstractmethod
    def fits(self, run: Run) -> bool:
        """Whether a run GetMLTaskRuns lists has the properties this request's start gives a run (another
        resource may start runs that fit too: only the start time, or a request's own mark, tells them apart)."""

    def started_by(self, run: Run, sent_at: float, returned_at: float) -> bool:
        """Whether `run` may be the one a start call (whose reply was lost) started: by default a run of
        these properties that Glue says started while the call was out, within CLOCK_SKEW_S."""
        started = started_on(run)
        return (
            self.fits(run) and started is not None and sent_at - CLOCK_SKEW_S <= started <= returned_at + CLOCK_SKEW_S
        )

    def own_run(self, runs: TaskRuns, *, retry_until: float) -> Run | None:
        """The run this very request started, when its properties tell it apart from any other
        resource's (a generation's folder names its request); None when they cannot, by default."""
        return None

    def unchanged(self, old: Task) -> bool:
        """Whether an Update from `old` changes nothing the run depends on (for `reuses_answers`)."""
        return False

    def fallback(self, runs: TaskRuns, run_id: str) -> dict[str, Any]:
        """The Data of a rollback whose run failed and that answered nothing before: the run id."""
        return {"TaskRunId": run_id}

    @abc.abstractmethod
    def start(self, glue: Any, now: float) -> Any:
        """Start the run at `now` (epoch seconds); return Glue's TaskRunId (checked by the engine)."""

    @abc.abstractmethod
    def outputs(self, runs: TaskRuns, run: Run, before: Mapping[str, Any]) -> dict[str, Any]:
        """The Data of the SUCCESS answer for a run that SUCCEEDED; raise TaskFailed for a failed check.

        `before` is what `check` noted before the run started (nothing for a run done already),
        and `Gated`: False in a rollback, whose answer no check may fail.
        """

    def answer_done(
        self, runs: TaskRuns, event: Mapping[str, Any], own: OwnAnswers, *, gated: bool, retry_until: float
    ) -> dict[str, Any] | None:
        """The Data of this request when a run of this very resource already did what it asks (no new
        run is needed); None by default. TaskFailed when that run's result fails a check (`gated`)."""
        return None

    def check(self, runs: TaskRuns, s3: Any, event: Mapping[str, Any], *, retry_until: float) -> dict[str, Any]:
        """Before a run starts: raise TaskFailed for what Glue would refuse minutes later, and return what
        `outputs` needs to know of the time before the run (JSON, carried across hand-overs); {} by default."""
        return {}
