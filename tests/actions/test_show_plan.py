"""show_plan against the sandbox: a prepaid tariff, a postpaid plan, a home plan, in fr, es and en."""

import pytest
import requests

from actions import backends
from actions.dialogue import account
from actions.formatting import date
from actions.identity import sessions
from actions.journeys.show_plan import ActionShowPlan
from tests.conftest import make_tracker

AWA, CARLOS, MARIA, SUSPENDED = "+2290197000001", "+50255500002", "+50235500003", "+50255500007"


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def ask(dispatcher, domain, subject, language):
    sessions.verify("test-user", subject, "otp")
    await ActionShowPlan().run(dispatcher, make_tracker([], slots={"language": language}), domain)
    return plain("\n".join(m.get("text") or "" for m in dispatcher.messages))


def renewal(product_id, language):
    line = backends.bss().contract(product_id) if product_id.startswith("HG-") else backends.bss().line(product_id)
    return date(backends.bss().plan(line).renewal_at, "America/Guatemala", language)


def test_the_action_serves_show_plan_for_mobile_and_home():
    assert ActionShowPlan().name() == "action_show_plan"
    assert account.JOURNEYS["show_plan"] is ActionShowPlan
    assert set(ActionShowPlan.kinds) == {"mobile", "home"}


@pytest.mark.parametrize(
    "language, rows",
    [
        (
            "es",
            [
                "Su plan: Tigo Plus 150",
                "• Precio: Q150.00 al mes",
                "• Internet: 15 GB",
                "• Llamadas: ilimitadas",
                "• SMS: ilimitados",
                "• Próxima renovación: ",
            ],
        ),
        (
            "fr",
            [
                "Votre forfait : Tigo Plus 150",
                "• Prix : Q150.00 par mois",
                "• Internet : 15 Go",
                "• Appels : illimités",
                "• SMS : illimités",
                "• Prochain renouvellement : ",
            ],
        ),
        (
            "en",
            [
                "Your plan: Tigo Plus 150",
                "• Price: Q150.00 a month",
                "• Data: 15 GB",
                "• Calls: unlimited",
                "• SMS: unlimited",
                "• Next renewal: ",
            ],
        ),
    ],
)
async def test_a_postpaid_plan_with_price_allowances_and_renewal(operator, dispatcher, domain, language, rows):
    text = await ask(dispatcher, domain, f"line:{MARIA}", language)
    assert text.splitlines()[:-1] == rows[:-1]
    assert text.splitlines()[-1] == rows[-1] + renewal(MARIA, language)


@pytest.mark.parametrize(
    "language, rows",
    [
        (
            "es",
            [
                "Su plan: Internet Hogar 100 Mbps",
                "• Precio: Q299.00 al mes",
                "• Internet: ilimitado",
                "• Velocidad: 100 Mbps de bajada, 50 Mbps de subida",
                "• Próxima renovación: ",
            ],
        ),
        (
            "fr",
            [
                "Votre forfait : Internet Hogar 100 Mbps",
                "• Prix : Q299.00 par mois",
                "• Internet : illimité",
                "• Débit : 100 Mbps en réception, 50 Mbps en envoi",
                "• Prochain renouvellement : ",
            ],
        ),
        (
            "en",
            [
                "Your plan: Internet Hogar 100 Mbps",
                "• Price: Q299.00 a month",
                "• Data: unlimited",
                "• Speed: 100 Mbps down, 50 Mbps up",
                "• Next renewal: ",
            ],
        ),
    ],
)
async def test_a_home_plan_with_its_speeds(operator, dispatcher, domain, language, rows):
    text = await ask(dispatcher, domain, "contract:HG-100004", language)
    assert text.splitlines()[:-1] == rows[:-1]
    assert text.splitlines()[-1] == rows[-1] + renewal("HG-100004", language)


@pytest.mark.parametrize(
    "language, header, no_fee",
    [
        (
            "fr",
            "Votre offre : Prépayé Classique (prépayé)",
            "• Sans abonnement : vous payez avec votre crédit ou avec des forfaits",
        ),
        ("es", "Su plan: Prépayé Classique (prepago)", "• Sin cuota mensual: paga con su saldo o con paquetes"),
        ("en", "Your plan: Prépayé Classique (prepaid)", "• No monthly fee: you pay from your credit or with packs"),
    ],
)
async def test_a_prepaid_tariff_with_its_rates(operator, dispatcher, domain, language, header, no_fee):
    text = await ask(dispatcher, domain, f"line:{AWA}", language)
    assert text.splitlines() == [
        header,
        no_fee,
        "• Forfait prépayé : appels 50 F/min, SMS 25 F",
    ]  # the catalogue's words


async def test_carlos_prepaid_tariff_in_spanish(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, f"line:{CARLOS}", "es")
    assert "Su plan: Prepago Clásico (prepago)" in text and "llamadas Q0.60/min, SMS Q0.30" in text
    assert "al mes" not in text


async def test_a_suspended_line_gets_nothing(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, f"line:{SUSPENDED}", "es")
    assert "suspendida" in text and "Prepago Clásico" not in text


async def test_a_bss_outage_gives_a_clear_answer(operator, dispatcher, domain):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    text = await ask(dispatcher, domain, f"line:{MARIA}", "es")
    assert "Nuestros sistemas no responden" in text and "Tigo Plus 150" not in text
