"""Outage broadcasts: when the operator's NOC raises an incident (TMF656 serviceProblem), the active customers of
that area are told once, with the expected end; when it is resolved, the same customers are told it is over.

Each broadcast is a campaign of kind `outage` with a fixed id (O-<incident>-raised, O-<incident>-resolved), so any
number of senders polling at once create it once. "Active": a line whose customer proved it on some channel in the
last ACTIVE_DAYS (common/state/db.ChannelLink). Its area is the line's city in the BSS. A message still queued
when the incident is resolved is dropped: nobody hears of an outage that is already over.
"""

import logging
from datetime import timedelta
from typing import Dict, List, Optional

import pytz
from babel.dates import format_skeleton, format_time

from clients.bss import BSSClient, Incident
from common import clock
from common.i18n import render
from common.state import campaigns, db
from common.text import fold

logger = logging.getLogger(__name__)
ACTIVE_DAYS = 30
LANGUAGES = ("fr", "es", "en")


def broadcast(bss: BSSClient) -> int:
    """Creates the broadcasts the incidents call for; answers how many were created."""
    made = 0
    for incident in bss.every_incident():
        raised = campaigns.get(f"O-{incident.id}-raised")
        if incident.status != "resolved" and raised is None:
            made += _raised(bss, incident)
        elif (
            incident.status == "resolved" and raised is not None and campaigns.get(f"O-{incident.id}-resolved") is None
        ):
            made += _resolved(incident, raised)
    return made


def _raised(bss: BSSClient, incident: Incident) -> int:
    lines = active_lines_in(bss, incident.cities)
    messages = {language: raised_text(incident, language) for language in LANGUAGES}
    campaign = campaigns.create_once(f"O-{incident.id}-raised", f"outage {incident.id}", "outage", messages)
    if campaign is None:
        return 0
    campaigns.add_recipients(campaign.id, [{"msisdn": msisdn} for msisdn in lines])
    logger.info("outage %s: %d active lines to tell", incident.id, len(lines))
    return 1


def _resolved(incident: Incident, raised: campaigns.Campaign) -> int:
    campaigns.drop_queued(raised.id, "the incident was resolved before this message left")
    messages = {language: resolved_text(incident, language) for language in LANGUAGES}
    campaign = campaigns.create_once(f"O-{incident.id}-resolved", f"outage {incident.id} resolved", "outage", messages)
    if campaign is None:
        return 0
    campaigns.add_recipients(campaign.id, [{"msisdn": msisdn} for msisdn in campaigns.reached(raised.id)])
    return 1


def active_lines_in(bss: BSSClient, cities: List[str]) -> List[str]:
    """Lines proved on some channel in the last ACTIVE_DAYS whose city is one of `cities`."""
    wanted = {fold(city) for city in cities}
    found = []
    for msisdn in db.lines_seen_since(clock.now() - timedelta(days=ACTIVE_DAYS)):
        line = bss.line(msisdn)
        if line is not None and fold((line.characteristics or {}).get("city") or "") in wanted:
            found.append(msisdn)
    return found


def when(incident: Incident, language: str) -> Optional[Dict[str, str]]:
    """The expected end as {"day": "jeu. 3 déc.", "time": "18:00"} in the market's time zone; None without one."""
    if incident.expected_end is None or incident.expected_end <= clock.now():
        return None
    zone = pytz.timezone(incident.time_zone or "UTC")
    return {
        "day": format_skeleton("MMMEd", incident.expected_end, tzinfo=zone, locale=language),
        "time": format_time(incident.expected_end, "short", tzinfo=zone, locale=language),
    }


def service_names(incident: Incident, language: str) -> str:
    names = [render(f"outage_service_{s}", language)["text"] for s in incident.services if s]
    return ", ".join(names) or render("outage_service_other", language)["text"]


def raised_text(incident: Incident, language: str) -> str:
    values = {"city": ", ".join(incident.cities), "service": service_names(incident, language)}
    until = when(incident, language)
    if until is None:
        return render("outage_broadcast_no_estimate", language, **values)["text"]
    return render("outage_broadcast", language, **values, **until)["text"]


def resolved_text(incident: Incident, language: str) -> str:
    values = {"city": ", ".join(incident.cities), "service": service_names(incident, language)}
    return render("outage_broadcast_resolved", language, **values)["text"]


def poll(bss: Optional[BSSClient] = None) -> None:
    """One round for the sender's loop: never lets a registry outage stop the sending."""
    try:
        broadcast(bss or BSSClient())
    except Exception:  # noqa: BLE001 - the next round tries again
        logger.exception("outage broadcast round failed")
