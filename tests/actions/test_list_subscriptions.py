"""list_subscriptions against the sandbox: the add-ons on Awa's and Carlos's lines, none for John."""

import pytest
import requests

from actions import backends
from actions.dialogue import account
from actions.formatting import date
from actions.identity import sessions
from actions.journeys.list_subscriptions import ActionListSubscriptions
from tests.conftest import make_tracker

AWA, CARLOS, JOHN = "+2290197000001", "+50255500002", "+2290196000005"


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def ask(dispatcher, domain, subject, language):
    sessions.verify("test-user", subject, "otp")
    await ActionListSubscriptions().run(dispatcher, make_tracker([], slots={"language": language}), domain)
    return plain("\n".join(m.get("text") or "" for m in dispatcher.messages))


def renewal(msisdn, language):
    add_on = backends.bss().add_ons(msisdn)[0]
    return plain(date(add_on.renewal_at, backends.bss().line(msisdn).time_zone, language))


def test_the_action_serves_list_subscriptions_for_mobile_lines():
    assert ActionListSubscriptions().name() == "action_list_subscriptions"
    assert account.JOURNEYS["list_subscriptions"] is ActionListSubscriptions
    assert ActionListSubscriptions.kinds == ("mobile",)


@pytest.mark.parametrize(
    "language, header, row",
    [
        ("fr", "Vos abonnements actifs sur ce numéro :", "• Ma Mélodie : 300 FCFA par mois, renouvelé le "),
        ("es", "Sus suscripciones activas en esta línea:", "• Ma Mélodie: 300 FCFA al mes, se renueva el "),
        ("en", "Your active add-ons on this line:", "• Ma Mélodie: 300 FCFA a month, renews on "),
    ],
)
async def test_awa_has_her_caller_tune(operator, dispatcher, domain, language, header, row):
    text = await ask(dispatcher, domain, f"line:{AWA}", language)
    assert text.splitlines() == [header, row + renewal(AWA, language)]


@pytest.mark.parametrize(
    "language, row",
    [
        ("es", "• Música sin Límites: Q25.00 al mes, se renueva el "),
        ("fr", "• Música sin Límites : Q25.00 par mois, renouvelé le "),
        ("en", "• Música sin Límites: Q25.00 a month, renews on "),
    ],
)
async def test_carlos_has_his_music(operator, dispatcher, domain, language, row):
    text = await ask(dispatcher, domain, f"line:{CARLOS}", language)
    assert text.splitlines()[1] == row + renewal(CARLOS, language)


@pytest.mark.parametrize(
    "language, text, title",
    [
        ("en", "You have no active add-ons on this line. Would you like to add one?", "See add-ons"),
        ("fr", "Vous n'avez aucun abonnement actif sur ce numéro. Voulez-vous en activer un ?", "Voir les abonnements"),
        ("es", "No tiene ninguna suscripción activa en esta línea. ¿Desea activar una?", "Ver suscripciones"),
    ],
)
async def test_john_has_none_and_is_offered_some(operator, dispatcher, domain, language, text, title):
    assert await ask(dispatcher, domain, f"line:{JOHN}", language) == text
    assert dispatcher.messages[-1]["buttons"] == [{"title": title, "payload": "/buy_subscription"}]


async def test_a_cancelled_add_on_is_not_listed(operator, dispatcher, domain):
    order = {"productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "ADD-0001-MELODIE"}}]}
    client = backends.bss()
    client._request("POST", "/productOrderingManagement/v4/productOrder", json=order, idempotency_key="cancel-melodie")
    assert "Vous n'avez aucun abonnement actif" in await ask(dispatcher, domain, f"line:{AWA}", "fr")


async def test_a_home_contract_is_not_served(operator, dispatcher, domain):
    text = await ask(dispatcher, domain, "contract:HG-100004", "es")
    assert "Música" not in text and "suscripci" not in text.lower()


async def test_bss_down(operator, dispatcher, domain):
    sessions.verify("test-user", f"line:{AWA}", "otp")
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    await ActionListSubscriptions().run(dispatcher, make_tracker([], slots={"language": "en"}), domain)
    assert "Our systems aren't responding" in dispatcher.messages[-1]["text"]
