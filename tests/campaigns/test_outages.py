"""Outage broadcasts against the sandbox's NOC: the active customers of the area told once, then told it is over."""

from datetime import datetime, timedelta, timezone

import pytest
import requests

from campaigns import outages
from campaigns.sender import Sender
from clients.bss import BSSClient
from common import clock as project_clock
from common.state import campaigns, db
from tests.actions.chat import token  # the NOC's client of the gateway, as the assistant's
from tests.campaigns.test_sender import FakeRasa
from tests.conftest import sms_to

PROBLEMS = "/tmf-api/serviceProblemManagement/v4/serviceProblem"
COTONOU_ACTIVE, COTONOU_ASLEEP, PARAKOU = "+2290197000001", "+2290196000005", "+2290166000006"


@pytest.fixture
def customers(operator, clock):
    clock.move_to(datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc))  # 16:00 in Cotonou: inside sending hours
    moment = project_clock.now()
    with db.session() as s, s.begin():
        for number, seen in (
            (COTONOU_ACTIVE, moment),
            (COTONOU_ASLEEP, moment - timedelta(days=45)),
            (PARAKOU, moment),
        ):
            s.add(
                db.ChannelLink(
                    conversation_id=f"web:{number}",
                    subject=f"line:{number}",
                    channel="socketio",
                    first_linked_at=seen,
                    last_verified_at=seen,
                )
            )
    return operator


def raise_incident(sandbox, city="Cotonou", hours=3):
    end = (project_clock.now() + timedelta(hours=hours)).isoformat() if hours else None
    body = {"city": city, "market": "BJ", "affectedService": "mobileData", "expectedResolutionDate": end}
    answer = requests.post(f"{sandbox}{PROBLEMS}", json=body, headers=token(sandbox), timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def resolve(sandbox, incident_id):
    answer = requests.patch(
        f"{sandbox}{PROBLEMS}/{incident_id}", json={"status": "resolved"}, headers=token(sandbox), timeout=10
    )
    answer.raise_for_status()


def texts(sandbox, number):
    return [m["text"] for m in sms_to(sandbox, number)]


def test_the_areas_active_customers_are_told_once_then_told_it_is_over(customers, clock):
    sandbox, bss, sender = customers, BSSClient(), Sender(rasa=FakeRasa())
    incident = raise_incident(sandbox)
    outages.broadcast(bss)
    outages.broadcast(bss)  # another sender's round, or the next one: nothing twice
    sender.run_once()
    # (the sandbox's own seeded incidents are broadcast too: only this one's messages are looked at)
    assert campaigns.reached(f"O-{incident}-raised") == [COTONOU_ACTIVE]  # not the one asleep, not Parakou
    [told] = [text for text in texts(sandbox, COTONOU_ACTIVE) if "Cotonou" in text]
    assert told.startswith("⚠️ Incident réseau à Cotonou : l'internet mobile perturbé(s).")
    assert "retour prévu le mer. 2 déc. à 19:00" in told  # 18:00 UTC, in Cotonou's time zone

    clock.shift(timedelta(hours=2))
    resolve(sandbox, incident)
    outages.broadcast(bss)
    outages.broadcast(bss)
    sender.run_once()
    assert campaigns.reached(f"O-{incident}-resolved") == [COTONOU_ACTIVE]
    assert texts(sandbox, COTONOU_ACTIVE)[-1].startswith(
        "✅ C'est rétabli : l'internet mobile fonctionne à nouveau à Cotonou"
    )


def test_an_outage_over_before_its_message_left_is_never_announced(customers, clock):
    sandbox, bss, sender = customers, BSSClient(), Sender(rasa=FakeRasa())
    clock.move_to(datetime(2026, 12, 2, 23, 30, tzinfo=timezone.utc))  # night in Parakou: the notice waits
    incident = raise_incident(sandbox, city="Parakou", hours=None)
    outages.broadcast(bss)
    sender.run_once()
    resolve(sandbox, incident)
    outages.broadcast(bss)
    clock.move_to(datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc))
    sender.run_once()
    assert campaigns.reached(f"O-{incident}-raised") == campaigns.reached(f"O-{incident}-resolved") == []
    assert campaigns.report(f"O-{incident}-raised")["reasons"] == {
        "the incident was resolved before this message left": 1
    }
