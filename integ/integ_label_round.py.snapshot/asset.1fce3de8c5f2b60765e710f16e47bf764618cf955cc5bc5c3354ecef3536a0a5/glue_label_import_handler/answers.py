"""The answer to CloudFormation: its Reason, and the one PUT to the presigned ResponseURL.

The ResponseURL carries a signature: it is never logged, whole or in part, on any path. Errors
while sending are logged by their type and HTTP status only.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import ssl
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .retries import FIRST_DELAY_S, MAX_DELAY_S, SYSTEM_CLOCK, Clock

LOGGER = logging.getLogger(__name__)

MAX_REASON_LENGTH = 256  # crhelper cuts longer reasons from the front
PUT_TIMEOUT_S = 5.0  # one attempt: connect, send about 1 KB, read the status
UNUSABLE_URL = "InvalidURL"  # http.client refuses the ResponseURL: trying again cannot help

HTTPSConnection = http.client.HTTPSConnection  # a module attribute, so tests can record the PUTs


class TaskFailed(Exception):
    """The resource's task did not succeed; the message is the Reason CloudFormation shows."""

    def __init__(self, reason: str, *, run_id: str = "") -> None:
        super().__init__(reason)
        self.run_id = run_id  # the task run it is about, if one started


def strict_json(value: Any) -> str:
    """JSON that every parser reads: a NaN or an infinity becomes null (never `NaN`, which is not JSON)."""
    return json.dumps(_finite(value), allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


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


def put_answer(url: str, body: dict[str, Any], *, deadline: float, clock: Clock = SYSTEM_CLOCK) -> bool:
    """PUT the answer to the ResponseURL; say whether CloudFormation's S3 took it.

    Server errors (5xx), connection errors and timeouts are retried with backoff until
    `deadline`: the body is the same each time, so a repeat after a lost reply says nothing new.
    A refusal (4xx) or a URL http.client cannot send to is final. Each attempt has a timeout, so a
    stalled endpoint cannot hold the invocation past its end.
    """
    payload = strict_json(body).encode()
    parts = urlsplit(url)
    target = urlunsplit(("", "", parts.path, parts.query, ""))
    outcome = {"action": "answer", "Status": body.get("Status"), "RequestId": body.get("RequestId")}
    delay = FIRST_DELAY_S
    while True:
        timeout = min(PUT_TIMEOUT_S, deadline - clock.now())
        if timeout <= 0:
            LOGGER.error({**outcome, "error": "no time left to answer"})
            return False
        status, problem = _put(parts.netloc, target, payload, timeout)
        if status is not None and 200 <= status < 300:
            LOGGER.info({**outcome, "http_status": status})
            return True
        LOGGER.error({**outcome, "http_status": status, "error": problem})
        if problem == UNUSABLE_URL or (status is not None and status < 500):
            return False
        if clock.now() + delay >= deadline:
            LOGGER.error({**outcome, "error": "gave up: no time left to try again"})
            return False
        clock.sleep(delay)
        delay = min(MAX_DELAY_S, delay * 2)


def _put(host: str, target: str, payload: bytes, timeout: float) -> tuple[int | None, str | None]:
    """One PUT: (HTTP status, None), or (None, the error's type) when no status came back."""
    connection = HTTPSConnection(host, timeout=timeout, context=ssl.create_default_context())
    try:
        connection.request("PUT", target, body=payload, headers={"content-type": ""})
        response = connection.getresponse()
        response.read()
        return response.status, None if response.status < 300 else f"HTTP {response.status} {response.reason}"
    except http.client.InvalidURL:
        return None, UNUSABLE_URL
    except (OSError, http.client.HTTPException) as error:
        # str(error) of some of these quotes the URL, signature included: name the type only.
        return None, type(error).__name__
    finally:
        connection.close()
