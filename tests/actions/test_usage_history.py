"""usage_history against the sandbox: the last 7 days of calls, data and SMS, and what cost the most."""

from datetime import timedelta

import pytest
import requests

from actions import backends
from actions.dialogue import account
from actions.formatting import date
from actions.identity import sessions
from actions.journeys import usage_history
from actions.journeys.usage_history import ActionUsageHistory
from tests.conftest import make_tracker

AWA, CARLOS, MARIA, JOHN = "+2290197000001", "+50255500002", "+50235500003", "+2290196000005"


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def ask(dispatcher, domain, subject, language):
    sessions.verify("test-user", subject, "otp")
    await ActionUsageHistory().run(dispatcher, make_tracker([], slots={"language": language}), domain)
    return plain("\n".join(m.get("text") or "" for m in dispatcher.messages))


def day_of(msisdn, destination, time_zone, language):
    record = next(r for r in backends.bss().usage(msisdn) if r.destination == destination and r.cost > 0)
    return date(record.used_at, time_zone, language)


def test_the_action_serves_usage_history_for_mobile_lines_only():
    assert ActionUsageHistory().name() == "action_usage_history"
    assert account.JOURNEYS["usage_history"] is ActionUsageHistory
    assert ActionUsageHistory.kinds == ("mobile",)


@pytest.mark.parametrize(
    "language, summary, top",
    [
        (
            "fr",
            [
                "Votre consommation des 7 derniers jours :",
                "• Appels : 3 · 11 min 35 s · 600 FCFA",
                "• Internet : 512 Mo · inclus",
                "• SMS : 3 · 25 FCFA",
                "Ce qui vous a le plus coûté :",
            ],
            [
                "• Appel vers le +229 01 95 55 66 77 (7 min) : 350 FCFA, ",
                "• Appel vers le +229 01 96 12 34 56 (3 min) : 150 FCFA, ",
                "• Appel vers le +229 01 61 23 45 67 (1 min 35 s) : 100 FCFA, ",
            ],
        ),
        (
            "es",
            [
                "Su consumo de los últimos 7 días:",
                "• Llamadas: 3 · 11 min 35 s · 600 FCFA",
                "• Internet: 512 MB · incluido",
                "• SMS: 3 · 25 FCFA",
                "Lo que más le costó:",
            ],
            [
                "• Llamada al +229 01 95 55 66 77 (7 min): 350 FCFA, ",
                "• Llamada al +229 01 96 12 34 56 (3 min): 150 FCFA, ",
                "• Llamada al +229 01 61 23 45 67 (1 min 35 s): 100 FCFA, ",
            ],
        ),
        (
            "en",
            [
                "Your usage over the last 7 days:",
                "• Calls: 3 · 11 min 35 s · 600 FCFA",
                "• Data: 512 MB · included",
                "• SMS: 3 · 25 FCFA",
                "What cost you the most:",
            ],
            [
                "• Call to +229 01 95 55 66 77 (7 min): 350 FCFA, ",
                "• Call to +229 01 96 12 34 56 (3 min): 150 FCFA, ",
                "• Call to +229 01 61 23 45 67 (1 min 35 s): 100 FCFA, ",
            ],
        ),
    ],
)
async def test_awa_last_week_with_the_three_costliest_calls(operator, dispatcher, domain, language, summary, top):
    text = await ask(dispatcher, domain, f"line:{AWA}", language)
    lines = text.splitlines()
    assert lines[:5] == summary
    destinations = ["+2290195556677", "+2290196123456", "+2290161234567"]
    assert lines[5:] == [row + day_of(AWA, d, "Africa/Porto-Novo", language) for row, d in zip(top, destinations)]


async def test_carlos_last_week_in_spanish(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, f"line:{CARLOS}", "es")
    assert "• Llamadas: 4 · 17 min · Q10.20" in text
    assert "• Internet: 2 GB · incluido" in text and "• SMS: 2 · Q0.60" in text
    first = "• Llamada al +502 5598 7654 (10 min): Q6.00, " + day_of(CARLOS, "+50255987654", "America/Guatemala", "es")
    assert text.splitlines()[5] == first
    assert len([line for line in text.splitlines()[5:] if line.startswith("• ")]) == 3


async def test_an_sms_can_be_among_the_costliest(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, f"line:{JOHN}", "en")
    assert "• Data: 1.29 GB · included" in text
    assert "• SMS to +229 01 97 00 00 01: 25 FCFA, " in text


@pytest.mark.parametrize(
    "language, expected",
    [
        ("es", "Todo estaba incluido en su plan: no se le cobrará nada adicional."),
        ("fr", "Tout était inclus dans votre forfait : rien ne sera facturé en plus."),
        ("en", "It was all included in your plan: nothing extra will be billed."),
    ],
)
async def test_a_postpaid_week_all_included_in_the_plan(operator, dispatcher, domain, language, expected):
    text = await ask(dispatcher, domain, f"line:{MARIA}", language)
    assert text.splitlines()[-1] == expected
    assert {
        "es": "• Internet: 5.4 GB · incluido",
        "fr": "• Internet : 5,4 Go · inclus",
        "en": "• Data: 5.4 GB · included",
    }[language] in text


async def test_a_quiet_week_says_there_is_nothing(operator, dispatcher, domain, monkeypatch, clock):
    later = usage_history.now() + timedelta(days=30)
    clock.move_to(later)
    text = await ask(dispatcher, domain, f"line:{AWA}", "fr")
    assert text == "Aucune consommation sur votre ligne ces 7 derniers jours."


async def test_older_records_are_left_out(operator, dispatcher, domain, monkeypatch, clock):
    later = usage_history.now() + timedelta(days=3)  # Awa's calls of 4 days ago are then 7 days old
    clock.move_to(later)
    text = await ask(dispatcher, domain, f"line:{AWA}", "en")
    assert "• Calls: 2 · 4 min 35 s · 250 FCFA" in text and "350 FCFA" not in text


async def test_a_home_contract_is_the_wrong_kind_of_line(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, "contract:HG-100004", "es")
    assert text == "Ese servicio no está disponible para este tipo de línea."


async def test_a_bss_outage_gives_a_clear_answer(operator, dispatcher, domain):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    text = await ask(dispatcher, domain, f"line:{AWA}", "en")
    assert "Our systems aren't responding" in text
