"""Custom::GlueEvaluateTransform: a quality gate (StartMLEvaluationTaskRun) as a task of the engine.

The evaluation estimates the transform's quality from its labels; Glue writes the result to
GetMLTransform's `EvaluationMetrics.FindMatchesMetrics`. The gate fails the deploy when a metric
is below its minimum, or when F1 dropped more than allowed from what the transform had before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from answers import TaskFailed, fit_reason
from engine import Task
from glue_runs import IN_FLIGHT_STATUSES, Run, TaskRuns
from request import optional_fraction, service_timeout_s, string_list, transform_id
from retries import error_code

LOGGER = logging.getLogger(__name__)

LOOKUP_S = 5.0  # how long a GetMLTransform may retry
METRICS = ("F1", "Precision", "Recall", "AreaUnderPRCurve")
FAILED_GATE_TAG = "glue-label-import:failed-gate"  # on the transform: the fingerprint of the last failed gate
CLAIM_TAG = "glue-label-import:evaluation:"  # + a resource's hash: on the transform, the run it started
MINIMUMS = {
    "MinF1": "F1",
    "MinPrecision": "Precision",
    "MinRecall": "Recall",
    "MinAreaUnderPRCurve": "AreaUnderPRCurve",
}


@dataclass(frozen=True)
class EvaluateTransform(Task):
    """One evaluation of a transform and the gates its metrics must pass."""

    task_run_type: ClassVar[str] = "EVALUATION"
    start_operation: ClassVar[str] = "StartMLEvaluationTaskRun"

    transform_id: str
    after: tuple[str, ...]  # the task run ids of the resources it follows: a change means labels changed
    minimums: tuple[tuple[str, float], ...]  # (metric, its minimum)
    max_f1_drop: float | None
    service_timeout_s: int
    transform_arn: str = ""  # of a request: the transform's ARN in the stack's partition, region, account
    claim_tag: str = ""  # of a request: the transform's tag that names this resource's last evaluation

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> EvaluateTransform:
        """Read and check TransformId, After, the Min* thresholds, MaxF1Drop and ServiceTimeout."""
        minimums = ((metric, optional_fraction(properties, name)) for name, metric in MINIMUMS.items())
        return cls(
            transform_id=transform_id(properties),
            after=string_list(properties, "After"),
            minimums=tuple((metric, minimum) for metric, minimum in minimums if minimum is not None),
            max_f1_drop=optional_fraction(properties, "MaxF1Drop"),
            service_timeout_s=service_timeout_s(properties),
        )

    @classmethod
    def from_request(cls, event: Mapping[str, Any]) -> EvaluateTransform:
        """The evaluation of a request: its properties, the transform's ARN and this resource's claim tag."""
        task = cls.from_properties(event["ResourceProperties"])
        owner = hashlib.sha256(f"{event['StackId']}/{event['LogicalResourceId']}".encode()).hexdigest()[:24]
        return replace(task, transform_arn=_transform_arn(event, task.transform_id), claim_tag=CLAIM_TAG + owner)

    def is_ours(self, run: Run) -> bool:
        """Never by its properties: an evaluation run has none. `in_flight` reads this resource's claim instead."""
        return False

    def in_flight(self, runs: TaskRuns, *, retry_until: float) -> Run | None:
        """The evaluation this resource started (its claim tag on the transform names it), if still in flight.

        Evaluations started by anyone else (the console, another stack's gate) are never adopted or
        cancelled.
        """
        run_id = _tag(runs, self.transform_arn, self.claim_tag, retry_until=retry_until)
        if run_id is None:
            return None
        run = runs.call("get_ml_task_run", retry_until=retry_until, TransformId=self.transform_id, TaskRunId=run_id)
        return run if run.get("Status") in IN_FLIGHT_STATUSES else None

    def start(self, glue: Any, now: float) -> Any:
        """StartMLEvaluationTaskRun, then the claim: the transform's tag naming this resource's run."""
        run_id = glue.start_ml_evaluation_task_run(TransformId=self.transform_id).get("TaskRunId")
        if isinstance(run_id, str) and run_id:
            try:
                glue.tag_resource(ResourceArn=self.transform_arn, TagsToAdd={self.claim_tag: run_id})
            except (BotoCoreError, ClientError) as error:
                LOGGER.warning({"action": "claim evaluation", "error": error_code(error)})
        return run_id

    def done_already(self, runs: TaskRuns, event: Mapping[str, Any], *, retry_until: float) -> Run | None:
        """For an Update whose inputs (transform, the runs it follows) did not change: the last evaluation.

        Its metrics are still the transform's, so they are answered (and gated: thresholds may
        have changed) without a new run.
        """
        old = self.from_old_properties(event)
        if old is None or (old.transform_id, old.after) != (self.transform_id, self.after):
            return None
        return next(
            runs.history(self.transform_id, self.task_run_type, status="SUCCEEDED", retry_until=retry_until), None
        )

    def check(self, runs: TaskRuns, s3: Any, event: Mapping[str, Any], *, retry_until: float) -> dict[str, Any]:
        """The transform must be READY; note its F1 before the run, and whether to gate the run.

        An Update whose old properties are those of a gate that failed (the transform carries
        their fingerprint in a tag) is CloudFormation's rollback: it evaluates the restored labels
        without gates, so that a rollback cannot fail on the estimate's noise.
        """
        transform = runs.transform(self.transform_id, retry_until=retry_until)
        status = transform.get("Status")
        if status != "READY":
            raise TaskFailed(
                f"transform {self.transform_id[:100]} is {status}: Glue evaluates only a READY transform"
                " (one with labels); import labels first"
            )
        old = self.from_old_properties(event)
        failed_gate = _tag(runs, self.transform_arn, FAILED_GATE_TAG, retry_until=retry_until) if old else None
        rollback = old is not None and failed_gate == old.fingerprint()
        if rollback:
            LOGGER.info({"action": "evaluate without gates", "reason": "rollback of a failed gate"})
        return {"F1": _metrics_of(transform).get("F1"), "Gated": not rollback}

    def outputs(self, runs: TaskRuns, run: Run, before: Mapping[str, Any]) -> dict[str, Any]:
        """TaskRunId and the four metrics; TaskFailed naming every gate that failed."""
        metrics = _metrics_of(runs.transform(self.transform_id, retry_until=runs.clock.now() + LOOKUP_S))
        coordinates = f" (task run {run['TaskRunId']}, log group {run.get('LogGroupName', 'unknown')})"
        if any(metric not in metrics for metric in METRICS):
            raise TaskFailed(
                f"Glue reported no evaluation metrics for transform {self.transform_id[:100]}{coordinates}"
            )
        failures = self.gate_failures(metrics, before.get("F1")) if before.get("Gated", True) else []
        if failures:
            if before:  # a run this request started (not the metrics of one done already)
                _mark_failed_gate(runs, self.transform_arn, self.fingerprint())
            raise TaskFailed(fit_reason("", "; ".join(failures), coordinates))
        LOGGER.info({"action": "metrics", "TransformId": self.transform_id, **{m: metrics[m] for m in METRICS}})
        return {"TaskRunId": run["TaskRunId"], **{metric: round(metrics[metric], 4) for metric in METRICS}}

    def fingerprint(self) -> str:
        """What identifies this gate's request: the transform, the runs it follows, its thresholds."""
        inputs = [self.transform_id, self.after, self.minimums, self.max_f1_drop]
        return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:32]

    def gate_failures(self, metrics: Mapping[str, float], f1_before: float | None) -> list[str]:
        """Each gate the metrics fail, with the metric, its value and the threshold."""
        failures = [
            f"{metric} {_shown(metrics[metric])} is below the minimum {_shown(minimum)}"
            for metric, minimum in self.minimums
            if metric in metrics and metrics[metric] < minimum
        ]
        if self.max_f1_drop is not None and f1_before is not None and "F1" in metrics:
            drop = f1_before - metrics["F1"]
            if drop > self.max_f1_drop:
                failures.append(
                    f"F1 dropped {_shown(drop)} from {_shown(f1_before)}, more than {_shown(self.max_f1_drop)}"
                )
        return failures


def _transform_arn(event: Mapping[str, Any], transform_id: str) -> str:
    """The transform's ARN, in the partition, region and account of the stack."""
    _, partition, _, region, account, _ = str(event.get("StackId", "")).split(":", 5)
    return f"arn:{partition}:glue:{region}:{account}:mlTransform/{transform_id}"


def _tag(runs: TaskRuns, arn: str, key: str, *, retry_until: float) -> str | None:
    """The value of one of the transform's tags, if it carries it (None, logged, when it cannot be read)."""
    try:
        tags = runs.call("get_tags", retry_until=retry_until, ResourceArn=arn).get("Tags", {})
    except (BotoCoreError, ClientError) as error:
        LOGGER.warning({"action": "read tag", "tag": key, "error": error_code(error)})
        return None
    return str(tags[key]) if key in tags else None


def _mark_failed_gate(runs: TaskRuns, arn: str, fingerprint: str) -> None:
    """Tag the transform with the failed gate's fingerprint, for its rollback to recognize."""
    try:
        runs.call(
            "tag_resource",
            retry_until=runs.clock.now() + LOOKUP_S,
            ResourceArn=arn,
            TagsToAdd={FAILED_GATE_TAG: fingerprint},
        )
    except (BotoCoreError, ClientError) as error:
        LOGGER.warning({"action": "mark failed gate", "error": error_code(error)})


def _metrics_of(transform: Mapping[str, Any]) -> dict[str, float]:
    """The FindMatches metrics GetMLTransform reports, as numbers (those it has)."""
    reported = (transform.get("EvaluationMetrics") or {}).get("FindMatchesMetrics") or {}
    metrics = {}
    for metric in METRICS:
        try:
            metrics[metric] = float(reported[metric])
        except (KeyError, TypeError, ValueError):
            continue
    return metrics


def _shown(number: float) -> str:
    """A metric as the Reason shows it: two decimals, more when they matter (0.80, 0.805)."""
    text = f"{number:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.partition(".")[2]))
