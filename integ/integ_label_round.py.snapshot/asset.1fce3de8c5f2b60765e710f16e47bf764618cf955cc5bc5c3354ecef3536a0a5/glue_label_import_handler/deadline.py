"""A total wall-clock deadline for one call, whatever the network does.

botocore's read_timeout bounds each read of the socket, not the call: a body that trickles a byte
every half second never trips it. `within` runs the call in a worker thread and stops waiting for
it when the deadline comes; the call is abandoned (its thread ends with the invocation).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ReadTimeoutError

T = TypeVar("T")


class CallTimedOut(ReadTimeoutError):  # type: ignore[misc]  # botocore's exceptions are untyped
    """The call had not ended by its deadline: like a read timeout, its effect is unknown."""

    fmt = "the call had not ended after {endpoint_url} s"


def within(call: Callable[[], T], seconds: float) -> T:
    """`call()`'s result (or its exception), or CallTimedOut once `seconds` have passed.

    Uses the real time, not an injected clock: what it bounds is how long this invocation waits.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # handed to the caller, whatever it is
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True, name="aws-call")
    worker.start()
    worker.join(max(seconds, 0.0))
    if worker.is_alive():
        raise CallTimedOut(endpoint_url=f"{seconds:g}")
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result
