"""Money moves: shown to the customer, confirmed by an explicit yes, executed exactly once.

A journey that is ready to move money calls `propose`: the operation (what, for which line, with
which parameters) is stored server-side with a fresh id, the customer sees a summary and Yes / No.
"Yes" runs `ActionConfirmOperation`, which re-checks the identity, claims the operation atomically
and runs its executor with the operation's id as the operator's Idempotency-Key: a repeated "yes",
a channel redelivery or a retry after a timeout can never move the money twice.
"""

import logging
import uuid
from datetime import timedelta
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import case, select, update

from actions import outcomes
from actions.dialogue import state
from actions.dialogue.account import AccountAction, serve_pending
from actions.dialogue.state import end_journey
from actions.dialogue.steps import ActionContinueJourney
from actions.i18n import language_of, say
from actions.journeys.give_feedback import maybe_ask_nps
from clients import BackendError, BackendUnavailable
from clients.bss import Line
from common import config
from common.clock import aware, now
from common.i18n import render
from common.state.db import PendingOperation, session

logger = logging.getLogger(__name__)
# How long a proposal may wait for its "yes".
CONFIRM_MINUTES = 10
# A "yes" this soon after a move was done is taken as a repeat of the one that did it.
REPEAT_MINUTES = 5
# kind -> the function that moves the money and tells the customer; it returns what to remember.
Executor = Callable[[CollectingDispatcher, Tracker, Line, Dict[str, Any], str], Dict[str, Any]]
EXECUTORS: Dict[str, Executor] = {}


def executor(kind: str) -> Callable[[Executor], Executor]:
    def register(function: Executor) -> Executor:
        EXECUTORS[kind] = function
        return function

    return register


def propose(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    line: Line,
    journey: str,
    kind: str,
    params: Dict[str, Any],
    summary_key: str,
    draft: Dict[str, Any],
    alternatives: List[Dict[str, str]] = (),
    **values: Any,
) -> List[EventType]:
    """Stores the operation, shows its summary with Yes / No (and alternatives), and waits for the answer."""
    moment = now()
    with session() as s, s.begin():
        # Only the newest proposal of a conversation can be confirmed.
        s.execute(
            update(PendingOperation)
            .where(PendingOperation.conversation_id == tracker.sender_id, PendingOperation.status == "proposed")
            .values(status="superseded", updated_at=moment)
        )
        s.add(
            PendingOperation(
                id=str(uuid.uuid4()),
                conversation_id=tracker.sender_id,
                subject=line.subject,
                journey=journey,
                kind=kind,
                params=params,
                status="proposed",
                created_at=moment,
                updated_at=moment,
            )
        )
    language = language_of(tracker)
    message = render(summary_key, language, **values)
    confirm = render("confirm_buttons", language)
    message["buttons"] = confirm["buttons"][:1] + list(alternatives) + confirm["buttons"][1:]
    message["text"] = f"{message['text']}\n{confirm['text']}"
    dispatcher.utter_message(**message)
    return state.confirming(journey, {**draft, "asking": None, "options": []})


def latest(conversation_id: str) -> Optional[PendingOperation]:
    # Two operations may carry the same instant (a coarse or frozen clock): the one still open is the newer,
    # since a proposal is only made once the earlier ones are done or superseded.
    with session() as s:
        return (
            s.execute(
                select(PendingOperation)
                .where(PendingOperation.conversation_id == conversation_id)
                .order_by(
                    PendingOperation.created_at.desc(),
                    case(
                        (PendingOperation.status == "proposed", 0), (PendingOperation.status == "executing", 1), else_=2
                    ),
                )
                .limit(1)
            )
            .scalars()
            .first()
        )


def _claim(operation_id: str) -> bool:
    """proposed -> executing, for one caller only (two "yes" at once: the second finds it taken)."""
    with session() as s, s.begin():
        claimed = s.execute(
            update(PendingOperation)
            .where(PendingOperation.id == operation_id, PendingOperation.status == "proposed")
            .values(status="executing", updated_at=now())
        )
        return claimed.rowcount == 1


def _reclaim_stale(operation: PendingOperation) -> bool:
    """executing -> executing again, for one caller only, when the action server that claimed it has not finished
    after OPERATION_STALE_SECONDS (it died mid-call: restarted, killed, its host gone). The executor then runs again
    with the same id, the operator's Idempotency-Key: if the money had moved, the operator replays its first answer
    and nothing moves twice; if not, it moves now, once."""
    if now() - aware(operation.updated_at) < timedelta(seconds=config.OPERATION_STALE_SECONDS):
        return False
    with session() as s, s.begin():
        claimed = s.execute(
            update(PendingOperation)
            .where(
                PendingOperation.id == operation.id,
                PendingOperation.status == "executing",
                PendingOperation.updated_at == operation.updated_at,
            )
            .values(updated_at=now())
        )
        return claimed.rowcount == 1


def _finish(operation_id: str, status: str, result: Optional[Dict[str, Any]] = None) -> None:
    with session() as s, s.begin():
        s.execute(
            update(PendingOperation)
            .where(PendingOperation.id == operation_id)
            .values(status=status, result=result, updated_at=now())
        )


def explain_refusal(dispatcher: CollectingDispatcher, tracker: Tracker, error: BackendError, line: Line) -> None:
    """A refusal from the operator in the customer's words, with a way forward."""
    key = {
        "ERR_INSUFFICIENT_FUNDS": "refused_insufficient_funds",
        "ERR_LINE_SUSPENDED": "line_suspended",
        "ERR_AMOUNT_OUT_OF_RANGE": "refused_amount_out_of_range",
        "ERR_LOAN_NOT_ELIGIBLE": "refused_loan_not_eligible",
        "ERR_ALREADY_SUBSCRIBED": "refused_already_subscribed",
        "ERR_NOT_CANCELLABLE": "refused_not_cancellable",
        "ERR_OFFER_NOT_AVAILABLE": "refused_offer_not_available",
        "ERR_NOT_PREPAID": "refused_not_prepaid",
        "ERR_BILL_ALREADY_PAID": "refused_bill_already_paid",
    }.get(error.code, "backend_refused")
    say(dispatcher, tracker, key)


class ActionConfirmOperation(AccountAction):
    """The customer said yes: run the operation they were shown, once."""

    self_serves = False  # recorded below, once the money has moved

    def name(self) -> Text:
        return "action_confirm_operation"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        operation = latest(tracker.sender_id)
        if operation is None or operation.status in ("cancelled", "superseded", "failed"):
            say(dispatcher, tracker, "nothing_to_confirm")
            return end_journey()
        if operation.status == "done":
            say(dispatcher, tracker, "operation_already_done")
            return end_journey()
        if operation.status == "executing" and not (operation.subject == line.subject and _reclaim_stale(operation)):
            say(dispatcher, tracker, "operation_in_progress")
            return []
        if operation.subject != line.subject:
            # Proposed to another identity (the customer changed number since): never run it for this one.
            _finish(operation.id, "cancelled")
            say(dispatcher, tracker, "nothing_to_confirm")
            return end_journey()
        if operation.status == "proposed" and now() - aware(operation.created_at) > timedelta(minutes=CONFIRM_MINUTES):
            _finish(operation.id, "cancelled")
            say(dispatcher, tracker, "operation_expired")
            return end_journey()
        if operation.status == "proposed" and not _claim(operation.id):
            say(dispatcher, tracker, "operation_in_progress")
            return []
        try:
            result = EXECUTORS[operation.kind](dispatcher, tracker, line, operation.params, operation.id)
        except BackendUnavailable as error:
            # Not known to have happened: the same id is sent again when the customer retries.
            logger.warning("%s %s: operator unavailable: %s", operation.kind, operation.id, error)
            _finish(operation.id, "proposed")
            say(dispatcher, tracker, "operation_retry")
            return []
        except BackendError as error:
            logger.info("%s %s refused: %s", operation.kind, operation.id, error.code)
            _finish(operation.id, "failed", {"error": error.code})
            explain_refusal(dispatcher, tracker, error, line)
            return end_journey()
        except Exception:
            _finish(operation.id, "proposed")
            raise
        _finish(operation.id, "done", result)
        outcomes.record(tracker, "self_served", topic=operation.journey, line=line)
        if "checkout" in (result or {}):  # a payment link: the journey ends when the payment arrives
            return end_journey()
        # end_journey first: the survey's own question must stay pending
        return end_journey() + maybe_ask_nps(dispatcher, tracker, line.subject)


class ActionCancelOperation(Action):
    """No: nothing moves, and the journey's choices are forgotten."""

    def name(self) -> Text:
        return "action_cancel_operation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        with session() as s, s.begin():
            s.execute(
                update(PendingOperation)
                .where(PendingOperation.conversation_id == tracker.sender_id, PendingOperation.status == "proposed")
                .values(status="cancelled", updated_at=now())
            )
        say(dispatcher, tracker, "operation_cancelled")
        return end_journey()


class ActionYes(Action):
    """ "Yes": confirms the money move waiting for it, else answers the journey's question, else asks what next."""

    def name(self) -> Text:
        return "action_yes"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if state.is_confirming(tracker):
            return await ActionConfirmOperation().run(dispatcher, tracker, domain)
        pending = state.waiting_journey(tracker)
        operation = latest(tracker.sender_id)
        if (
            pending in (None, "give_feedback")
            and operation is not None
            and operation.status == "done"
            and now() - aware(operation.updated_at) < timedelta(minutes=REPEAT_MINUTES)
        ):
            # the same "yes" again (the customer, or the channel redelivering): it was done, once
            # (a yes is no answer to the 0-10 survey that may follow a money move)
            say(dispatcher, tracker, "operation_already_done")
            return []
        if pending and serve_pending(pending):
            return await ActionContinueJourney().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionNo(Action):
    """ "No": drops the pending money move or journey (nothing moves), else asks what next."""

    def name(self) -> Text:
        return "action_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = serve_pending(state.waiting_journey(tracker))
        if journey is not None and not state.is_confirming(tracker) and journey.answers_no:
            # the journey asked a question "no" answers ("did this article help?")
            return await ActionContinueJourney().run(dispatcher, tracker, domain)
        if state.is_confirming(tracker) or state.is_waiting(tracker):
            return await ActionCancelOperation().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_anything_else")
        return []
