"""An identified customer whose area has a network incident (TMF656 service problems) hears about it before
anything else, once per conversation, with its expected end in the market's time zone."""

import logging
from datetime import datetime
from typing import Iterable, List, Optional

import pytz
from babel.dates import format_time
from babel.lists import format_list
from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import bss
from actions.formatting import BABEL_LOCALES, date
from actions.i18n import language_of, say
from actions.identity.verified import verified_line
from clients import BackendError
from clients.bss import Incident, Line
from common.clock import now
from common.i18n import render
from common.state.care_kpi import first_notice

logger = logging.getLogger(__name__)
# Which incidents concern which kind of line: a home contract is not told about mobile data.
SERVICES_BY_KIND = {"mobile": {"mobileData", "voice", "sms"}, "home": {"homeInternet"}}
SERVICE_NAMES = ("mobileData", "voice", "sms", "homeInternet")


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
    services = [
        render(f"outage_service_{s}" if s in SERVICE_NAMES else "outage_service_other", language)["text"]
        for s in incident.services
    ] or [render("outage_service_other", language)["text"]]
    values = {
        "city": incident.cities[0] if incident.cities else city,
        "service": format_list(services, locale=BABEL_LOCALES.get(language, "en")),
        "since": when(incident.raised_at or now(), incident.time_zone, language),
    }
    if incident.expected_end is not None and incident.expected_end > now():
        say(
            dispatcher,
            tracker,
            "outage_notice",
            until=when(incident.expected_end, incident.time_zone, language),
            **values,
        )
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
    line = verified_line(tracker)
    return outage_notice(dispatcher, tracker, line) if line is not None else []
