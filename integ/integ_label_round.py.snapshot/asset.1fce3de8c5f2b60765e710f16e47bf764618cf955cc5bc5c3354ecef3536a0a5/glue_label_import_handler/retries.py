"""Retrying AWS calls that failed for a passing reason: throttling, a service hiccup, the network.

Errors fall in three kinds, and what may be retried depends on the call:
- refused or unsent (`surely_did_nothing`): AWS said "not now" (throttling, capacity) or the
  request never reached it. Any call may be tried again.
- effect unknown: a server fault, a timeout or a connection lost after the request went out. AWS
  may have done the call. Only calls that are safe to repeat (reads, a start that first looks for
  the run it may have started) are tried again.
- anything else: retrying cannot mend it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from .deadline import within

LOGGER = logging.getLogger(__name__)

REFUSED_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "ConcurrentRunsExceededException",  # Glue: 3 task runs per transform, 30 per account
    }
)
SERVER_FAULT_CODES = frozenset({"InternalServiceException", "OperationTimeoutException", "ServiceException"})
FIRST_DELAY_S = 0.25
MAX_DELAY_S = 8.0
CALL_DEADLINE_S = 10.0  # the most one attempt of a call may take in all, a trickling answer included
MIN_CALL_S = 1.0  # what an attempt may take even when `retry_until` has (nearly) passed

T = TypeVar("T")


@dataclass(frozen=True)
class Clock:
    """Wall-clock time and sleep; tests give a fake one that moves on at once."""

    now: Callable[[], float] = field(default=time.time)
    sleep: Callable[[float], None] = field(default=time.sleep)


SYSTEM_CLOCK = Clock()


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError, or the exception's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return type(error).__name__


def surely_did_nothing(error: Exception) -> bool:
    """Whether the call surely had no effect: AWS refused it for now, or it never reached AWS.

    A server fault or a read timeout is not such an error: AWS may have done the call and only
    the answer was lost.
    """
    if isinstance(error, ClientError):
        return error_code(error) in REFUSED_ERROR_CODES
    return isinstance(error, ConnectionError)  # connect timeout, DNS, TLS: the request never went out


def effect_unknown(error: Exception) -> bool:
    """Whether AWS may or may not have done the call: a server fault, or its answer was lost."""
    if isinstance(error, ClientError):
        return error_code(error) in SERVER_FAULT_CODES
    return isinstance(error, HTTPClientError)  # read timeout, connection closed mid-answer


def is_transient(error: Exception) -> bool:
    """Whether the same call may well succeed if tried again later."""
    return surely_did_nothing(error) or effect_unknown(error)


def with_retries(
    call: Callable[[], T],
    *,
    retry_until: float,
    what: str,
    clock: Clock = SYSTEM_CLOCK,
    retry_if: Callable[[Exception], bool] = is_transient,
) -> T:
    """`call()`, retried with jittered exponential backoff while `retry_if(error)` and time is left.

    Each attempt has a total deadline (`within`): the time left until `retry_until`, at least
    MIN_CALL_S and at most CALL_DEADLINE_S. The last error is raised when the next attempt would
    start after `retry_until`. A call that must not run twice passes `retry_if=surely_did_nothing`.
    """
    delay = FIRST_DELAY_S
    while True:
        try:
            return within(call, min(CALL_DEADLINE_S, max(MIN_CALL_S, retry_until - clock.now())))
        except (ClientError, ConnectionError, HTTPClientError) as error:
            if not retry_if(error) or clock.now() + delay > retry_until:
                raise
            LOGGER.warning(
                {"action": "retry", "operation": what, "error": error_code(error), "delay_s": round(delay, 2)}
            )
        clock.sleep(delay)
        delay = min(MAX_DELAY_S, delay * 2) * random.uniform(0.8, 1.0)
