"""Faults the emulation injects: scripted service errors, lost replies, a lagging listing, and the
network's own: an endpoint that never answers, answers that trickle in.

``glue_ml.fail_next`` refuses a call before Glue does anything (``ScriptedGlueError``); ``replies``
(``ReplyFaults``) makes a reply go wrong after Glue did the work; ``hanging_endpoint`` is an API that
takes requests and never answers; ``TricklingProxy`` is a proxy to moto's server whose answers to
chosen operations arrive a byte at a time (a byte every half second never trips botocore's per-read
timeout).
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from moto.glue.exceptions import GlueClientError

from .endpoints import serving
from .runs import OPERATIONS, FakeMLTaskRun

if TYPE_CHECKING:
    from typing import Self  # Python 3.11; CI also runs 3.10

__all__ = ["ReplyFaults", "ScriptedGlueError", "TricklingProxy", "hanging_endpoint", "replies"]

_log = logging.getLogger(__name__)

# Glue reports its modelled faults with HTTP 500; every other error is a 400.
_SERVER_ERROR_CODES = frozenset({"InternalServiceException"})


class ScriptedGlueError(GlueClientError):
    """An error injected with ``GlueMLTaskRuns.fail_next``."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message)
        self.code = 500 if error_code in _SERVER_ERROR_CODES else 400


class ReplyFaults:
    """Replies that go wrong after Glue did the work (``replies``, reset by ``reset()``):

    * ``lose_next_reply(operation)`` -- the next call of ``operation`` is done (a start starts its
      run), then answered with ``InternalServiceException`` (HTTP 500), as when the reply was lost;
    * ``listing_lag_seconds`` -- GetMLTaskRuns lists a run only this long after it started (Glue's
      listing may lag a start by seconds).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.listing_lag_seconds = 0.0
            self._lost: list[str] = []

    def lose_next_reply(self, operation: str, times: int = 1) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {OPERATIONS}")
        with self._lock:
            self._lost.extend([operation] * times)

    def listed(self, run: FakeMLTaskRun, now: float) -> bool:
        """Whether GetMLTaskRuns lists the run yet."""
        return run.started_at + self.listing_lag_seconds <= now

    def _after(self, operation: str) -> None:
        with self._lock:
            lost = operation in self._lost
            if lost:
                self._lost.remove(operation)
        if lost:
            raise ScriptedGlueError("InternalServiceException", f"{operation}: the reply was lost")


replies = ReplyFaults()


@contextmanager
def hanging_endpoint() -> Iterator[str]:
    """The URL of an endpoint that accepts connections and never answers: an AWS API that hangs."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:  # the kernel completes the handshakes
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str, byte_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.target = urlsplit(target)
        self.byte_s = byte_s
        self.trickled: set[str] = set()
        self.lock = threading.Lock()

    def trickles(self, headers: Any, path: str) -> bool:
        operation = str(headers.get("x-amz-target") or "").rpartition(".")[2]
        with self.lock:
            return operation in self.trickled or any(part in path for part in self.trickled if "/" in part)


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        upstream = http.client.HTTPConnection(
            self.server.target.hostname or "127.0.0.1", self.server.target.port, timeout=30
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        upstream.close()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.send_header("connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if not self.server.trickles(self.headers, self.path):
            self.wfile.write(payload)
            return
        try:
            for byte in payload:  # until the client gives up on it
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(self.server.byte_s)
        except ConnectionError as error:  # the client gave up on the answer: what the trickle is for
            _log.info("%s %s: the client closed the connection mid-answer (%s)", self.command, self.path, error)

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class TricklingProxy:
    """A proxy to `target` (moto's server); `trickle(name)` makes the answers to a JSON operation
    (``GetMLTaskRuns``, ``UpdateItem``: the X-Amz-Target's last part) or to a path containing
    `name` (an S3 key, ``/bucket/key``) arrive a byte every `byte_s` seconds."""

    def __init__(self, target: str, byte_s: float = 0.5) -> None:
        self._server = _ProxyServer(target, byte_s)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def trickle(self, *names: str) -> None:
        with self._server.lock:
            self._server.trickled.update(names)

    @contextmanager
    def running(self) -> Iterator[Self]:
        with serving(self._server):
            yield self
