"""Audiences from the operator's systems, against the sandbox's BSS (TMF678 bills with TMF630 filters, the next best
offers, the lines' cities): the functions the console will call, and `python -m campaigns audience`."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import requests

from campaigns import queries
from clients.bss import BSSClient
from common import clock as project_clock
from common.state import campaigns, db
from tests.campaigns.test_campaign_run import ROOT
from tests.campaigns.test_sender import MESSAGES
from tests.clock import offset_for

MARIA, CARLOS, AWA = "+50235500003", "+50255500002", "+2290197000001"
HOME_ACCOUNT = "BA-0004"  # a home contract: bills, but no mobile number to text


def numbers(found):
    return sorted(row["msisdn"] for row in found.rows)


def test_bills_due_within_n_days_find_the_lines_of_each_account_once(operator):
    bss = BSSClient()
    # the sandbox seeds bills due in 5 days (the home contract) and in 10 days (María's line)
    assert (numbers(queries.bills_due(bss, 3)), queries.bills_due(bss, 3).left_out) == ([], [])
    soon = queries.bills_due(bss, 6)
    assert numbers(soon) == [] and soon.left_out == [
        {"what": HOME_ACCOUNT, "reason": "no mobile number on this account"}
    ]
    later = queries.bills_due(bss, 11)
    assert later.rows == [{"msisdn": MARIA, "name": "María López", "language": "es"}]
    with pytest.raises(ValueError):
        queries.bills_due(bss, -1)


def test_overdue_bills_are_those_due_before_now_and_not_paid(operator, clock):
    bss = BSSClient()
    assert numbers(queries.overdue(bss)) == []  # only the home contract is late
    later = project_clock.now() + timedelta(days=11)  # María's bill is now late too
    requests.post(f"{operator}/_sandbox/clock", json={"at": later.isoformat(), "frozen": True}, timeout=10)
    clock.move_to(later)
    assert numbers(queries.overdue(bss)) == [MARIA]
    assert numbers(queries.bills_due(bss, 30)) == []


def test_an_offer_reaches_the_lines_it_is_among_the_best_offers_for(operator):
    bss = BSSClient()
    best = {msisdn: [o.id for o in bss.recommendations(msisdn)] for msisdn in (CARLOS, MARIA)}
    offering = best[CARLOS][0]
    expected = sorted(n for n, offers in best.items() if offering in offers[:1])
    assert CARLOS in expected and numbers(queries.offer(bss, offering, top=1)) == expected
    everywhere = numbers(queries.offer(bss, offering, top=20))
    assert MARIA in everywhere and AWA not in everywhere  # Benin's lines are not offered Guatemala's packs
    with pytest.raises(ValueError):
        queries.offer(bss, "NO-SUCH-OFFER")


def test_an_outage_area_is_its_active_customers(operator):
    with db.session() as s, s.begin():
        s.add(
            db.ChannelLink(
                conversation_id="web:awa",
                subject=f"line:{AWA}",
                channel="socketio",
                first_linked_at=project_clock.now(),
                last_verified_at=project_clock.now(),
            )
        )
    assert queries.run("outage-area", BSSClient(), city="Cotonou").rows == [
        {"msisdn": AWA, "name": "Awa Houngbédji", "language": "fr"}
    ]
    assert queries.run("outage-area", BSSClient(), city="Parakou").rows == []


def test_the_cli_adds_a_querys_lines_to_a_campaign(operator, tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr("common.config.ASSISTANT_DB_URL", db_url)
    db.engine.cache_clear()
    made = campaigns.create("late bills", "payment_reminder", MESSAGES, project_clock.now(), 60)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_DB_URL": db_url,
        "BSS_BASE_URL": f"{operator}/tmf-api",
        "BSS_TOKEN_URL": f"{operator}/oauth/token",
        "CLOCK_OFFSET_SECONDS": str(offset_for(project_clock.now())),
    }

    def cli(*args):
        done = subprocess.run(
            [sys.executable, "-m", "campaigns", "audience", made.id, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode, done.stdout + done.stderr

    code, out = cli("--query", "bills-due", "--days", "11")
    assert code == 0 and "1 numbers added, 0 already in the campaign" in out
    assert f"{HOME_ACCOUNT}: no mobile number on this account" in out
    code, out = cli("--query", "bills-due", "--days", "11")
    assert code == 0 and "0 numbers added, 1 already in the campaign" in out
    code, out = cli("--query", "offer")
    assert code == 2 and "--offering is needed" in out
    with db.session() as s:
        rows = s.query(campaigns.CampaignRecipient).filter_by(campaign_id=made.id).all()
    assert [(row.msisdn, row.name, row.language) for row in rows] == [(MARIA, "María López", "es")]
