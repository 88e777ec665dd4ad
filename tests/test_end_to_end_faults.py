"""End to end over real HTTP: exactly one answer per request, whatever fails around the handler.

The faults of a real deploy: an invalid LOG_LEVEL, a ResponseURL that answers 5xx, stalls or
cannot be sent to, a hand-over Invoke whose outcome is unknown, a Glue endpoint that hangs.
"""

from __future__ import annotations

import pytest

from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.endpoints import Fault
from glue_label_import.testing.examples import LABELS
from glue_label_import.testing.faults import hanging_endpoint
from glue_label_import.testing.requests import props
from glue_label_import.testing.sandbox import LambdaSandbox, answer_errors
from support import share


def test_delete_answers_within_3_seconds_when_aws_hangs(sandbox: LambdaSandbox, runs: GlueMLTaskRuns) -> None:
    delete = sandbox.event("Delete", props("tfm-1", "s3://labels-bucket/any.csv"), physical_id="Labels-1")
    with hanging_endpoint() as url:
        deletion = sandbox.invoke(delete, env={"AWS_ENDPOINT_URL_GLUE": url, "AWS_ENDPOINT_URL_DYNAMODB": url})
    assert sandbox.answer(delete)["Status"] == "SUCCESS"
    assert sandbox.answer_seconds(delete, deletion) < 3
    assert "AWS did not answer within 2 s" in deletion.output or "ReadTimeoutError" in deletion.output


BAD_PROPERTIES = {"TransformId": "tfm-1", "InputS3Path": "labels.csv"}  # answered FAILED before any AWS call
BAD_PROPERTIES_REASON = "InputS3Path 'labels.csv' must start with s3://"


@pytest.mark.parametrize("level", ["debug", "Warning", "verbose", ""])
@pytest.mark.parametrize("request_type", ["Create", "Delete"])
def test_any_log_level_still_gets_an_answer(sandbox: LambdaSandbox, request_type: str, level: str) -> None:
    event = sandbox.event(request_type, BAD_PROPERTIES, physical_id="Labels-1")
    sandbox.invoke(event, remaining_s=10, env={"LOG_LEVEL": level})
    assert sandbox.answer(event)["Status"] == ("FAILED" if request_type == "Create" else "SUCCESS")


@pytest.mark.parametrize("status", [500, 503])
def test_an_answer_refused_with_a_server_error_is_sent_again(sandbox: LambdaSandbox, status: int) -> None:
    create = sandbox.event("Create", BAD_PROPERTIES)
    sandbox.responses.misbehave_next(Fault(status=status))
    invocation = sandbox.invoke(create)
    refused, taken = sandbox.responses.answers(create["RequestId"])
    assert refused == taken and taken["Reason"] == BAD_PROPERTIES_REASON  # the same answer again, nothing new
    (error,) = answer_errors(invocation.output)
    assert error["http_status"] == status


def test_an_answer_whose_put_stalls_is_sent_again_and_never_contradicted(sandbox: LambdaSandbox) -> None:
    create = sandbox.event("Create", BAD_PROPERTIES)
    sandbox.responses.misbehave_next(Fault(status=200, stall_s=20))
    invocation = sandbox.invoke(create, remaining_s=8)
    answers = sandbox.responses.answers(create["RequestId"])
    assert len(answers) == 2 and answers[0] == answers[1]  # no "Execution timed out" after the real answer
    assert answers[0]["Reason"] == BAD_PROPERTIES_REASON
    assert invocation.seconds < 8


def test_a_response_url_http_cannot_send_to_is_never_logged(sandbox: LambdaSandbox) -> None:
    create = sandbox.event("Create", BAD_PROPERTIES)
    create["ResponseURL"] += " &X-Amz-Signature=tail\x01"  # http.client quotes such a URL in its error
    invocation = sandbox.invoke(create, remaining_s=5)  # `finish` checks that the output holds no signature
    assert invocation.seconds < 4
    (error,) = answer_errors(invocation.output)
    assert error == {
        "action": "answer",
        "Status": "FAILED",
        "RequestId": create["RequestId"],
        "http_status": None,
        "error": "InvalidURL",
    }


INVOKE_REPLY_LOST = Fault(status=202, stall_s=6)  # queued, then the reply outlasts the client's 5 s read timeout
INVOKE_SERVICE_EXCEPTION = Fault(  # queued, then a 500
    status=500,
    headers=(("x-amzn-ErrorType", "ServiceException"), ("content-type", "application/json")),
    body=b'{"Type": "Service", "message": "An internal error occurred"}',
)


@pytest.mark.parametrize("fault", [INVOKE_REPLY_LOST, INVOKE_SERVICE_EXCEPTION], ids=["read timeout", "500"])
def test_a_hand_over_of_unknown_outcome_is_tried_again_and_its_second_delivery_starts_nothing(
    sandbox: LambdaSandbox, runs: GlueMLTaskRuns, fault: Fault
) -> None:
    transform_id = sandbox.transform()
    runs.script_next_run(running_seconds=2)
    create = sandbox.event("Create", props(transform_id, sandbox.upload("unknown.csv", LABELS)))
    sandbox.invokes.misbehave_next(fault)
    sandbox.invoke(create, remaining_s=share(1))  # waits a second, then hands over
    assert sandbox.responses.answers(create["RequestId"]) == []  # neither FAILED nor a guess
    first, again = sandbox.invokes.take()  # queued, its reply lost; then tried again: the same turn
    assert first["payload"] == again["payload"]
    for delivery in (first, again):
        sandbox.invoke(delivery["payload"], remaining_s=share(20))
    answers = sandbox.responses.answers(create["RequestId"])
    assert answers and answers[0]["Status"] == "SUCCESS"
    assert all(answer == answers[0] for answer in answers)  # the second delivery answers the same, if at all
    assert len(runs.calls_to("StartImportLabelsTaskRun")) == 1
    assert sandbox.invokes.take() == []
