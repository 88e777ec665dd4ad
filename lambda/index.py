"""Lambda entry point of Custom::GlueImportLabels: crhelper wiring around the Glue calls.

Create and Update start the label import (or adopt the same import already running) and wait
for it in the invocation. When the invocation's time runs low, the wait is handed over to a new
asynchronous invocation of this function, which answers instead; when the resource's
ServiceTimeout comes near, the run is cancelled and the request answered FAILED. Delete cancels
this resource's run if one is still in flight and always succeeds.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from crhelper import CfnResource

from glue_runs import IN_FLIGHT_STATUSES, NOT_FOUND, ImportFailed, ImportRuns, failure_reason
from request import ImportRequest, InvalidProperty, physical_id
from retries import error_code, refused_or_unsent, with_retries

LOGGER = logging.getLogger("glue_label_import")

HANDOVER_KEY = "GlueImportLabelsHandover"
IMPORT_FIELDS = ("transform_id", "input_s3_path", "replace_all_labels")  # what an Update re-imports for
HANDOVER_MARGIN_S = 30.0  # left in an invocation to hand the wait over, slow calls and all
DEADLINE_MARGIN_S = 30.0  # left before ServiceTimeout to cancel the run and answer
START_RETRY_S = 60.0  # how long throttling may delay StartImportLabelsTaskRun
CANCEL_RETRY_S = 5.0
HANDOVER_RETRY_S = 5.0
DELETE_BUDGET_S = 1.0  # with the quick client's timeouts, a Delete answers within 3 s whatever Glue does


class _Resource(CfnResource):
    """crhelper's CfnResource, silent for a request whose wait went to another invocation."""

    handed_over = False

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        self.handed_over = False
        super().__call__(event, context)

    def _send(self, *args: Any, **kwargs: Any) -> None:
        # Every crhelper answer goes through _send, the one of its "Execution timed out" timer too.
        if not self.handed_over:
            super()._send(*args, **kwargs)  # type: ignore[misc]  # private: not in crhelper's stubs


helper = _Resource(
    json_logging=True,
    log_level=os.environ.get("LOG_LEVEL", "INFO"),
    boto_level="WARNING",
    sleep_on_delete=0,
)
# The event, presigned ResponseURL included, reaches crhelper's and botocore's DEBUG lines:
# keep those loggers above DEBUG whatever LOG_LEVEL says.
logging.getLogger("crhelper").setLevel(logging.INFO)
for _name in ("boto3", "botocore", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# Timeouts well inside the margins above: no single call can eat the time left to answer.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=5)
_QUICK_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=0.5, read_timeout=1)
runs = ImportRuns(boto3.client("glue", config=_CLIENT_CONFIG))
delete_runs = ImportRuns(boto3.client("glue", config=_QUICK_CONFIG))
lambda_client = boto3.client("lambda", config=_CLIENT_CONFIG)


@helper.create
@helper.update
def import_labels(event: dict[str, Any], context: Any) -> str:
    """Start or adopt the import, wait for its end, hand the wait over, or time it out."""
    resource_id = _resource_id(event)
    helper.PhysicalResourceId = resource_id  # a FAILED answer keeps it too
    request = ImportRequest.from_properties(event["ResourceProperties"])

    now = runs.clock()
    handover = event.get(HANDOVER_KEY)
    started_at = float(handover["StartedAt"]) if handover else now
    deadline = started_at + request.service_timeout_s - DEADLINE_MARGIN_S
    if handover:
        run_id = str(handover["TaskRunId"])
    else:
        retry_until = min(now + START_RETRY_S, deadline)
        previous = _unchanged_import(event, request, retry_until=retry_until)
        if previous:
            helper.Data.update(_outputs(request.transform_id, previous))
            return resource_id
        run_id = runs.start(request, retry_until=retry_until)
    invocation_end = now + context.get_remaining_time_in_millis() / 1000 - HANDOVER_MARGIN_S

    try:
        run = runs.wait(request.transform_id, run_id, started_at=started_at, stop_at=min(deadline, invocation_end))
        if run is None and invocation_end < deadline:
            _hand_over(event, context, run_id, started_at)
            return resource_id
    except Exception:
        _cancel(request.transform_id, run_id)  # an answer that gives up on the run leaves none behind
        raise
    if run is None:
        outcome = "cancelled" if _cancel(request.transform_id, run_id) else "could not be cancelled"
        raise ImportFailed(f"timed out after {request.service_timeout_s / 60:g} minutes; task run {run_id} {outcome}")
    if run["Status"] != "SUCCEEDED":
        raise ImportFailed(failure_reason(run))
    helper.Data.update(_outputs(request.transform_id, run_id))
    return resource_id


@helper.delete
def cancel_import(event: dict[str, Any], context: Any) -> None:
    """Cancel this resource's import if it is still in flight; never fail."""
    try:
        request = ImportRequest.from_properties(event["ResourceProperties"])
        retry_until = delete_runs.clock() + DELETE_BUDGET_S
        run_id = delete_runs.find_run(request, IN_FLIGHT_STATUSES, retry_until=retry_until)
        if run_id:
            delete_runs.cancel(request.transform_id, run_id, retry_until=retry_until)
    except Exception as error:  # a Delete never fails: whatever went wrong, the stack can go
        expected = isinstance(error, (InvalidProperty, KeyError)) or error_code(error) == NOT_FOUND
        LOGGER.log(logging.INFO if expected else logging.WARNING, {"action": "delete", "nothing cancelled": str(error)})


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler: one answer to CloudFormation per request, from crhelper."""
    helper(event, context)


def _resource_id(event: dict[str, Any]) -> str:
    """The id CloudFormation sent (Update), or this resource's deterministic one (Create)."""
    if "PhysicalResourceId" in event:
        return str(event["PhysicalResourceId"])
    return physical_id(str(event["ResourceProperties"].get("TransformId")), event["LogicalResourceId"])


def _unchanged_import(event: dict[str, Any], request: ImportRequest, *, retry_until: float) -> str | None:
    """For an Update that changes no import property (only the timeout, say): the run that did the import.

    None when the import must run (again): a Create, a changed property, or no such run found.
    """
    if event["RequestType"] != "Update":
        return None
    try:
        old = ImportRequest.from_properties(event.get("OldResourceProperties") or {})
    except InvalidProperty:
        return None
    if any(getattr(old, field) != getattr(request, field) for field in IMPORT_FIELDS):
        return None
    previous = runs.find_run(request, frozenset({"SUCCEEDED"}), retry_until=retry_until)
    LOGGER.info({"action": "unchanged", "TransformId": request.transform_id, "TaskRunId": previous})
    return previous


def _hand_over(event: dict[str, Any], context: Any, run_id: str, started_at: float) -> None:
    """Let a fresh invocation of this function go on waiting and answer in this one's place."""
    payload = json.dumps({**event, HANDOVER_KEY: {"TaskRunId": run_id, "StartedAt": started_at}}).encode()
    with_retries(
        lambda: lambda_client.invoke(
            FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=payload
        ),
        retry_until=runs.clock() + HANDOVER_RETRY_S,
        clock=runs.clock,
        sleep=runs.sleep,
        what="Invoke",
        retry_if=refused_or_unsent,  # a second hand-over would mean a second answer
    )
    helper.handed_over = True
    LOGGER.info({"action": "hand-over", "TransformId": event["ResourceProperties"]["TransformId"], "TaskRunId": run_id})


def _cancel(transform_id: str, run_id: str) -> bool:
    """Cancel the run if Glue lets us; say whether it did."""
    try:
        runs.cancel(transform_id, run_id, retry_until=runs.clock() + CANCEL_RETRY_S)
    except (BotoCoreError, ClientError) as error:
        LOGGER.warning({"action": "cancel", "TransformId": transform_id, "TaskRunId": run_id, "error": str(error)})
        return False
    return True


def _outputs(transform_id: str, run_id: str) -> dict[str, Any]:
    """The Data of a SUCCESS answer: the run's id and, when Glue tells it, the transform's label count."""
    outputs: dict[str, Any] = {"TaskRunId": run_id}
    try:
        label_count = runs.label_count(transform_id)
    except (BotoCoreError, ClientError) as error:
        LOGGER.warning({"action": "label-count", "TransformId": transform_id, "error": str(error)})
        label_count = None
    if label_count is not None:
        outputs["LabelCount"] = label_count
    return outputs
