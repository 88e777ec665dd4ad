"""Custom::GlueGenerateLabelingSet: the next labeling set (StartMLLabelingSetGenerationTaskRun) as a task.

Each run writes into a new folder under the resource's OutputS3Path prefix, named by the time the
run started (to the millisecond), by its resource (stack and logical id) and by its request
(`20260101T120000123Z-5e6f7a8b-1a2b3c4d/`), so that the rounds sort in time order, two deploys
never write into one folder, and a request's own run (after a lost start reply, a duplicate
delivery, a crash) and a resource's own labeling sets are recognized by their folders, whoever
else generates labeling sets under the same prefix.
Glue writes the files as the transform's role. A rollback, and an Update that changes nothing it
depends on, answer the folder answered before (it still exists) without a run.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from .glue_runs import Run, TaskRuns
from .request import checked_string, service_timeout_s, string_list, transform_id
from .retries import error_code
from .rules import s3_prefix_problem
from .task import Task

LOGGER = logging.getLogger(__name__)
LOOKUP_S = 5.0  # how long the search for the newest labeling set may take
_FOLDER = re.compile(r"\d{8}T\d{9}Z-([0-9a-f]{8})-([0-9a-f]{8})/")  # a folder start() names: time, resource, request


@dataclass(frozen=True)
class GenerateLabelingSet(Task):
    """One labeling-set generation into a new folder under a prefix."""

    task_run_type: ClassVar[str] = "LABELING_SET_GENERATION"
    start_operation: ClassVar[str] = "StartMLLabelingSetGenerationTaskRun"
    reuses_answers: ClassVar[bool] = True

    transform_id: str
    output_prefix: str  # s3://bucket/prefix/, ending in "/"
    after: tuple[str, ...]  # the task run ids of the resources it follows
    service_timeout_s: int
    resource_mark: str = ""  # what names the resource in its folders ("" for properties read without one)
    request_mark: str = ""  # what names the request in its folders (the same)

    @classmethod
    def from_request(cls, event: Mapping[str, Any]) -> GenerateLabelingSet:
        """The task of a request: its properties, and the marks of its resource and its RequestId."""
        task = cls.from_properties(event["ResourceProperties"])
        resource = _mark(f"{event['StackId']}#{event['LogicalResourceId']}")
        return replace(task, resource_mark=resource, request_mark=_mark(str(event["RequestId"])))

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> GenerateLabelingSet:
        """Read and check TransformId, OutputS3Path (a prefix), After and ServiceTimeout."""
        prefix = checked_string(properties, "OutputS3Path", s3_prefix_problem)
        return cls(
            transform_id=transform_id(properties),
            output_prefix=prefix if prefix.endswith("/") else prefix + "/",
            after=string_list(properties, "After"),
            service_timeout_s=service_timeout_s(properties),
        )

    def fits(self, run: Run) -> bool:
        """A generation into a folder under this resource's prefix."""
        return str(_output_of(run)).startswith(self.output_prefix)

    def started_by(self, run: Run, sent_at: float, returned_at: float) -> bool:
        """A generation into a folder of this request."""
        return self._of_this_request(run)

    def own_run(self, runs: TaskRuns, *, retry_until: float) -> Run | None:
        """The newest generation into a folder of this request, if any (a duplicate delivery's, say)."""
        for run in runs.history(self.transform_id, self.task_run_type, retry_until=retry_until):
            if self._of_this_request(run):
                return run
        return None

    def _of_this_request(self, run: Run) -> bool:
        return self._marks_of(run) == (self.resource_mark, self.request_mark)

    def _of_this_resource(self, run: Run) -> bool:
        marks = self._marks_of(run)
        return marks is not None and marks[0] == self.resource_mark

    def _marks_of(self, run: Run) -> tuple[str, str] | None:
        """The resource's and the request's marks in the name of the run's folder under this prefix, if it has one."""
        output = str(_output_of(run))
        folder = _FOLDER.fullmatch(output[len(self.output_prefix) :]) if output.startswith(self.output_prefix) else None
        return (folder[1], folder[2]) if folder else None

    def unchanged(self, old: Task) -> bool:
        """The transform, the prefix and the runs it follows are those of `old`."""
        return isinstance(old, GenerateLabelingSet) and (old.transform_id, old.output_prefix, old.after) == (
            self.transform_id,
            self.output_prefix,
            self.after,
        )

    def start(self, glue: Any, now: float) -> Any:
        """StartMLLabelingSetGenerationTaskRun into a new folder named by the time, to the millisecond."""
        response = glue.start_ml_labeling_set_generation_task_run(
            TransformId=self.transform_id,
            OutputS3Path=f"{self.output_prefix}{_timestamp(now)}Z-{self.resource_mark}-{self.request_mark}/",
        )
        return response.get("TaskRunId")

    def outputs(self, runs: TaskRuns, run: Run, before: Mapping[str, Any]) -> dict[str, Any]:
        """TaskRunId and OutputS3Path: the folder this round's labeling set is in."""
        return {"TaskRunId": run["TaskRunId"], "OutputS3Path": _output_of(run)}

    def fallback(self, runs: TaskRuns, run_id: str) -> dict[str, Any]:
        """A rollback with no answer on record (the ledger out of reach): this resource's newest labeling
        set, or the prefix itself, so that OutputS3Path is always answered and no run starts."""
        try:
            until = runs.clock.now() + LOOKUP_S
            for run in runs.history(self.transform_id, self.task_run_type, status="SUCCEEDED", retry_until=until):
                if self._of_this_resource(run):
                    return {"TaskRunId": run["TaskRunId"], "OutputS3Path": _output_of(run)}
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning(
                {"action": "newest labeling set", "TransformId": self.transform_id, "error": error_code(error)}
            )
        return {"TaskRunId": run_id, "OutputS3Path": self.output_prefix}


def _timestamp(now: float) -> str:
    """The time in a folder's name, to the millisecond: 20260101T120000123."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}"


def _mark(name: str) -> str:
    """What stands for a resource or a request in a folder's name: 8 hex digits of its hash."""
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def _output_of(run: Run) -> Any:
    """The OutputS3Path of a generation run, as GetMLTaskRun(s) reports it."""
    return run.get("Properties", {}).get("LabelingSetGenerationTaskRunProperties", {}).get("OutputS3Path")
