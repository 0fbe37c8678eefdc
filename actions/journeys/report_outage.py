"""`report_outage`: checks the incident registry (TMF656) for the customer's area or the one they name, and
otherwise walks them through basic troubleshooting before a ticket. (The notice an identified customer gets
unasked is actions/outage_notice.py.)
"""

import logging
import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue import state
from actions.dialogue.account import register_journey
from actions.dialogue.state import end_journey
from actions.i18n import say
from actions.identity.verified import verified_line
from actions.outage_notice import affecting, tell
from actions.outcomes import record
from clients import BackendError
from common.clock import now
from common.state.care_kpi import first_notice

logger = logging.getLogger(__name__)
INTENT = "report_outage"
MAX_CITY_LENGTH = 60


class ActionReportOutage(Action):
    """ "My internet doesn't work": a known incident in the area is explained (no ticket needed);
    otherwise basic troubleshooting, then a ticket or an agent. Works without identification."""

    answers_no = False

    def name(self) -> Text:
        return "action_report_outage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        line, named = verified_line(tracker), self.city_named(tracker)
        city = named or (line.characteristics.get("city") if line else None)
        if not city:
            say(dispatcher, tracker, "outage_ask_city")
            return state.asking(INTENT)
        kind = line.kind if line and not named else None  # an area they named: whatever its incidents are
        try:
            incidents = affecting(bss().incidents(city), kind)
        except BackendError as error:
            logger.warning("outage registry unavailable for %s: %s", city, error)
            say(dispatcher, tracker, "outage_check_unavailable")
            return self.troubleshoot(dispatcher, tracker, kind)
        if incidents:
            for incident in incidents:
                first_notice(tracker.sender_id, incident.id, now())  # so journeys do not repeat it
                tell(dispatcher, tracker, incident, city)
            say(dispatcher, tracker, "outage_known_next")
            record(tracker, "self_served", topic=INTENT, line=line)
            return end_journey()
        say(dispatcher, tracker, "outage_none_known", city=city)
        return self.troubleshoot(dispatcher, tracker, kind)

    @staticmethod
    def troubleshoot(dispatcher: CollectingDispatcher, tracker: Tracker, kind: Optional[str]) -> List[EventType]:
        # No outcome recorded: whether the steps worked is unknown (a ticket or handoff records itself).
        say(
            dispatcher,
            tracker,
            {"mobile": "outage_steps_mobile", "home": "outage_steps_home"}.get(kind or "", "outage_steps_any"),
        )
        say(dispatcher, tracker, "outage_offer_help")
        return end_journey()

    @staticmethod
    def city_named(tracker: Tracker) -> Optional[str]:
        """A city the message names (entity), or the typed answer when we asked for one."""
        message = tracker.latest_message or {}
        entity = next(
            (
                str(e["value"]).strip()
                for e in message.get("entities") or []
                if e.get("entity") == "city" and str(e.get("value") or "").strip()
            ),
            None,
        )
        if entity:
            return entity[:MAX_CITY_LENGTH]
        answering = state.waiting_journey(tracker) == INTENT and (message.get("intent") or {}).get("name") != INTENT
        text = (message.get("text") or "").strip()
        if answering and not text.startswith("/") and re.search(r"[^\W\d_]", text) and len(text) <= MAX_CITY_LENGTH:
            return text
        return None


register_journey(INTENT, ActionReportOutage)
