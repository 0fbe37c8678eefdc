"""Network outages: told before anything else to an identified customer in an affected area, once per
conversation; and `report_outage`, which checks the incident registry (TMF656) for the customer's area
or the one they name, and otherwise walks them through basic troubleshooting before a ticket.
"""
import logging
import re
from datetime import datetime
from typing import Iterable, List, Optional, Text

import pytz
from babel.dates import format_time
from babel.lists import format_list
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clients import BackendError
from clients.bss import Incident, Line
from actions.formatting import BABEL_LOCALES, date
from actions.i18n import language_of, say
from common.i18n import render
from actions.identity import sessions
from actions.dialogue.account import JOURNEYS, AccountAction, bss, channel_identity
from actions.dialogue.steps import end_journey
from actions.outcomes import record
from common.state.care_kpi import first_notice
from common.clock import now

logger = logging.getLogger(__name__)
INTENT = "report_outage"
# Which incidents concern which kind of line: a home contract is not told about mobile data.
SERVICES_BY_KIND = {"mobile": {"mobileData", "voice", "sms"}, "home": {"homeInternet"}}
SERVICE_NAMES = ("mobileData", "voice", "sms", "homeInternet")
MAX_CITY_LENGTH = 60



def affecting(incidents: Iterable[Incident], kind: Optional[str]) -> List[Incident]:
    """The incidents that concern a line of this kind (all of them when the kind is unknown)."""
    wanted = SERVICES_BY_KIND.get(kind or "")
    return [i for i in incidents if wanted is None or not i.services or wanted & set(i.services)]


def when(moment: datetime, time_zone: str, language: str) -> str:
    """'aujourd'hui à 06:30', 'mañana a las 2:30', 'Thursday, November 26 at 8:00 AM' in the market's time zone."""
    zone = pytz.timezone(time_zone or "UTC")
    local, today = moment.astimezone(zone), now().astimezone(zone).date()
    clock = format_time(local, "short", locale=BABEL_LOCALES.get(language, "en"))
    relative = {0: "outage_today", -1: "outage_yesterday", 1: "outage_tomorrow"}.get((local.date() - today).days)
    if relative:
        return render(relative, language, time=clock)["text"]
    return render("outage_on_day", language, day=date(moment, time_zone, language), time=clock)["text"]


def tell(dispatcher: CollectingDispatcher, tracker: Tracker, incident: Incident, city: str) -> None:
    """Which service is down where, since when and until when (as far as the operator knows)."""
    language = language_of(tracker)
    services = [render(f"outage_service_{s}" if s in SERVICE_NAMES else "outage_service_other", language)["text"]
                for s in incident.services] or [render("outage_service_other", language)["text"]]
    values = {"city": incident.cities[0] if incident.cities else city,
              "service": format_list(services, locale=BABEL_LOCALES.get(language, "en")),
              "since": when(incident.raised_at or now(), incident.time_zone, language)}
    if incident.expected_end is not None and incident.expected_end > now():
        say(dispatcher, tracker, "outage_notice", until=when(incident.expected_end, incident.time_zone, language),
            **values)
    else:  # no estimate, or the estimate has passed: promise nothing
        say(dispatcher, tracker, "outage_notice_no_estimate", **values)


def outage_notice(dispatcher: CollectingDispatcher, tracker: Tracker, line: Line) -> List[EventType]:
    """Tells an identified customer about the incidents in their line's area, each once per conversation.
    Never fails the journey it precedes: without the registry, nothing is said."""
    city = (line.characteristics or {}).get("city")
    if not city:
        return []
    try:
        incidents = affecting(bss().incidents(city), line.kind)
    except BackendError as error:
        logger.warning("outage registry unavailable for %s: %s", city, error)
        return []
    except Exception:  # noqa: BLE001 - an unexpected answer must not stop the customer's journey
        logger.exception("outage registry answered something unexpected for %s", city)
        return []
    for incident in incidents:
        if first_notice(tracker.sender_id, incident.id, now()):
            tell(dispatcher, tracker, incident, city)
    return []


def notice_for_current_line(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """outage_notice for the line this conversation has just proved it holds (action_identification_done
    with no journey to resume; a resumed journey gives the notice itself, in AccountAction.run)."""
    line = ActionReportOutage.identified_line(tracker)
    return outage_notice(dispatcher, tracker, line) if line is not None else []


class ActionReportOutage(Action):
    """"My internet doesn't work": a known incident in the area is explained (no ticket needed);
    otherwise basic troubleshooting, then a ticket or an agent. Works without identification."""

    answers_no = False

    def name(self) -> Text:
        return "action_report_outage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        line, named = self.identified_line(tracker), self.city_named(tracker)
        city = named or (line.characteristics.get("city") if line else None)
        if not city:
            say(dispatcher, tracker, "outage_ask_city")
            return [SlotSet("pending_journey", INTENT), SlotSet("awaiting_answer", True),
                    SlotSet("awaiting_confirmation", False)]
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
        say(dispatcher, tracker, {"mobile": "outage_steps_mobile", "home": "outage_steps_home"}.get(kind or "",
                                                                                                 "outage_steps_any"))
        say(dispatcher, tracker, "outage_offer_help")
        return end_journey()

    @staticmethod
    def identified_line(tracker: Tracker) -> Optional[Line]:
        """The verified line, if the conversation holds one (identity server-side, never from slots)."""
        try:
            identity = sessions.authorise(tracker.sender_id) or channel_identity(tracker)
            return AccountAction.line_of(identity) if identity else None
        except BackendError as error:
            logger.info("no line for the outage check: %s", error)
            return None

    @staticmethod
    def city_named(tracker: Tracker) -> Optional[str]:
        """A city the message names (entity), or the typed answer when we asked for one."""
        message = tracker.latest_message or {}
        entity = next((str(e["value"]).strip() for e in message.get("entities") or []
                       if e.get("entity") == "city" and str(e.get("value") or "").strip()), None)
        if entity:
            return entity[:MAX_CITY_LENGTH]
        answering = tracker.get_slot("pending_journey") == INTENT and tracker.get_slot("awaiting_answer") and \
            (message.get("intent") or {}).get("name") != INTENT
        text = (message.get("text") or "").strip()
        if answering and not text.startswith("/") and re.search(r"[^\W\d_]", text) and len(text) <= MAX_CITY_LENGTH:
            return text
        return None


JOURNEYS[INTENT] = ActionReportOutage
