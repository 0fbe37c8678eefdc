"""NPS: "how likely are you to recommend us" (0-10), then an optional comment.

Asked after a completed journey or a handoff, at most once per customer in NPS_INTERVAL_DAYS (`maybe_ask_nps`);
asked whenever the customer says they want to give feedback. Where the survey stands (waiting for the score,
for the comment, done) is kept server-side in `nps_survey`, with the answer, channel, language and market.
"""

import json
import logging
import re
from datetime import timedelta
from typing import Any, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import or_, select

from actions.dialogue import state
from actions.dialogue.account import register_journey
from actions.dialogue.state import end_journey
from actions.i18n import language_of, say
from actions.outcomes import market_of, subject_of
from common import config
from common.clock import aware, now
from common.i18n import render
from common.state.care_kpi import NpsSurvey, session
from privacy.redaction import redact_text

logger = logging.getLogger(__name__)
INTENT = "give_feedback"
SCORES = range(0, 11)


def ask_score(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: str = "nps_question",
    text: Optional[str] = None,
    **metadata: Any,
) -> List[EventType]:
    """The question (`text`, else the message `key`) with 0-10 buttons (a tap never depends on NLU); a typed
    number also answers. `metadata` goes to the output channel with it (a campaign message says which it is)."""
    message = {**render(key, language_of(tracker)), **metadata}
    if text:
        message["text"] = text
    message["buttons"] = [{"title": str(n), "payload": f"/{INTENT}{json.dumps({'score': str(n)})}"} for n in SCORES]
    dispatcher.utter_message(**message)
    return state.asking(INTENT)


def open_survey(subject: str, conversation_id: str, source: str) -> None:
    with session() as s, s.begin():
        # a new question replaces any unanswered one of this conversation
        for old in s.execute(
            select(NpsSurvey).where(NpsSurvey.conversation_id == conversation_id, NpsSurvey.stage != "done")
        ).scalars():
            old.stage = "done"
        s.add(NpsSurvey(subject=subject, conversation_id=conversation_id, source=source, stage="score", asked_at=now()))


def maybe_ask_nps(dispatcher: CollectingDispatcher, tracker: Tracker, subject: Optional[str] = None) -> List[EventType]:
    """Asks the NPS question unless this customer (or this channel user) was asked in the last
    NPS_INTERVAL_DAYS. Put its events after a journey's end_journey(): they set the pending question."""
    subject = subject or subject_of(tracker)
    sender = f"sender:{tracker.sender_id}"
    try:
        with session() as s:
            recent = s.execute(
                select(NpsSurvey.id)
                .where(
                    or_(NpsSurvey.subject == subject, NpsSurvey.subject == sender),
                    NpsSurvey.asked_at >= now() - timedelta(days=config.NPS_INTERVAL_DAYS),
                )
                .limit(1)
            ).first()
        if recent is not None:
            return []
        open_survey(subject, tracker.sender_id, "asked")
    except Exception:  # noqa: BLE001 - a survey is never worth failing the journey that just succeeded
        logger.exception("could not ask NPS in %s", tracker.sender_id)
        return []
    return ask_score(dispatcher, tracker)


def read_score(tracker: Tracker, typed_allowed: bool) -> Optional[str]:
    """The score as given: the `score` entity (buttons), else a number typed in answer to the question."""
    message = tracker.latest_message or {}
    entity = next(
        (
            str(e.get("value"))
            for e in message.get("entities") or []
            if e.get("entity") == "score" and e.get("value") not in (None, "")
        ),
        None,
    )
    if entity is not None or not typed_allowed:
        return entity
    found = re.search(r"-?\d+", message.get("text") or "")
    return found.group(0) if found else None


def words(text: str) -> int:
    return len(re.findall(r"\w+", text or ""))


def valid_score(value: Optional[str]) -> Optional[int]:
    try:
        score = int(str(value).strip().split("/")[0])
    except (TypeError, ValueError):
        return None
    return score if score in SCORES else None


class ActionGiveFeedback(Action):
    """The score (button or typed), then the optional comment; or "I want to give feedback"."""

    answers_no = True  # "no" skips the question or the comment

    def name(self) -> Text:
        return "action_give_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        survey = self.current_survey(tracker.sender_id)
        waiting_for = survey.stage if survey else None
        given = read_score(tracker, typed_allowed=waiting_for == "score")
        if given is not None:
            if survey is None:  # a score tapped on an old question, or given with "I want to give feedback"
                open_survey(subject_of(tracker), tracker.sender_id, "spontaneous")
                survey = self.current_survey(tracker.sender_id)
            score = valid_score(given)
            if score is None:
                return ask_score(dispatcher, tracker, "nps_score_invalid")
            self.store_score(tracker, survey.id, score)
            say(dispatcher, tracker, "nps_ask_comment")
            return state.asking(INTENT)
        text = (tracker.latest_message or {}).get("text") or ""
        if waiting_for == "comment":
            if intent == "deny" and words(text) <= 3:  # "no thanks"; a longer "no, ..." is a comment
                self.finish(survey.id)
                say(dispatcher, tracker, "nps_thanks")
                return end_journey()
            if (intent == "affirm" and words(text) <= 3) or (intent == INTENT and words(text) <= 6):
                say(dispatcher, tracker, "nps_comment_go_ahead")  # "yes" / "I want to say something"
                return state.asking(INTENT)
            self.finish(survey.id, comment=text)
            say(dispatcher, tracker, "nps_thanks")
            return end_journey()
        if intent == INTENT:
            # the customer chose to give feedback: ask even if they were asked recently
            if waiting_for is None:
                open_survey(subject_of(tracker), tracker.sender_id, "spontaneous")
            return ask_score(dispatcher, tracker)
        if waiting_for == "score":
            if intent == "deny":
                self.finish(survey.id)
                say(dispatcher, tracker, "nps_skipped")
                return end_journey()
            return ask_score(dispatcher, tracker, "nps_score_invalid")
        say(dispatcher, tracker, "nothing_asked")
        return end_journey()

    @staticmethod
    def current_survey(conversation_id: str) -> Optional[NpsSurvey]:
        """This conversation's survey still waiting for an answer (asked within NPS_ANSWER_HOURS)."""
        with session() as s:
            survey = (
                s.execute(
                    select(NpsSurvey)
                    .where(NpsSurvey.conversation_id == conversation_id, NpsSurvey.stage != "done")
                    .order_by(NpsSurvey.asked_at.desc(), NpsSurvey.id.desc())
                    .limit(1)
                )
                .scalars()
                .first()
            )
        if survey is None or aware(survey.asked_at) < now() - timedelta(hours=config.NPS_ANSWER_HOURS):
            return None
        return survey

    @staticmethod
    def store_score(tracker: Tracker, survey_id: int, score: int) -> None:
        with session() as s, s.begin():
            survey = s.get(NpsSurvey, survey_id)
            survey.score, survey.answered_at, survey.stage = score, now(), "comment"
            survey.channel = tracker.get_latest_input_channel() or "unknown"
            survey.language = language_of(tracker)
            survey.market = market_of(tracker, survey.subject)

    @staticmethod
    def finish(survey_id: int, comment: Optional[str] = None) -> None:
        with session() as s, s.begin():
            survey = s.get(NpsSurvey, survey_id)
            survey.stage = "done"
            if comment and comment.strip():
                survey.comment = redact_text(comment.strip())[:2000]


register_journey(INTENT, ActionGiveFeedback)
