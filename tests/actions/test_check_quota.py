"""check_quota against the sandbox: data, minutes and SMS left per pack, unlimited plans, home, nothing left."""

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
import requests

from actions import backends
from actions.dialogue import account
from actions.formatting import date
from actions.identity import sessions
from actions.journeys.check_quota import ActionCheckQuota, live_buckets
from clients.bss import Bucket
from tests.conftest import make_tracker

AWA, CARLOS, MARIA, JOHN, SUSPENDED = "+2290197000001", "+50255500002", "+50235500003", "+2290196000005", "+50255500007"


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def ask(dispatcher, domain, subject, language):
    sessions.verify("test-user", subject, "otp")
    await ActionCheckQuota().run(dispatcher, make_tracker([], slots={"language": language}), domain)
    return plain("\n".join(m.get("text") or "" for m in dispatcher.messages))


def expiry(msisdn, bucket_id, language):
    bucket = next(b for b in backends.bss().buckets(msisdn) if b.id == bucket_id)
    return date(bucket.expires_at, "Africa/Porto-Novo" if msisdn.startswith("+229") else "America/Guatemala", language)


def test_the_action_serves_check_quota_for_mobile_and_home():
    assert ActionCheckQuota().name() == "action_check_quota"
    assert account.JOURNEYS["check_quota"] is ActionCheckQuota
    assert set(ActionCheckQuota.kinds) == {"mobile", "home"}


@pytest.mark.parametrize(
    "language, data, sms",
    [
        (
            "fr",
            "Internet (Pass Internet 2 Go) : 1,5 Go sur 2 Go, jusqu'au",
            "SMS (SMS offerts) : 20 SMS sur 30 SMS, jusqu'au",
        ),
        (
            "es",
            "Internet (Pass Internet 2 Go): 1.5 GB de 2 GB, hasta el",
            "SMS (SMS offerts): 20 SMS de 30 SMS, hasta el",
        ),
        ("en", "Data (Pass Internet 2 Go): 1.5 GB of 2 GB, until", "SMS (SMS offerts): 20 SMS of 30 SMS, until"),
    ],
)
async def test_awa_sees_each_pack_with_its_size_and_end(operator, dispatcher, domain, language, data, sms):
    text = await ask(dispatcher, domain, f"line:{AWA}", language)
    assert data in text and sms in text
    assert expiry(AWA, "BKT-0001-DATA", language) in text and expiry(AWA, "BKT-0001-SMS", language) in text
    assert text.index(data) < text.index(sms)  # data first
    assert "2 500" not in text and "/buy_pack" not in str(dispatcher.messages)  # no money, nothing to buy


async def test_carlos_sees_his_data_pack_in_spanish(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, f"line:{CARLOS}", "es")
    assert text.startswith("Esto es lo que le queda:")
    assert "• Internet (Paquete 5 GB 15 días): 3 GB de 5 GB, hasta el " + expiry(CARLOS, "BKT-0002-DATA", "es") in text


@pytest.mark.parametrize(
    "language, data, voice, sms",
    [
        (
            "es",
            "Internet (Tigo Plus 150): 9.6 GB de 15 GB",
            "Llamadas (Tigo Plus 150): ilimitadas",
            "SMS (Tigo Plus 150): ilimitados",
        ),
        (
            "fr",
            "Internet (Tigo Plus 150) : 9,6 Go sur 15 Go",
            "Appels (Tigo Plus 150) : illimités",
            "SMS (Tigo Plus 150) : illimités",
        ),
        (
            "en",
            "Data (Tigo Plus 150): 9.6 GB of 15 GB",
            "Calls (Tigo Plus 150): unlimited",
            "SMS (Tigo Plus 150): unlimited",
        ),
    ],
)
async def test_a_postpaid_plan_shows_its_data_and_its_unlimited_calls_and_sms(
    operator, dispatcher, domain, language, data, voice, sms
):
    text = await ask(dispatcher, domain, f"line:{MARIA}", language)
    assert data in text and voice in text and sms in text
    assert expiry(MARIA, "BKT-0003-DATA", language) in text


@pytest.mark.parametrize(
    "language, expected",
    [
        ("fr", "Vous n'avez plus d'unités"),
        ("es", "Ya no le quedan megas, minutos ni SMS"),
        ("en", "You have no data, minutes or SMS left"),
    ],
)
async def test_nothing_left_says_so_and_offers_a_pack(operator, dispatcher, domain, language, expected):
    text = await ask(dispatcher, domain, f"line:{JOHN}", language)
    assert expected in text
    assert "Pass Internet 1 Go" not in text
    button = dispatcher.messages[-1]["buttons"][0]
    assert button["payload"] == "/buy_pack"
    assert button["title"] == {"fr": "Acheter un forfait", "es": "Comprar un paquete", "en": "Buy a pack"}[language]


async def test_a_used_up_pack_is_shown_with_a_pack_to_buy(operator, dispatcher, domain, monkeypatch):
    client = backends.bss()
    real = client.buckets
    monkeypatch.setattr(
        client,
        "buckets",
        lambda msisdn: [dataclasses.replace(b, amount=0) if b.id == "BKT-0001-DATA" else b for b in real(msisdn)],
    )
    text = await ask(dispatcher, domain, f"line:{AWA}", "fr")
    assert "Internet (Pass Internet 2 Go) : 0 Mo sur 2 Go" in text and "20 SMS sur 30 SMS" in text
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/buy_pack"


@pytest.mark.parametrize(
    "language, expected",
    [
        ("es", "Su internet de hogar (Internet Hogar 100 Mbps) es ilimitado"),
        ("fr", "Votre internet maison (Internet Hogar 100 Mbps) est illimité"),
        ("en", "Your home internet (Internet Hogar 100 Mbps) is unlimited"),
    ],
)
async def test_a_home_plan_without_quota_is_unlimited(operator, dispatcher, domain, language, expected):
    text = await ask(dispatcher, domain, "contract:HG-100004", language)
    assert expected in text


def with_home_quota(monkeypatch, allowance):
    client = backends.bss()
    real = client.contract
    monkeypatch.setattr(
        client,
        "contract",
        lambda number: dataclasses.replace(
            real(number), characteristics={**real(number).characteristics, "dataAllowance": allowance}
        ),
    )
    return client


async def test_a_home_plan_with_a_quota_shows_it(operator, dispatcher, domain, monkeypatch):
    with_home_quota(monkeypatch, "500 GB")
    text = await ask(dispatcher, domain, "contract:HG-100004", "es")
    assert "Su plan de internet de hogar Internet Hogar 100 Mbps incluye 500 GB de datos al mes." in text


async def test_a_home_quota_held_in_a_bucket_shows_what_is_left(operator, dispatcher, domain, monkeypatch):
    client = with_home_quota(monkeypatch, "500 GB")
    end = datetime.now(timezone.utc) + timedelta(days=12)
    seen = []
    monkeypatch.setattr(
        client,
        "account_buckets",
        lambda account: seen.append(account)
        or [Bucket("BKT-HOME", "Internet Hogar 100 Mbps", "data", 300 * 1024, "MB", 500 * 1024, end, "active")],
    )
    text = await ask(dispatcher, domain, "contract:HG-100004", "en")
    assert seen == ["BA-0004"]
    assert "Your home internet quota (Internet Hogar 100 Mbps):" in text
    assert f"• Data (Internet Hogar 100 Mbps): 300 GB of 500 GB, until {date(end, 'America/Guatemala', 'en')}" in text


def test_expired_and_money_buckets_do_not_count():
    moment = datetime.now(timezone.utc)
    buckets = [
        Bucket("a", "Old pass", "data", 500, "MB", 1024, moment - timedelta(hours=1), "active"),
        Bucket("b", "Expired", "data", 500, "MB", 1024, None, "expired"),
        Bucket("c", "Main", "main", 2500, "XOF", 2500, None, "active"),
        Bucket("d", "SMS", "sms", 5, "SMS", 10, moment + timedelta(days=2), "active"),
        Bucket("e", "Pass", "data", 100, "MB", 150, moment + timedelta(days=1), "active"),
    ]
    assert [b.id for b in live_buckets(buckets, moment)] == ["e", "d"]


async def test_a_suspended_line_gets_nothing(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, f"line:{SUSPENDED}", "es")
    assert "suspendida" in text and "Esto es lo que le queda" not in text


async def test_a_bss_outage_gives_a_clear_answer(operator, dispatcher, domain):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    text = await ask(dispatcher, domain, f"line:{AWA}", "fr")
    assert "Nos systèmes ne répondent pas" in text
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/human_handoff"


def test_a_lines_buckets_are_never_taken_for_a_home_quota(operator):
    assert backends.bss().buckets(MARIA)  # María's billing account holds her line's buckets...
    assert backends.bss().account_buckets("BA-0003") == []  # ...which are not an account's own quota


@pytest.mark.parametrize(
    "value, units, expected",
    [
        ("15 GB", None, (15360.0, "MB")),
        ("500 Mo", None, (500.0, "MB")),
        ("1,5 GB", None, (1536.0, "MB")),
        ("unlimited", None, (None, "MB")),
        (300, "min", (300.0, "min")),
        ("banana", None, None),
    ],
)
def test_plan_allowances_are_read_as_the_operator_writes_them(value, units, expected):
    from clients.bss import parse_allowance

    allowance = parse_allowance("data" if units != "min" else "voice", value, units)
    if expected is None:
        assert allowance is None
    else:
        assert (allowance.amount, allowance.units) == expected
