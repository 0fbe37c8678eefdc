"""check_loan against the sandbox: debt, credit limit, what is still available, open advances, repayment."""

import pytest
import requests

from actions.identity import sessions
from actions.journeys.check_loan import ActionCheckLoan
from tests.conftest import make_tracker
from tests.sandbox.test_bss_helpers import BSS, TOPUP, buy

CARLOS, AWA, JOHN, MARIA, SUSPENDED = "+50255500002", "+2290197000001", "+2290196000005", "+50235500003", "+50255500007"


def plain(dispatcher) -> str:
    """Every text sent, with Babel's (narrow) no-break spaces as plain spaces."""
    return "\n".join(m.get("text") or "" for m in dispatcher.messages).replace("\u202f", " ").replace("\xa0", " ")


async def check_loan(dispatcher, domain, subject, language):
    sessions.verify("test-user", subject, "otp")
    await ActionCheckLoan().run(dispatcher, make_tracker([], slots={"language": language}), domain)
    return plain(dispatcher)


@pytest.mark.parametrize(
    "language, debt, limit, available, advance, repaid",
    [
        (
            "es",
            "Deuda por pagar: Q10.00",
            "Límite de préstamo: Q25.00",
            "Disponible para pedir: Q15.00",
            "Adelanto de saldo",
            "próxima recarga",
        ),
        (
            "fr",
            "Dette à rembourser : Q10.00",
            "Plafond d'avance : Q25.00",
            "Encore disponible : Q15.00",
            "Avance de crédit",
            "prochaine recharge",
        ),
        (
            "en",
            "Debt to repay: Q10.00",
            "Credit limit: Q25.00",
            "Still available to borrow: Q15.00",
            "Airtime advance",
            "next top-up",
        ),
    ],
)
async def test_carlos_sees_his_debt_limit_and_what_is_left(
    operator, dispatcher, domain, language, debt, limit, available, advance, repaid
):
    text = await check_loan(dispatcher, domain, f"line:{CARLOS}", language)
    for expected in (debt, limit, available, advance, repaid):
        assert expected in text
    # the open advance: Q10 principal, Q1 fee, Q10.00 still owed
    assert "Q10.00 + Q1.00" in text
    assert text.count("\n• ") == 4 and len(dispatcher.messages) == 1


@pytest.mark.parametrize(
    "language, no_debt, limit",
    [
        ("fr", "Aucune dette en cours", "Plafond d'avance : 1 000 FCFA"),
        ("es", "No tiene deuda pendiente", "Límite de préstamo: 1,000 FCFA"),
        ("en", "No debt to repay", "Credit limit: 1,000 FCFA"),
    ],
)
async def test_no_debt_shows_the_whole_limit_available(operator, dispatcher, domain, language, no_debt, limit):
    text = await check_loan(dispatcher, domain, f"line:{AWA}", language)
    assert no_debt in text and limit in text
    assert text.count("1 000 FCFA" if language == "fr" else "1,000 FCFA") == 2  # limit and still available
    assert {"fr": "Une avance se rembourse", "es": "Un préstamo se descuenta", "en": "An advance is repaid"}[
        language
    ] in text


async def test_an_advance_taken_then_repaid_by_a_top_up_shows_up(operator, dispatcher, domain):
    bss = BSS(operator)
    assert buy(bss, "BJ-LOAN-CREDIT-500", AWA).status_code == 201  # 500 F + 50 F fee
    text = await check_loan(dispatcher, domain, f"line:{AWA}", "fr")
    assert "Dette à rembourser : 550 FCFA" in text and "Encore disponible : 450 FCFA" in text
    assert "Avance de crédit du " in text and "500 FCFA + 50 FCFA de frais, reste 550 FCFA" in text

    topup = bss.post(
        TOPUP,
        {
            "amount": {"amount": 300, "units": "XOF"},
            "usageType": "monetary",
            "logicalResource": [{"id": AWA}],
            "paymentMethod": {"id": "card"},
        },
    )
    assert topup.status_code == 201, topup.text
    dispatcher.messages.clear()
    text = await check_loan(dispatcher, domain, f"line:{AWA}", "fr")
    assert "Dette à rembourser : 250 FCFA" in text and "Encore disponible : 750 FCFA" in text


async def test_a_data_advance_is_named_as_such(operator, dispatcher, domain):
    assert buy(BSS(operator), "BJ-LOAN-DATA-100MO", JOHN).status_code == 201
    text = await check_loan(dispatcher, domain, f"line:{JOHN}", "en")
    assert "Data advance on " in text and "Debt to repay: 165 FCFA" in text


@pytest.mark.parametrize(
    "subject, language, expected",
    [
        (f"line:{MARIA}", "es", "solo para líneas prepago"),
        ("contract:HG-100004", "fr", "réservées aux lignes prépayées"),
        ("contract:HG-100004", "en", "only for prepaid lines"),
    ],
)
async def test_postpaid_and_home_hear_that_loans_are_for_prepaid(
    operator, dispatcher, domain, subject, language, expected
):
    text = await check_loan(dispatcher, domain, subject, language)
    assert expected in text and len(dispatcher.messages) == 1  # no figures, only the explanation
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/last_invoices"


async def test_a_suspended_line_gets_no_loan_figures(operator, dispatcher, domain):
    text = await check_loan(dispatcher, domain, f"line:{SUSPENDED}", "es")
    assert "suspendida" in text and "Q25.00" not in text


async def test_unidentified_gets_identification_not_figures(operator, dispatcher, domain):
    events = await ActionCheckLoan().run(dispatcher, make_tracker([], slots={"language": "es"}), domain)
    assert any(e["event"] == "followup" and e["name"] == "identify_form" for e in events)
    assert "Q10.00" not in plain(dispatcher)


async def test_a_bss_outage_gives_a_clear_answer(operator, dispatcher, domain):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    text = await check_loan(dispatcher, domain, f"line:{CARLOS}", "en")
    assert "Our systems aren't responding" in text and "Q10.00" not in text
