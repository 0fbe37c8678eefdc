"""action_payment_received against the sandbox: a real checkout session, paid on the gateway's hosted page with
a test card (the bill really gets settled, the line really topped up), then the action tells the customer."""

import uuid

import pytest
import requests

from actions.formatting import money
from actions.identity import sessions
from actions.payments_received import ActionPaymentReceived
from clients.bss import BSSClient
from clients.payments import PaymentsClient
from common import config
from tests.conftest import make_tracker, user_event

CONVERSATION = "test-user"
MARIA_BILL, HOME_OVERDUE_BILL = "CB-0003-003", "CB-0004-001"  # Q150.00 unpaid; Q299.00 overdue
AWA, CARLOS = "+2290197000001", "+50255500002"  # prepaid: 2 500 XOF; Q35.50 with a Q10.00 advance to repay


@pytest.fixture
def gateway(operator, monkeypatch):
    """The payment client pointed at the same freshly reset sandbox as the BSS client."""
    monkeypatch.setattr(config, "PAYMENTS_BASE_URL", operator)
    return operator


def checkout(amount, currency, reference, conversation=CONVERSATION):
    return PaymentsClient().create_checkout(
        amount=amount,
        currency=currency,
        reference=reference,
        conversation_id=conversation,
        success_url=config.PAYMENTS_SUCCESS_URL,
        cancel_url=config.PAYMENTS_CANCEL_URL,
        idempotency_key=str(uuid.uuid4()),
    )


def pay(session, card="4242 4242 4242 4242"):
    """What the customer does on the hosted page: the form the page posts to itself."""
    page = requests.post(
        session.url, data={"card_number": card, "expiry": "12/34", "cvc": "123", "name": "María López"}, timeout=10
    )
    assert page.status_code == 200, page.text
    assert PaymentsClient().checkout(session.id).payment_status == "paid"


def external_event(checkout_id, reference):
    """The user event Rasa logs for EXTERNAL_payment_received, with the entities the webhook connector sets."""
    return user_event(
        "EXTERNAL: EXTERNAL_payment_received",
        "EXTERNAL_payment_received",
        entities=[
            {"entity": "payment_checkout_id", "value": checkout_id},
            {"entity": "payment_reference", "value": reference},
            {"entity": "payment_amount", "value": 150.0},
            {"entity": "payment_currency", "value": "GTQ"},
        ],
    )


async def payment_received(dispatcher, domain, checkout_id, reference, language, sender=CONVERSATION):
    tracker = make_tracker([external_event(checkout_id, reference)], slots={"language": language}, sender_id=sender)
    assert await ActionPaymentReceived().run(dispatcher, tracker, domain) == []
    return [m["text"] for m in dispatcher.messages]


def bill_no(bill_id):
    return BSSClient().bill(bill_id).bill_no


@pytest.mark.parametrize(
    "language, expected",
    [
        ("fr", "Paiement reçu ✅ Votre facture {bill} de Q150.00 est réglée. Merci !"),
        ("es", "¡Pago recibido! ✅ Su factura {bill} por Q150.00 quedó pagada. ¡Muchas gracias!"),
        ("en", "Payment received ✅ Your bill {bill} for Q150.00 is paid. Thank you!"),
    ],
)
async def test_a_bill_paid_by_card_is_confirmed_with_its_number_and_amount(
    gateway, dispatcher, domain, language, expected
):
    session = checkout(150.0, "GTQ", MARIA_BILL)
    pay(session)
    bill = BSSClient().bill(MARIA_BILL)
    assert bill.state == "settled" and bill.bill_no.startswith("FGT-")
    assert await payment_received(dispatcher, domain, session.id, MARIA_BILL, language) == [
        expected.format(bill=bill.bill_no)
    ]


async def test_a_partly_paid_bill_says_what_is_left(gateway, dispatcher, domain):
    session = checkout(50.0, "GTQ", HOME_OVERDUE_BILL)
    pay(session)
    assert await payment_received(dispatcher, domain, session.id, HOME_OVERDUE_BILL, "es") == [
        f"¡Pago recibido! ✅ Recibimos Q50.00 para su factura {bill_no(HOME_OVERDUE_BILL)}. Quedan Q249.00 por pagar."
    ]


@pytest.mark.parametrize(
    "language, expected",
    [
        ("fr", "Recharge réussie ✅ Le numéro +229 •• •• •• 00 01 a été crédité de {amount}."),
        ("es", "¡Recarga exitosa! ✅ Se acreditaron {amount} al número +229 •• •• •• 00 01."),
        ("en", "Top-up done ✅ {amount} was credited to +229 •• •• •• 00 01."),
    ],
)
async def test_a_card_top_up_is_confirmed_on_the_masked_number(gateway, dispatcher, domain, language, expected):
    """Not identified for that line (anyone may top up any number): the line's balance is not shown."""
    session = checkout(1000, "XOF", f"topup:{AWA}")
    pay(session)
    (text,) = await payment_received(dispatcher, domain, session.id, f"topup:{AWA}", language)
    assert text == expected.format(amount=money(1000, "XOF", language))
    assert "97 00 00 01" not in text and money(3500, "XOF", language) not in text


@pytest.mark.parametrize(
    "language, expected",
    [
        (
            "fr",
            "Recharge réussie ✅ Le numéro +229 •• •• •• 00 01 a été crédité de {amount}. Votre crédit principal est "
            "maintenant de {balance}.",
        ),
        (
            "es",
            "¡Recarga exitosa! ✅ Se acreditaron {amount} al número +229 •• •• •• 00 01. Su saldo principal ahora es de "
            "{balance}.",
        ),
        ("en", "Top-up done ✅ {amount} was credited to +229 •• •• •• 00 01. Your main balance is now {balance}."),
    ],
)
async def test_the_lines_own_holder_also_gets_the_new_main_balance(gateway, dispatcher, domain, language, expected):
    sessions.verify(CONVERSATION, f"line:{AWA}", "otp")
    session = checkout(1000, "XOF", f"topup:{AWA}")
    pay(session)
    assert await payment_received(dispatcher, domain, session.id, f"topup:{AWA}", language) == [
        expected.format(amount=money(1000, "XOF", language), balance=money(3500, "XOF", language))
    ]


async def test_the_balance_is_read_from_the_bss_after_it_repaid_the_advance(gateway, dispatcher, domain):
    """Carlos owes Q10.00: of a Q50.00 top-up, Q40.00 reach his main balance (Q35.50 → Q75.50)."""
    sessions.verify(CONVERSATION, f"line:{CARLOS}", "otp")
    session = checkout(50.0, "GTQ", f"topup:{CARLOS}")
    pay(session)
    assert await payment_received(dispatcher, domain, session.id, f"topup:{CARLOS}", "es") == [
        "¡Recarga exitosa! ✅ Se acreditaron Q50.00 al número +502 •••• 0002. Su saldo principal ahora es de Q75.50."
    ]


async def test_when_the_bss_is_unavailable_the_gateways_word_is_enough(gateway, dispatcher, domain):
    session = checkout(150.0, "GTQ", MARIA_BILL)
    pay(session)
    requests.post(
        f"{gateway}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5
    ).raise_for_status()
    assert await payment_received(dispatcher, domain, session.id, MARIA_BILL, "fr") == [
        "Paiement reçu ✅ Votre paiement par carte de Q150.00 pour la facture CB-0003-003 a bien été accepté. Merci !"
    ]


async def test_when_the_gateway_cannot_confirm_nothing_is_claimed(gateway, dispatcher, domain):
    session = checkout(150.0, "GTQ", MARIA_BILL)
    pay(session)
    requests.post(
        f"{gateway}/_sandbox/faults", json={"service": "payments", "status": 503, "count": 20}, timeout=5
    ).raise_for_status()
    (text,) = await payment_received(dispatcher, domain, session.id, MARIA_BILL, "en")
    assert text.startswith("We got notice of a card payment but can't confirm it right now.")
    assert "150" not in text


async def test_an_unpaid_session_is_not_announced(gateway, dispatcher, domain):
    session = checkout(150.0, "GTQ", MARIA_BILL)
    assert await payment_received(dispatcher, domain, session.id, MARIA_BILL, "en") == []


async def test_a_declined_card_is_not_announced(gateway, dispatcher, domain):
    session = checkout(150.0, "GTQ", MARIA_BILL)
    page = requests.post(
        session.url,
        data={"card_number": "4000 0000 0000 0002", "expiry": "12/34", "cvc": "123", "name": "María López"},
        timeout=10,
    )
    assert page.status_code == 402
    assert await payment_received(dispatcher, domain, session.id, MARIA_BILL, "en") == []


async def test_someone_elses_payment_is_not_announced_in_this_conversation(gateway, dispatcher, domain):
    """A customer typing /EXTERNAL_payment_received{"payment_checkout_id": ...} with another conversation's id."""
    session = checkout(150.0, "GTQ", MARIA_BILL, conversation="someone-else")
    pay(session)
    assert await payment_received(dispatcher, domain, session.id, MARIA_BILL, "en") == []


async def test_a_reference_that_is_not_the_sessions_is_not_announced(gateway, dispatcher, domain):
    session = checkout(150.0, "GTQ", MARIA_BILL)
    pay(session)
    assert await payment_received(dispatcher, domain, session.id, HOME_OVERDUE_BILL, "en") == []


@pytest.mark.parametrize("checkout_id", ["", "../../v1/checkout/sessions", "cs_test_nope"])
async def test_a_missing_malformed_or_unknown_checkout_id_says_nothing(gateway, dispatcher, domain, checkout_id):
    assert await payment_received(dispatcher, domain, checkout_id, MARIA_BILL, "en") == []


async def test_nothing_about_the_card_is_said(gateway, dispatcher, domain):
    session = checkout(150.0, "GTQ", MARIA_BILL)
    pay(session)
    (text,) = await payment_received(dispatcher, domain, session.id, MARIA_BILL, "en")
    assert "4242" not in text and "visa" not in text.lower()
