"""The handler as deployed, over real HTTP: its synthesized asset run in a Lambda-like subprocess.

AWS is moto's server (with the Glue ML task-run extension, and the stack statuses the emulation
sets for DescribeStacks), the handler's run ledger a table created in moto from the synthesized
template, CloudFormation's ResponseURL a local HTTPS server, Lambda's Invoke API a local recorder.
The end-to-end tests, the benchmark and the demo drive the handler through `LambdaSandbox`:

    with lambda_sandbox(workdir, outdir=Path("cdk.out"), stack_name="MyStack") as sandbox:
        event = sandbox.event("Create", {"TransformId": sandbox.transform(), ...})
        sandbox.invoke(event)
        sandbox.answer(event)  # the one answer CloudFormation got

With ``sandbox.act_as_handler_role({"Transform": transform_id})`` first, the handler runs with
the credentials of its own role (the template's roles and policies, in moto's IAM) and moto's
access control checks each call it makes while it runs (``sandbox.iam_checks``).

Needs the ``[testing]`` extra (moto's server, boto3) and a synthesized cloud assembly (or none:
a small stack with a LabelImport is synthesized into ``workdir``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from aws_cdk import App, Stack
from botocore.config import Config
from moto.server import ThreadedMotoServer

from ..label_import import LabelImport
from ..label_source import LabelSource
from .control import glue_ml
from .endpoints import InvokeEndpoint, ResponseEndpoint, self_signed_certificate
from .iam import IamChecks, enforced_iam, template_roles
from .lambda_runner import STARTED
from .requests import (
    BUCKET,
    LEDGER_TABLE,
    SECRET,
    STACK_ID,
    cfn_event,
    create_ledger,
    create_transform,
    handler_asset_path,
    handler_function,
)

__all__ = [
    "Invocation",
    "LambdaSandbox",
    "answer_errors",
    "lambda_sandbox",
    "log_lines",
    "metric_records",
    "runtime_packages",
    "synthesize_stack",
]

RUNNER = Path(__file__).parent / "lambda_runner.py"
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


@dataclass
class Invocation:
    """One run of the handler: what it printed and how long it took."""

    output: str
    seconds: float


def synthesize_stack(outdir: Path) -> str:
    """Synthesize a stack with a LabelImport into `outdir`; its name."""
    app = App(outdir=str(outdir))
    stack = Stack(app, "Labels")
    labels = outdir.parent / "labels.csv"
    labels.write_text("labeling_set_id,label,customer_id\ns1,A,1\ns1,A,2\n")
    LabelImport(stack, "Labels", transform="tfm-synth", source=LabelSource.from_asset(str(labels)))
    app.synth()
    return stack.stack_name


def create_ledger_of(template: dict[str, Any], dynamodb: Any) -> str:
    """Create the run ledger the template declares (its key and TTL attribute) in moto, as LEDGER_TABLE."""
    (table,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    (key,) = [k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH"]
    ttl = table.get("TimeToLiveSpecification", {}).get("AttributeName")
    if LEDGER_TABLE in dynamodb.list_tables()["TableNames"]:  # an earlier sandbox's, in this process's moto
        dynamodb.delete_table(TableName=LEDGER_TABLE)
    return create_ledger(dynamodb, LEDGER_TABLE, key=key, ttl=ttl)


def runtime_packages(folder: Path) -> Path:
    """A folder holding only boto3 and its dependencies (links into this environment)."""
    site_packages = Path(boto3.__file__).parent.parent
    folder.mkdir()
    for name in RUNTIME_PACKAGES:
        (folder / name).symlink_to(site_packages / name)
    return folder


class LambdaSandbox:
    """Runs CloudFormation requests through the synthesized handler against local endpoints."""

    def __init__(
        self,
        workdir: Path,
        asset: Path,
        template: dict[str, Any],
        moto_url: str,
        responses: ResponseEndpoint,
        invokes: InvokeEndpoint,
        cert: Path,
    ) -> None:
        self.asset = asset
        self.template = template
        self.iam_checks: IamChecks | None = None  # set by act_as_handler_role
        self.processes: list[subprocess.Popen[str]] = []
        self.responses = responses
        self.invokes = invokes
        self._deps = runtime_packages(workdir / "runtime")
        self._pycache = workdir / "pycache"  # the deployed asset holds no bytecode: keep it out of the asset
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ENDPOINT_URL_LAMBDA": invokes.url,
            "SSL_CERT_FILE": str(cert),
            "LOG_LEVEL": "DEBUG",
            "LEDGER_TABLE": create_ledger_of(
                template, boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
            ),
        }
        self.events = boto3.client("events", endpoint_url=moto_url, region_name="us-east-1")
        self.glue = boto3.client(
            "glue", endpoint_url=moto_url, region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
        )
        self.s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
        self.s3.create_bucket(Bucket=BUCKET)

    def act_as_handler_role(self, refs: Mapping[str, str], *, template: dict[str, Any] | None = None) -> IamChecks:
        """From now on, run the handler with the credentials of its own role, IAM enforced while it runs.

        The template's roles and policies (the handler's, the transform's) are created in moto's IAM,
        its ``Ref``/``Fn::GetAtt`` resolved with ``refs`` (a transform's id, a bucket's name, by
        logical id), the run ledger's real name and ARN, and ``STACK_ID``. Calls made with the
        sandbox's own clients stay unchecked: moto's access control is on only during ``invoke``.
        Returns what IAM checked, counted over every invocation that follows; called again (a new
        template's policies, as an update of the stack changes them), it replaces the roles and
        keeps counting.
        """
        template = self.template if template is None else template
        (ledger,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
        ledger_arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{self.env['LEDGER_TABLE']}"
        roles = template_roles(
            template,
            refs={ledger: self.env["LEDGER_TABLE"], **refs},
            attributes={(ledger, "Arn"): ledger_arn},
            stack_id=STACK_ID,
        )
        roles.create(self._client("iam"))
        role = handler_function(template)["Properties"]["Role"]["Fn::GetAtt"][0]
        credentials = roles.credentials(self._client("sts"), role)
        self.env.update({name.upper(): value for name, value in credentials.items()})
        if self.iam_checks is None:
            self.iam_checks = IamChecks()
        return self.iam_checks

    def _client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"], region_name="us-east-1")

    def kill_all(self) -> None:
        """Kill every handler process this sandbox started (a finished one is left as it is)."""
        for process in self.processes:
            process.kill()

    def event(self, request_type: str, properties: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """A CloudFormation request whose ResponseURL is the local HTTPS endpoint."""
        return cfn_event(request_type, properties, response_base=self.responses.base_url, **kwargs)

    def start(
        self, event: dict[str, Any], remaining_s: float = 900, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """Invoke the handler without waiting for it (`env` adds to the Lambda environment)."""
        with tempfile.TemporaryFile("w+") as event_file:
            json.dump(event, event_file)
            event_file.seek(0)
            process = subprocess.Popen(
                [
                    *(sys.executable, "-I", "-S", "-X", f"pycache_prefix={self._pycache}"),
                    *(str(RUNNER), str(self.asset), str(self._deps), str(remaining_s)),
                ],
                stdin=event_file,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**self.env, **(env or {})},
            )
        self.processes.append(process)
        return process

    def invoke(self, event: dict[str, Any], remaining_s: float = 900, env: dict[str, str] | None = None) -> Invocation:
        """Invoke the handler and wait; fail if it crashed or printed the ResponseURL's secret."""
        started = time.monotonic()
        if self.iam_checks is None:
            return self.finish(self.start(event, remaining_s, env), started)
        with enforced_iam() as checks:
            invocation = self.finish(self.start(event, remaining_s, env), started)
        self.iam_checks.allowed += checks.allowed
        self.iam_checks.denied += checks.denied
        return invocation

    def finish(self, process: subprocess.Popen[str], started: float | None = None) -> Invocation:
        """Wait for an invocation made with `start`."""
        try:
            output, _ = process.communicate(timeout=120)
        finally:
            process.kill()  # a handler stuck sending its answer must not outlive the test
        seconds = time.monotonic() - started if started is not None else float("nan")
        assert process.returncode == 0, output
        assert SECRET not in output and "X-Amz-Signature" not in output, "the ResponseURL was logged"
        return Invocation(output, seconds)

    def answer_seconds(self, event: dict[str, Any], invocation: Invocation) -> float:
        """How long after the handler was invoked (its process started and imported) the answer arrived."""
        (line,) = [line for line in invocation.output.splitlines() if line.startswith(f"{STARTED} ")]
        (answered_at,) = self.responses.answered_at(event["RequestId"])
        return answered_at - float(line.rsplit(" ", 1)[1])

    def answer(self, event: dict[str, Any]) -> dict[str, Any]:
        """The one answer CloudFormation got for this request."""
        answers = self.responses.answers(event["RequestId"])
        assert len(answers) == 1, answers
        return answers[0]

    def transform(self, name: str = "customers") -> str:
        return create_transform(self.glue, name)

    def upload(self, key: str, body: str) -> str:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
        return f"s3://{BUCKET}/{key}"


@contextmanager
def lambda_sandbox(workdir: Path, outdir: Path | None = None, stack_name: str = "") -> Iterator[LambdaSandbox]:
    """Start moto's server and the two local endpoints, and yield the sandbox running the handler of
    stack `stack_name` in the cloud assembly `outdir` (default: a small stack synthesized into `workdir`)."""
    if outdir is None:
        outdir = workdir / "cdk.out"
        stack_name = synthesize_stack(outdir)
    asset = handler_asset_path(outdir, stack_name)
    template = json.loads((outdir / f"{stack_name}.template.json").read_text())
    cert, key = self_signed_certificate(workdir)
    with ExitStack() as stack:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        stack.callback(moto.stop)
        host, port = moto.get_host_and_port()
        responses = stack.enter_context(ResponseEndpoint(cert, key).running())
        invokes = stack.enter_context(InvokeEndpoint().running())
        glue_ml.reset()
        sandbox = LambdaSandbox(workdir, asset, template, f"http://{host}:{port}", responses, invokes, cert)
        stack.callback(sandbox.kill_all)
        yield sandbox


def log_lines(output: str) -> list[dict[str, Any]]:
    """The handler's JSON log lines about the request (not the container's start, not metric records)."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" not in line and line["RequestType"] != "ContainerInit"]


def metric_records(output: str) -> list[dict[str, Any]]:
    """The lines CloudWatch Logs reads as embedded metric format records: JSON objects with `_aws`."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def answer_errors(output: str) -> list[dict[str, Any]]:
    """The ERROR lines the handler logged about sending its answer."""
    return [
        line["message"]
        for line in log_lines(output)
        if line["level"] == "ERROR" and isinstance(line["message"], dict) and line["message"].get("action") == "answer"
    ]
