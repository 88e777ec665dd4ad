"""Local stand-ins for the two endpoints the handler talks to besides Glue (used by ``sandbox``).

- `ResponseEndpoint`: CloudFormation's presigned ResponseURL, over HTTPS with a self-signed
  certificate that the handler trusts through SSL_CERT_FILE (crhelper answers over HTTPS only).
- `InvokeEndpoint`: Lambda's Invoke API, recording the asynchronous self-invocations that hand a
  wait over, so that a test can replay them as Lambda would.

Endpoints that misbehave on the network (one that never answers, a proxy that trickles) are in
``faults``.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = [
    "Fault",
    "InvokeEndpoint",
    "ResponseEndpoint",
    "self_signed_certificate",
]

if TYPE_CHECKING:
    from typing import Self  # Python 3.11; CI also runs 3.10


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 that is its own CA; returns (cert, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "localhost.pem", folder / "localhost.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()

    def record(self, method: str, path: str, body: bytes) -> Fault | None:
        """Record a request; return the fault scripted for it, if any."""
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "body": json.loads(body) if body else None, "at": time.time()}
            )
            return self.faults.pop(0) if self.faults else None


@dataclass(frozen=True)
class Fault:
    """How an endpoint misbehaves once, after it has read (and recorded) the request."""

    status: int = 500
    """The HTTP status it answers."""
    stall_s: float = 0.0
    """How long it holds the connection before answering."""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _Recorder

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        fault = self.server.record(self.command, self.path, body)
        if fault and fault.stall_s:
            time.sleep(fault.stall_s)
        self.send_response(fault.status if fault else self.server.status)
        for name, value in fault.headers if fault else ():
            self.send_header(name, value)
        payload = fault.body if fault else b""
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_PUT(self) -> None:
        self._record()

    def do_POST(self) -> None:
        self._record()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read what was recorded, not the access log."""


class _Endpoint:
    """A local server that records each request and misbehaves when told to."""

    def __init__(self, status: int) -> None:
        self._server = _Recorder(status)

    def misbehave_next(self, *faults: Fault) -> None:
        """The next requests (one per fault) are recorded, then answered as the faults say."""
        with self._server.lock:
            self._server.faults.extend(faults)

    @contextmanager
    def running(self) -> Iterator[Self]:
        with serving(self._server, before_shutdown=self._forget_faults):
            yield self

    def _forget_faults(self) -> None:
        """Drop the faults still queued: a stalled handler thread must not hold the shutdown."""
        with self._server.lock:
            self._server.faults.clear()


@contextmanager
def serving(server: ThreadingHTTPServer, *, before_shutdown: Callable[[], None] | None = None) -> Iterator[None]:
    """Serve `server` in a daemon thread for the duration of the block, then shut it down and close it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        if before_shutdown is not None:
            before_shutdown()
        server.shutdown()
        server.server_close()


class ResponseEndpoint(_Endpoint):
    """HTTPS server recording CloudFormation answers (PUT bodies) by request id."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        super().__init__(200)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base_url = f"https://localhost:{self._server.server_port}/cfn"

    def answers(self, request_id: str) -> list[dict[str, Any]]:
        """Every answer sent to the ResponseURL of this request, in order."""
        return [request["body"] for request in self._received(request_id)]

    def answered_at(self, request_id: str) -> list[float]:
        """When each answer to this request arrived (epoch seconds)."""
        return [request["at"] for request in self._received(request_id)]

    def _received(self, request_id: str) -> list[dict[str, Any]]:
        with self._server.lock:
            return [r for r in self._server.requests if r["path"].startswith(f"/cfn/{request_id}?")]


class InvokeEndpoint(_Endpoint):
    """HTTP server standing in for Lambda's Invoke API: records each invocation's payload (Lambda queued it)."""

    def __init__(self) -> None:
        super().__init__(202)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def take(self) -> list[dict[str, Any]]:
        """The invocations so far (function name, invocation type, payload), forgetting them."""
        with self._server.lock:
            taken, self._server.requests[:] = list(self._server.requests), []
        return [{"path": r["path"], "payload": r["body"]} for r in taken]
