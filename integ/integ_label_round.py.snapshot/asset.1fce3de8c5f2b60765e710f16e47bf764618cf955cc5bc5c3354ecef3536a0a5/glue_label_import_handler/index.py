"""Lambda entry point: crhelper wiring around the task-run engine, one answer per request.

Create and Update run the resource's Glue ML task run to its end (see engine.py), Delete cancels
the resource's run still in flight and always succeeds, within 3 s. `ResourceType` says which
task a request is. Whatever happens (a crash, a bad property, an AWS error, a ResponseURL that
fails or stalls, a Lambda about to time out), each request gets exactly one answer, or none from
this invocation when another one took the wait over. The answer of a Create or Update is recorded
in the run ledger (LEDGER_TABLE) before it is sent: a duplicate delivery sends the same one.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from crhelper import CfnResource

from .answers import put_answer
from .deadline import CallTimedOut, within
from .engine import DELETE_BUDGET_S, Engine
from .evaluation import EvaluateTransform
from .generation import GenerateLabelingSet
from .glue_runs import TaskRuns
from .imports import ImportLabels
from .ledger import Ledger
from .request import InvalidProperty, physical_id
from .retries import SYSTEM_CLOCK, Clock
from .task import Task

LOGGER = logging.getLogger("glue_label_import")

TASKS: dict[str, type[Task]] = {
    "Custom::GlueImportLabels": ImportLabels,
    "Custom::GlueEvaluateTransform": EvaluateTransform,
    "Custom::GlueGenerateLabelingSet": GenerateLabelingSet,
}
ANSWER_MARGIN_S = 0.1  # an answer still being sent this close to the Lambda's limit gives up
RECORD_ANSWER_S = 3.0  # the most the ledger may take to record an answer before it is sent
CLOCK: Clock = SYSTEM_CLOCK


def log_level(value: str | None) -> str:
    """LOG_LEVEL as `logging` knows it (any case), INFO for anything else: a typo never stops an answer."""
    name = (value or "").strip().upper()
    return name if isinstance(logging.getLevelName(name), int) else "INFO"


class _Resource(CfnResource):
    """crhelper's CfnResource, answering each request exactly once, to that request's ResponseURL.

    The first answer to start sending wins: crhelper's "Execution timed out" timer stays silent
    while an answer is on its way, and so does everything once the wait was handed over. The
    answer is PUT with a timeout and retried within the invocation's time (`put_answer`).
    """

    def __init__(self) -> None:
        super().__init__(
            json_logging=True, log_level=log_level(os.environ.get("LOG_LEVEL")), boto_level="WARNING", sleep_on_delete=0
        )
        self._answer_lock = threading.Lock()
        self._answered = False
        self.handed_over = False

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        # Nothing of the previous request in this warm container may reach this one's answer: an
        # event crhelper cannot read is answered to its own ResponseURL, or not at all.
        fields = event if isinstance(event, dict) else {}
        self._response_url = str(fields.get("ResponseURL") or "")
        self.StackId, self.RequestId, self.LogicalResourceId = (
            str(fields.get(name) or "") for name in ("StackId", "RequestId", "LogicalResourceId")
        )
        self.PhysicalResourceId, self.Data, self.Reason = "", {}, ""
        self._event = fields
        self._context = context
        self._answered = self.handed_over = False
        super().__call__(event, context)

    def _log_setup(self, event: dict[str, Any], context: Any) -> None:
        try:
            super()._log_setup(event, context)  # type: ignore[misc]  # private: not in crhelper's stubs
        except Exception as error:  # logging is no reason to leave CloudFormation without an answer
            LOGGER.warning({"action": "log setup", "error": repr(error)})

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        with self._answer_lock:
            if self._answered or self.handed_over:
                return
            self._answered = True
        if not self._response_url:
            LOGGER.error({"action": "answer", "error": "the request has no ResponseURL: nobody to answer"})
            return
        remaining_s = self._context.get_remaining_time_in_millis() / 1000
        deadline = CLOCK.now() + remaining_s - ANSWER_MARGIN_S
        if self._event.get("RequestType") in ("Create", "Update"):
            status, reason = self._standing_answer(status, reason, min(RECORD_ANSWER_S, remaining_s / 2))
        super()._send(  # type: ignore[misc]  # private: not in crhelper's stubs
            status,
            reason,
            send_response=lambda url, body, _ssl_verify: put_answer(url, body, deadline=deadline, clock=CLOCK),
        )

    def _standing_answer(self, status: str | None, reason: str, seconds: float) -> tuple[str, str]:
        """Record the answer in the ledger and take the one that stands (a duplicate's first answer)."""
        answer = {
            "Status": status or self.Status,
            "Reason": reason if status else str(self.Reason),
            "Data": dict(self.Data),
            "PhysicalResourceId": self.PhysicalResourceId,
        }
        try:
            standing = within(lambda: engine.answer(self._event, answer), seconds)
        except Exception as error:  # the answer goes out regardless
            LOGGER.warning({"action": "record answer", "error": type(error).__name__})
            standing = answer
        self.Data = dict(standing.get("Data") or {})
        self.PhysicalResourceId = str(standing.get("PhysicalResourceId") or self.PhysicalResourceId)
        return str(standing.get("Status")), str(standing.get("Reason") or "")


helper = _Resource()
# The event, presigned ResponseURL included, reaches crhelper's and botocore's DEBUG lines:
# keep those loggers above DEBUG whatever LOG_LEVEL says.
logging.getLogger("crhelper").setLevel(logging.INFO)
for _name in ("boto3", "botocore", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# Timeouts well inside the margins: no single call can eat the time left to answer.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=5)
_QUICK_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=0.5, read_timeout=1)
_LEDGER_TABLE = os.environ.get("LEDGER_TABLE")
_LEDGER = Ledger(boto3.client("dynamodb", config=_QUICK_CONFIG), _LEDGER_TABLE, clock=CLOCK) if _LEDGER_TABLE else None
engine = Engine(
    TaskRuns(boto3.client("glue", config=_CLIENT_CONFIG)),
    TaskRuns(boto3.client("glue", config=_QUICK_CONFIG)),
    lambda_client=boto3.client("lambda", config=_CLIENT_CONFIG),
    s3=boto3.client("s3", config=_CLIENT_CONFIG),
    cloudformation=boto3.client("cloudformation", config=_CLIENT_CONFIG),
    ledger=_LEDGER,
    clock=CLOCK,
)


@helper.create
@helper.update
def run_task(event: dict[str, Any], context: Any) -> str:
    """Run the resource's task to its end (or hand the wait over); the answer's PhysicalResourceId."""
    resource_id = _resource_id(event)
    helper.PhysicalResourceId = resource_id  # a FAILED answer keeps it too
    task = _task_type(event).from_request(event)
    data = engine.run(task, event, context)
    if data is None:
        helper.handed_over = True
    else:
        helper.Data.update(data)
    return resource_id


@helper.delete
def cancel_task(event: dict[str, Any], context: Any) -> None:
    """Cancel the resource's run if it is still in flight; never fail, and answer within 3 s."""
    try:
        within(lambda: engine.cancel(event), DELETE_BUDGET_S)
    except CallTimedOut:
        LOGGER.warning({"action": "delete", "result": f"AWS did not answer within {DELETE_BUDGET_S:g} s: left"})
    # A Delete never fails, so that the stack can go: what can go wrong is an AWS call that failed
    # unwrapped, an event or ledger item without a field or of another shape, a thread not started.
    except (BotoCoreError, ClientError, LookupError, TypeError, ValueError, RuntimeError) as error:
        LOGGER.warning({"action": "delete", "error": type(error).__name__, "answer": "SUCCESS: a Delete never fails"})


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler: one answer to CloudFormation per request."""
    helper(event, context)


def _task_type(event: dict[str, Any]) -> type[Task]:
    resource_type = event.get("ResourceType")
    if resource_type not in TASKS:
        raise InvalidProperty(f"ResourceType {resource_type!r} is not one of {', '.join(sorted(TASKS))}")
    return TASKS[resource_type]


def _resource_id(event: dict[str, Any]) -> str:
    """The id CloudFormation sent (Update), or this resource's deterministic one (Create)."""
    if "PhysicalResourceId" in event:
        return str(event["PhysicalResourceId"])
    return physical_id(str(event["ResourceProperties"].get("TransformId")), event["LogicalResourceId"])
