"""Retrying AWS calls that failed for a passing reason: throttling, a service hiccup, the network."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

LOGGER = logging.getLogger(__name__)

TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "InternalServiceException",
        "OperationTimeoutException",
        "ServiceException",
    }
)
FIRST_DELAY_S = 0.25
MAX_DELAY_S = 8.0

T = TypeVar("T")


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError, or the exception's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return type(error).__name__


def refused_or_unsent(error: Exception) -> bool:
    """Whether the call surely did nothing: AWS refused it for now, or it never reached AWS.

    A read timeout is not such an error: AWS may have done the call and only the answer was lost.
    """
    if isinstance(error, ClientError):
        return error_code(error) in TRANSIENT_ERROR_CODES
    return isinstance(error, ConnectionError)


def is_transient(error: Exception) -> bool:
    """Whether trying the same call again later may well succeed: also after a lost answer."""
    return refused_or_unsent(error) or isinstance(error, HTTPClientError)


def with_retries(
    call: Callable[[], T],
    *,
    retry_until: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    what: str,
    retry_if: Callable[[Exception], bool] = is_transient,
) -> T:
    """`call()`, retried with jittered exponential backoff while `retry_if(error)` and time is left.

    The last error is raised when the next attempt would start after `retry_until`. Calls that
    must not run twice retry only errors for which `refused_or_unsent` holds.
    """
    delay = FIRST_DELAY_S
    while True:
        try:
            return call()
        except (ClientError, ConnectionError, HTTPClientError) as error:
            if not retry_if(error) or clock() + delay > retry_until:
                raise
            LOGGER.warning(
                {"action": "retry", "operation": what, "error": error_code(error), "delay_s": round(delay, 2)}
            )
        sleep(delay)
        delay = min(MAX_DELAY_S, delay * 2) * random.uniform(0.8, 1.0)
