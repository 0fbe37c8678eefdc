"""The payment gateway adapter against the sandbox, and webhook signature checks."""

import hashlib
import hmac
import json
import time

import pytest

from clients.payments import InvalidSignature, PaymentsClient, to_minor_units, verify_webhook


@pytest.fixture
def payments(operator):
    return PaymentsClient(base_url=operator)


def test_a_checkout_page_for_a_bill_and_the_same_key_gives_the_same_page(payments):
    args = dict(
        amount=150.0,
        currency="GTQ",
        reference="CB-0003-003",
        conversation_id="conv-1",
        success_url="https://example.org/ok",
        cancel_url="https://example.org/cancel",
        idempotency_key="pay-1",
    )
    first = payments.create_checkout(**args)
    assert first.url and "/pay/" in first.url and first.status == "open" and first.payment_status == "unpaid"
    assert payments.create_checkout(**args).id == first.id
    assert payments.checkout(first.id).id == first.id


def test_minor_units_follow_the_currency():
    assert to_minor_units(2500, "XOF") == 2500 and to_minor_units(35.5, "GTQ") == 3550


def sign(body: bytes, secret="whsec_sandbox", at=None):
    at = int(at or time.time())
    return f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_signed_webhook_is_accepted():
    body = json.dumps({"id": "evt_1", "type": "checkout.session.completed"}).encode()
    assert verify_webhook(body, sign(body))["id"] == "evt_1"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=abc,v1=00",
        sign(b"other body"),
        sign(b'{"id": "evt_1"}', secret="wrong"),
        sign(b'{"id": "evt_1"}', at=time.time() - 3600),
    ],
)
def test_forged_tampered_or_replayed_webhooks_are_refused(header):
    with pytest.raises(InvalidSignature):
        verify_webhook(b'{"id": "evt_1"}', header)
