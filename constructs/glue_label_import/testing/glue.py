"""Glue's ML task-run operations, grafted onto moto's Glue backend and responses by ``install()``.

Starts, reads, lists and cancels of task runs (``runs``), with Glue's refusals (``rules``), the label
files and labeling sets they read and write (``s3_files``), and a transform reported as Glue does:
``Status``, ``EvaluationMetrics`` and ``Schema``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, cast

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError
from moto.core.responses import ActionResult
from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import GlueBackend
from moto.glue.responses import GlueResponse
from moto.moto_api._internal import mock_random
from moto.utilities.paginator import paginate

from glue_label_import._handler.rules import IN_FLIGHT_STATUSES

from . import s3_files
from .control import glue_ml
from .faults import replies
from .rules import AccessDeniedException, MLTransformNotReadyException, check_capacity, parse_s3_uri
from .runs import FakeMLTaskRun, RunScript, matches, sorted_runs, task_runs_of
from .transforms import find_matches_metrics

_PAGINATION_MODEL = {
    "get_ml_task_runs": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "task_run_id",
    }
}

_T = TypeVar("_T")


class MLTaskRunBackend(GlueBackend):
    """Task-run state and operations, grafted onto ``GlueBackend`` by ``install()``."""

    @property
    def ml_task_runs(self) -> dict[str, FakeMLTaskRun]:
        return task_runs_of(self)

    def start_import_labels_task_run(self, transform_id: str, input_s3_path: str, replace: bool) -> str:
        transform = self.get_ml_transform(transform_id)
        label_rows = s3_files.label_rows(self, input_s3_path, transform.role)

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

    def start_ml_labeling_set_generation_task_run(self, transform_id: str, output_s3_path: str) -> str:
        transform = self.get_ml_transform(transform_id)
        bucket, prefix = parse_s3_uri(output_s3_path)
        columns = [column["Name"] for column in transform.as_dict().get("Schema", [])] or ["id"]

        def generate(transform: Any) -> None:
            rows = s3_files.labeling_set_rows(columns)
            s3_files.write_parts(self, bucket, prefix, ["labeling_set_id", "label", *columns], rows)

        properties = {"LabelingSetGenerationTaskRunProperties": {"OutputS3Path": output_s3_path}}
        check_capacity(self, transform_id)
        script = glue_ml._next_script("LABELING_SET_GENERATION")
        denial = s3_files.generation_denial(self, transform.role, bucket, prefix)
        if denial is not None:  # the run fails
            script = replace(script, final_status="FAILED", error_string=f"AccessDenied: {denial}")
        return self._start_run(transform_id, "LABELING_SET_GENERATION", properties, script, generate)

    def start_export_labels_task_run(self, transform_id: str, output_s3_path: str) -> str:
        self.apply_completed_runs()
        labels = getattr(self.get_ml_transform(transform_id), "labels", [])
        if not labels:
            raise EntityNotFoundException(
                f"No labelset exists for transformId {transform_id} in account id {self.account_id}."
            )
        bucket, prefix = parse_s3_uri(output_s3_path)
        s3_files.check_export_bucket(self, bucket)
        header = list(labels[0])

        def export(transform: Any) -> None:
            s3_files.write_parts(self, bucket, prefix, header, labels)

        properties = {"ExportLabelsTaskRunProperties": {"OutputS3Path": output_s3_path}}
        return self._start_run(transform_id, "EXPORT_LABELS", properties, glue_ml._next_script("EXPORT_LABELS"), export)

    def start_ml_evaluation_task_run(self, transform_id: str) -> str:
        self.apply_completed_runs()
        if self.get_ml_transform(transform_id).label_count == 0:
            raise MLTransformNotReadyException(
                "This operation can only be applied to a transform that is in a READY state."
            )
        check_capacity(self, transform_id)
        script = glue_ml._next_script("EVALUATION")

        def evaluate(transform: Any) -> None:
            transform.evaluation_metrics = {
                "TransformType": "FIND_MATCHES",
                "FindMatchesMetrics": find_matches_metrics(transform, script.metrics or {}),
            }

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
            if run.transform_id == transform_id and matches(run, filter_criteria, now)
        ]
        return sorted_runs(runs, sort_criteria, now)

    def cancel_ml_task_run(self, transform_id: str, task_run_id: str) -> FakeMLTaskRun:
        run = self.get_ml_task_run(transform_id, task_run_id)
        now = glue_ml.now()
        if run.status_at(now) in IN_FLIGHT_STATUSES:
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


class MLTaskRunResponse(GlueResponse):
    """Request handlers, grafted onto ``GlueResponse`` by ``install()``."""

    @property
    def ml_backend(self) -> MLTaskRunBackend:
        return cast(MLTaskRunBackend, self.glue_backend)

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


def graft(source: type, target: type) -> None:
    """Copy the attributes ``source`` defines itself onto ``target``."""
    for name, value in vars(source).items():
        if not name.startswith("__"):
            setattr(target, name, value)


def applying_completed_runs(method: Callable[..., _T]) -> Callable[..., _T]:
    """Wrap a backend method so runs that finished are applied first."""

    @functools.wraps(method)
    def wrapper(self: MLTaskRunBackend, *args: Any, **kwargs: Any) -> _T:
        self.apply_completed_runs()
        return method(self, *args, **kwargs)

    return wrapper
