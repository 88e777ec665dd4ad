"""Who works on a request: each delivery is claimed in the run ledger, and a duplicate never works beside it.

Lambda delivers an event at least once: CloudFormation's request, and each hand-over (a "turn",
named by the claimant that handed over) may arrive twice, or again after a crash (Lambda retries
an invocation that died). Each delivery is claimed (`Ledger.claim`) before it starts anything; a
second delivery finds the claim and waits until the claimant

- answered: the same answer goes out again (a FAILED one too);
- handed the request over (its turn claimed, or its `HandedOver` mark): the next turn answers;
- is surely over, neither done: its Lambda's limit passed, or the request's ServiceTimeout (by then
  a live claimant has answered "timed out"). It crashed: the claim is taken over, and the work goes
  on from the run the claim names, or from the start it had begun (a lost start reply, then).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .answers import TaskFailed
from .handover import HANDOVER_KEY, HANDOVER_MARGIN_S, Window
from .ledger import Ledger, LedgerUnavailable, or_none, resource_key
from .retries import Clock

LOGGER = logging.getLogger(__name__)

DUPLICATE_POLL_S = 5.0  # how often a duplicate delivery reads the claim it waits on
CLAIMANT_GRACE_S = 2.0  # past the claimant's end, it surely ended (the clocks of two sandboxes differ)
TIMED_OUT_ANSWER_S = 15.0  # what a live claimant takes past the request's deadline to cancel and answer


class Claim(enum.Enum):
    """What the claim of a delivery found, other than another invocation's claim."""

    OURS = "ours"  # the first delivery: this invocation works on it
    OUT_OF_REACH = "out of reach"  # the ledger is: no duplicate can be told apart


@dataclass(frozen=True)
class Takeover:
    """A claim taken over from an invocation that ended unanswered: where its work stood."""

    run_id: str  # the run it recorded ("" if none)
    before: dict[str, Any]
    window: Window  # the request's time, from its first delivery
    starting_at: float | None  # when it sent a start whose run it did not record (None: none)


def delivery_key(event: Mapping[str, Any]) -> str:
    """What a delivery is claimed under: the RequestId, and the turn of a hand-over."""
    turn = (event.get(HANDOVER_KEY) or {}).get("Turn")
    return f"{event['RequestId']}#{turn}" if turn else str(event["RequestId"])


class Deliveries:
    """The claims of deliveries, through the run ledger (None: out of reach, nothing is claimed)."""

    def __init__(self, ledger: Ledger | None, clock: Clock) -> None:
        self.ledger = ledger
        self.clock = clock

    def claim(self, event: Mapping[str, Any], window: Window, claimant: str) -> dict[str, Any] | Claim:
        """Claim this delivery for `claimant`: Claim.OURS when it is the first, the claim found when
        it is a duplicate, Claim.OUT_OF_REACH when the ledger is (nothing can be told then)."""
        if self.ledger is None:
            return Claim.OUT_OF_REACH
        try:
            found = self.ledger.claim(
                delivery_key(event),
                resource_key(event),
                claimant,
                started_at=window.started_at,
                limit=window.invocation_end + HANDOVER_MARGIN_S,
            )
        except LedgerUnavailable as error:
            LOGGER.warning({"action": "claim", "ledger": f"unavailable ({error}): falling back"})
            return Claim.OUT_OF_REACH
        return Claim.OURS if found is None else found

    def after_claimant(
        self, event: Mapping[str, Any], claim: dict[str, Any], window: Window, claimant: str
    ) -> dict[str, Any] | Takeover | None:
        """A duplicate delivery: wait for the claimant (see the module's docstring). Its answer's Data
        (TaskFailed for a FAILED one), None when it handed over or this invocation would end first,
        or the takeover."""
        key, request_id = delivery_key(event), str(event["RequestId"])
        request = replace(window, started_at=float(claim.get("StartedAt", window.started_at)))
        while True:
            answer = (claim if key == request_id else self._read(request_id) or {}).get("Answer")
            if isinstance(answer, dict):
                LOGGER.info({"action": "duplicate delivery", "result": "answered already: the same answer"})
                if answer.get("Status") != "SUCCESS":
                    raise TaskFailed(str(answer.get("Reason") or "FAILED"))
                return dict(answer.get("Data") or {})
            if "HandedOver" in claim or self._read(f"{request_id}#{claim.get('Claimant')}"):
                LOGGER.info({"action": "duplicate delivery", "result": "handed over: the next turn answers"})
                return None
            claimant_end = min(float(claim.get("Limit", 0)), request.deadline + TIMED_OUT_ANSWER_S)
            now = self.clock.now()
            if now >= claimant_end + CLAIMANT_GRACE_S:
                break
            if now >= window.invocation_end:
                LOGGER.warning({"action": "duplicate delivery", "result": "left to the first delivery, still at work"})
                return None
            self.clock.sleep(min(DUPLICATE_POLL_S, claimant_end + CLAIMANT_GRACE_S - now, window.invocation_end - now))
            claim = self._read(key) or claim
        if not self._take_over(key, claim, claimant, window):
            LOGGER.warning({"action": "duplicate delivery", "result": "not taken over: another invocation goes on"})
            return None
        LOGGER.warning({"action": "duplicate delivery", "result": "taken over: the claimant ended unanswered"})
        starting = claim.get("Starting") if not claim.get("RunId") else None
        return Takeover(
            run_id=str(claim.get("RunId") or ""),
            before=dict(claim.get("Before") or {}),
            window=request,
            starting_at=float(starting) if starting is not None else None,
        )

    def answered(self, event: Mapping[str, Any]) -> bool:
        """Whether the request has an answer on record (a turn that would start a run asks)."""
        return "Answer" in (self._read(str(event["RequestId"])) or {})

    def starting(self, event: Mapping[str, Any], before: Mapping[str, Any]) -> None:
        """This delivery sends a start, having noted `before`: a takeover after a crash looks for the
        run it may have started, and gates it as this delivery would have."""
        self._write("starting", lambda ledger: ledger.starting(delivery_key(event), before))

    def not_starting(self, event: Mapping[str, Any]) -> None:
        """This delivery's start surely started nothing."""
        self._write("not starting", lambda ledger: ledger.not_starting(delivery_key(event)))

    def handed_over(self, event: Mapping[str, Any]) -> None:
        """This delivery handed the request over: its duplicates stop."""
        self._write("handed over", lambda ledger: ledger.handed_over(delivery_key(event)))

    def _take_over(self, key: str, claim: Mapping[str, Any], claimant: str, window: Window) -> bool:
        """Take the claim over; True too when the ledger is out of reach (the claimant is over anyway)."""
        if self.ledger is None:
            return True
        try:
            return self.ledger.take_over(key, claim, claimant, limit=window.invocation_end + HANDOVER_MARGIN_S)
        except LedgerUnavailable as error:
            LOGGER.warning({"action": "take over", "ledger": f"unavailable ({error}): going on"})
            return True

    def _read(self, key: str) -> dict[str, Any] | None:
        return or_none(self.ledger, "read claim", lambda ledger: ledger.request(key))

    def _write(self, what: str, operation: Callable[[Ledger], None]) -> None:
        or_none(self.ledger, what, operation)
