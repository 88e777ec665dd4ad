"""The run ledger: what the handler must remember between invocations, in the library's own table.

One DynamoDB table per stack (the provider creates it; its name is in LEDGER_TABLE). Nothing is
kept on the user's transform. Its items, keyed by `Id`:

- `request#<RequestId>`: the claim of a request's first delivery, written with a conditional put
  before its run starts (a duplicate delivery finds it): who claimed it (`Claimant`), when the
  request's time began (`StartedAt`) and when the claimant's invocation surely ends (`Limit`);
  then when it sent a start and what it noted before (`Starting`, `Before`), the run it started
  (`RunId`), `HandedOver` once a fresh invocation goes on in its place, and the request's answer
  (`Answer`, written with a conditional update before the PUT: exactly one answer per request).
- `request#<RequestId>#<Turn>`: the claim of a hand-over (a fresh invocation's turn, named by the
  invocation that handed over), the same way (no `Answer`: that is the request's).
- `resource#<StackId>#<LogicalResourceId>`: the run the resource has in flight (`InFlight`: what
  a Delete cancels), when it was deleted (`DeletedAt`: what stops a waiter), and the Data of its
  last SUCCESS (`Current`).
- `answer#<StackId>#<LogicalResourceId>#<fingerprint>`: the Data the resource answered for those
  properties, and the Data it replaced (`Replaced`), so that a rollback answers its previous Data.

Every item expires (`ExpiresAt`, the table's TTL attribute). Calls are retried on throttling
within short budgets; when the table stays unreachable or access is denied, `LedgerUnavailable`
is raised and the engine falls back (see engine.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .retries import Clock, error_code, with_retries

LOGGER = logging.getLogger(__name__)
R = TypeVar("R")

CALL_BUDGET_S = 3.0  # how long one ledger operation may retry
REQUEST_TTL_S = 7 * 24 * 3600  # a request is over within hours; its claim and answer are kept a week
RESOURCE_TTL_S = 400 * 24 * 3600  # a resource's items outlive a year without deploys, then go
CONDITION_FAILED = "ConditionalCheckFailedException"
_ID_NAME: dict[str, Any] = {"ExpressionAttributeNames": {"#id": "Id"}}


class LedgerUnavailable(Exception):
    """The ledger could not be read or written (denied, missing, unreachable): the caller falls back."""


def fingerprint(properties: Mapping[str, Any]) -> str:
    """What identifies a resource's properties (ServiceToken aside)."""
    relevant = {name: value for name, value in properties.items() if name != "ServiceToken"}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:32]


def resource_key(event: Mapping[str, Any]) -> str:
    """The resource of a request: its stack and logical id."""
    return f"{event['StackId']}#{event['LogicalResourceId']}"


class Ledger:
    """The run ledger in one DynamoDB table, through a low-level client."""

    def __init__(self, dynamodb: Any, table_name: str, *, clock: Clock) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.clock = clock

    def claim(
        self, key: str, resource: str, claimant: str, *, started_at: float, limit: float
    ) -> dict[str, Any] | None:
        """Claim a delivery (`key`: a RequestId, or RequestId#Turn for a hand-over) now for `claimant`
        (this invocation, which ends by `limit`); None if the claim is ours, else the claim found (a
        duplicate delivery's). A retried put whose first try went through finds its own."""
        now = self.clock.now()
        item = {
            "Id": {"S": f"request#{key}"},
            "Claimant": {"S": claimant},
            "Resource": {"S": resource},
            "StartedAt": {"N": repr(started_at)},
            "Limit": {"N": repr(limit)},
            "ExpiresAt": {"N": str(int(now + REQUEST_TTL_S))},
        }
        if self._call_if("put_item", Item=item, ConditionExpression="attribute_not_exists(#id)", **_ID_NAME):
            return None
        found = self.request(key) or {}
        return None if found.get("Claimant") == claimant else found

    def take_over(self, key: str, claim: Mapping[str, Any], claimant: str, *, limit: float) -> bool:
        """Take a claim whose claimant's invocation is over (it neither answered nor handed over) for
        `claimant`; False when another invocation took it first, or the claimant handed over after all."""
        return self._call_if(
            "update_item",
            Key={"Id": {"S": f"request#{key}"}},
            UpdateExpression="SET #claimant = :claimant, #limit = :limit",
            ConditionExpression="#claimant = :old AND attribute_not_exists(#handed) AND attribute_not_exists(#answer)",
            ExpressionAttributeNames={
                "#claimant": "Claimant",
                "#limit": "Limit",
                "#handed": "HandedOver",
                "#answer": "Answer",
            },
            ExpressionAttributeValues={
                ":claimant": {"S": claimant},
                ":limit": {"N": repr(limit)},
                ":old": {"S": str(claim.get("Claimant", ""))},
            },
        )

    def starting(self, key: str, before: Mapping[str, Any]) -> None:
        """The claimant of `key` sends a start now (`Starting`), having noted `before`: should it die
        before recording the run, a takeover looks for the run this start may have started."""
        self._call(
            "update_item",
            Key={"Id": {"S": f"request#{key}"}},
            UpdateExpression="SET #starting = :now, #before = :before",
            ExpressionAttributeNames={"#starting": "Starting", "#before": "Before"},
            ExpressionAttributeValues={":now": {"N": repr(self.clock.now())}, ":before": {"S": _json(before)}},
        )

    def not_starting(self, key: str) -> None:
        """The claimant's start surely started nothing (refused): no takeover looks for its run."""
        self._call(
            "update_item",
            Key={"Id": {"S": f"request#{key}"}},
            UpdateExpression="REMOVE #starting",
            ExpressionAttributeNames={"#starting": "Starting"},
        )

    def handed_over(self, key: str) -> None:
        """The claimant of `key` handed the request over to a fresh invocation: its duplicates stop."""
        self._call(
            "update_item",
            Key={"Id": {"S": f"request#{key}"}},
            UpdateExpression="SET #handed = :now",
            ExpressionAttributeNames={"#handed": "HandedOver"},
            ExpressionAttributeValues={":now": {"N": repr(self.clock.now())}},
        )

    def request(self, key: str) -> dict[str, Any] | None:
        """A claim: Claimant, StartedAt, Limit, and Starting, RunId, Before, HandedOver, Answer once known."""
        item = self._get(f"request#{key}")
        if item is None:
            return None
        claim: dict[str, Any] = {}
        for name in ("StartedAt", "Limit", "Starting", "HandedOver"):
            if name in item:
                claim[name] = float(item[name]["N"])
        for name in ("Claimant", "RunId"):
            if name in item:
                claim[name] = item[name]["S"]
        for name in ("Before", "Answer"):
            if name in item:
                claim[name] = json.loads(item[name]["S"])
        return claim

    def record_run(
        self, key: str, request_id: str, resource: str, run_id: str, transform_id: str, before: Mapping[str, Any]
    ) -> None:
        """The run a request started: on the claim of the delivery that started it (`key`), and as
        the resource's run in flight."""
        now = self.clock.now()
        self._call(
            "update_item",
            Key={"Id": {"S": f"request#{key}"}},
            UpdateExpression="SET #run = :run, #before = :before",
            ExpressionAttributeNames={"#run": "RunId", "#before": "Before"},
            ExpressionAttributeValues={":run": {"S": run_id}, ":before": {"S": _json(before)}},
        )
        in_flight = {"RunId": run_id, "TransformId": transform_id, "RequestId": request_id, "StartedAt": now}
        self._call(
            "update_item",
            Key={"Id": {"S": f"resource#{resource}"}},
            UpdateExpression="SET #run = :run, #expires = :expires",
            ExpressionAttributeNames={"#run": "InFlight", "#expires": "ExpiresAt"},
            ExpressionAttributeValues={
                ":run": {"S": _json(in_flight)},
                ":expires": {"N": str(int(now + RESOURCE_TTL_S))},
            },
        )

    def record_answer(self, request_id: str, answer: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Write the request's answer unless it has one; return the answer that stands (the first),
        and whether it is this one (False: an earlier delivery answered the request)."""
        if self._call_if(
            "update_item",
            Key={"Id": {"S": f"request#{request_id}"}},
            UpdateExpression="SET #answer = :answer",
            ConditionExpression="attribute_not_exists(#answer)",
            ExpressionAttributeNames={"#answer": "Answer"},
            ExpressionAttributeValues={":answer": {"S": _json(answer)}},
        ):
            return dict(answer), True
        stored = (self.request(request_id) or {}).get("Answer")
        return (dict(stored), False) if isinstance(stored, dict) else (dict(answer), True)

    def resource(self, resource: str) -> dict[str, Any]:
        """The resource's run in flight (`InFlight`), `DeletedAt` and its last SUCCESS's Data (`Current`)."""
        item = self._get(f"resource#{resource}") or {}
        found: dict[str, Any] = {}
        if "InFlight" in item:
            found["InFlight"] = json.loads(item["InFlight"]["S"])
        if "DeletedAt" in item:
            found["DeletedAt"] = float(item["DeletedAt"]["N"])
        if "Current" in item:
            found["Current"] = json.loads(item["Current"]["S"])
        return found

    def finished(self, resource: str, request_id: str) -> None:
        """The request's run is over: the resource has no run in flight (unless a later request started one)."""
        self._call_if(
            "update_item",
            Key={"Id": {"S": f"resource#{resource}"}},
            UpdateExpression="REMOVE #run",
            ConditionExpression="contains(#run, :request)",
            ExpressionAttributeNames={"#run": "InFlight"},
            ExpressionAttributeValues={":request": {"S": request_id}},
        )

    def mark_deleted(self, resource: str) -> dict[str, Any] | None:
        """Mark the resource deleted; return the run it had in flight, if any."""
        now = self.clock.now()
        response = self._call(
            "update_item",
            Key={"Id": {"S": f"resource#{resource}"}},
            UpdateExpression="SET #deleted = :now, #expires = :expires REMOVE #run",
            ExpressionAttributeNames={"#deleted": "DeletedAt", "#expires": "ExpiresAt", "#run": "InFlight"},
            ExpressionAttributeValues={":now": {"N": repr(now)}, ":expires": {"N": str(int(now + REQUEST_TTL_S))}},
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes", {})
        return json.loads(old["InFlight"]["S"]) if "InFlight" in old else None

    def remember_answer(self, resource: str, properties: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        """The Data answered for these properties of the resource, now its current Data (and what it replaced)."""
        now = self.clock.now()
        current = self.resource(resource).get("Current")
        item = {
            "Id": {"S": f"answer#{resource}#{fingerprint(properties)}"},
            "Data": {"S": _json(data)},
            "ExpiresAt": {"N": str(int(now + RESOURCE_TTL_S))},
        }
        if current == data:  # the same Data again (an Update that changed nothing it depends on)
            self._call_if("put_item", Item=item, ConditionExpression="attribute_not_exists(#id)", **_ID_NAME)
            return  # what an earlier answer for these properties replaced stays on record
        if current is not None:
            item["Replaced"] = {"S": _json(current)}
        self._call("put_item", Item=item)
        self._call(
            "update_item",
            Key={"Id": {"S": f"resource#{resource}"}},
            UpdateExpression="SET #current = :data, #expires = :expires",
            ExpressionAttributeNames={"#current": "Current", "#expires": "ExpiresAt"},
            ExpressionAttributeValues={":data": {"S": _json(data)}, ":expires": {"N": str(int(now + RESOURCE_TTL_S))}},
        )

    def previous_answer(self, resource: str, properties: Mapping[str, Any]) -> dict[str, Any] | None:
        """The Data the resource answered for these properties, if it did."""
        item = self._get(f"answer#{resource}#{fingerprint(properties)}")
        return dict(json.loads(item["Data"]["S"])) if item else None

    def rollback_answer(self, resource: str, rolled_back: Mapping[str, Any]) -> dict[str, Any] | None:
        """The Data the resource had before the Update to `rolled_back` (a rollback's old properties):
        what that Update replaced if it answered SUCCESS, else its current Data (None: never answered)."""
        current = self.resource(resource).get("Current")
        forward = self._get(f"answer#{resource}#{fingerprint(rolled_back)}")
        if forward and "Replaced" in forward and json.loads(forward["Data"]["S"]) == current:
            return dict(json.loads(forward["Replaced"]["S"]))
        return dict(current) if isinstance(current, dict) else None

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self._call("get_item", Key={"Id": {"S": key}}, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _call_if(self, operation: str, **params: Any) -> bool:
        """A conditional write (`params` hold its ConditionExpression): whether its condition held;
        LedgerUnavailable for any other failure."""
        try:
            self._call(operation, **params)
        except LedgerUnavailable as error:
            if str(error) != CONDITION_FAILED:
                raise
            return False
        return True

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One DynamoDB call, throttling retried; LedgerUnavailable (its error code) for any failure."""
        try:
            response: dict[str, Any] = with_retries(
                lambda: getattr(self.dynamodb, operation)(TableName=self.table_name, **params),
                retry_until=self.clock.now() + CALL_BUDGET_S,
                clock=self.clock,
                what=operation,
            )
        except (BotoCoreError, ClientError) as error:
            raise LedgerUnavailable(error_code(error)) from None
        return response


def or_none(ledger: Ledger | None, what: str, operation: Callable[[Ledger], R]) -> R | None:
    """`operation` on the ledger, or None (logged WARNING) when there is none or it is out of reach:
    the caller falls back."""
    if ledger is None:
        return None
    try:
        return operation(ledger)
    except LedgerUnavailable as error:
        LOGGER.warning({"action": what, "ledger": f"unavailable ({error}): falling back"})
        return None


def _json(value: Any) -> str:
    """Strict JSON: a NaN or an infinity is refused (ValueError), never written."""
    return json.dumps(value, allow_nan=False, sort_keys=True)
