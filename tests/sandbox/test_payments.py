"""The card payment gateway: checkout sessions (Stripe-like API), the hosted page a person types a card
into, bill settlement and top-ups through the BSS, and the signed webhook retried until it is taken.

Most tests use their own sandbox process (`gateway`), started with SANDBOX_PAYMENT_WEBHOOK_URL pointing
to a small HTTP receiver in this test process, so the database file and the log can be inspected."""

import hashlib
import hmac
import json
import os
import re
import sqlite3
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.conftest import running_sandbox

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "sk_test_sandbox"
WEBHOOK_SECRET = "whsec_sandbox"
MAX_ATTEMPTS = 4
MARIA_BILL, MARIA_ACCOUNT = "CB-0003-003", "BA-0003"  # Q150.00, unpaid, due in 10 days
AWA, SUSPENDED = "+2290197000001", "+50255500007"
GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000 0000 0000 0002"


class WebhookReceiver:
    """Answers 500 to the first `failures` deliveries, then 200; keeps every request's headers and raw body."""

    def __init__(self):
        self.failures, self.received = 0, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
                failing = len(receiver.received) <= receiver.failures
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"nope" if failing else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/payments"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, failures=0):
        self.failures, self.received = failures, []


class Gateway:
    def __init__(self, url, db_path, log_path, receiver):
        self.url, self.db_path, self.log_path, self.receiver = url, db_path, log_path, receiver


@pytest.fixture(scope="module")
def gateway_process(tmp_path_factory):
    receiver = WebhookReceiver()
    folder = tmp_path_factory.mktemp("payments")
    db_path, log_path = folder / "sandbox.db", folder / "sandbox.log"
    try:
        with running_sandbox(
            folder,
            SANDBOX_PAYMENT_WEBHOOK_URL=receiver.url,
            SANDBOX_PAYMENT_WEBHOOK_BACKOFF="0.1",
            SANDBOX_PAYMENT_WEBHOOK_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        ) as url:
            yield Gateway(url, db_path, log_path, receiver)
    finally:
        receiver.server.shutdown()


@pytest.fixture
def gateway(gateway_process):
    requests.post(f"{gateway_process.url}/_sandbox/reset", timeout=10).raise_for_status()
    gateway_process.receiver.reset()
    return gateway_process


# --- helpers -----------------------------------------------------------------------------------------


def create_session(base, key=None, auth=SECRET_KEY, **params):
    data = {
        "amount": 15000,
        "currency": "gtq",
        "client_reference_id": MARIA_BILL,
        "metadata[conversation_id]": "conv-42",
        "success_url": "http://127.0.0.1:5005/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:5005/cancelled",
    }
    data.update(params)
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(
        f"{base}/v1/checkout/sessions",
        data={k: v for k, v in data.items() if v is not None},
        headers=headers,
        timeout=10,
    )


def new_session(base, **params) -> dict:
    response = create_session(base, **params)
    assert response.status_code == 200, response.text
    return response.json()


def pay(session: dict, card=GOOD_CARD, expiry="12/34", cvc="123", name="María López"):
    return requests.post(
        session["url"], data={"card_number": card, "expiry": expiry, "cvc": cvc, "name": name}, timeout=10
    )


def get_session(base, session_id):
    return requests.get(
        f"{base}/v1/checkout/sessions/{session_id}", headers={"Authorization": f"Bearer {SECRET_KEY}"}, timeout=10
    )


def webhooks(base):
    return requests.get(f"{base}/_sandbox/webhooks", timeout=10).json()


def wait_for_delivery(base, final=("delivered", "failed"), timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = webhooks(base)
        if found and found[-1]["status"] in final:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"webhook still not {final}: {webhooks(base)}")


def bss_get(base, path, **params):
    token = requests.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("assistant", "sandbox-secret"),
        timeout=10,
    ).json()["access_token"]
    response = requests.get(f"{base}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def bill(base, bill_id):
    return next(
        b
        for b in bss_get(
            base, "/tmf-api/customerBillManagement/v4/customerBill", **{"billingAccount.id": MARIA_ACCOUNT}
        )
        if b["id"] == bill_id
    )


def card_payments_for(base, session_id):
    return [p for p in bss_get(base, "/tmf-api/paymentManagement/v4/payment") if p.get("correlatorId") == session_id]


def main_balance(base, msisdn):
    buckets = bss_get(base, "/tmf-api/prepayBalanceManagement/v4/bucket", **{"logicalResource.id": msisdn})
    return next(b["remainingValue"]["amount"] for b in buckets if b["id"].endswith("-MAIN"))


def verify_signature(header: str, body: bytes, secret: str) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)


# --- sessions (API) ----------------------------------------------------------------------------------


def test_create_session_form_encoded_like_stripe(gateway):
    created = new_session(gateway.url)
    assert created["id"].startswith("cs_")
    assert created["object"] == "checkout.session"
    assert created["url"] == f"{gateway.url}/pay/{created['id']}"
    assert (created["status"], created["payment_status"]) == ("open", "unpaid")
    assert (created["amount_total"], created["currency"]) == (15000, "gtq")
    assert created["client_reference_id"] == MARIA_BILL
    assert created["metadata"] == {"conversation_id": "conv-42"}
    assert 24 * 3600 - 5 <= created["expires_at"] - created["created"] <= 24 * 3600
    assert get_session(gateway.url, created["id"]).json() == created


def test_create_session_as_json_and_with_line_items(gateway):
    response = requests.post(
        f"{gateway.url}/v1/checkout/sessions",
        json={
            "amount": 2500,
            "currency": "XOF",
            "client_reference_id": f"topup:{AWA}",
            "metadata": {"conversation_id": "c1"},
            "success_url": "http://127.0.0.1/ok",
        },
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert (response.json()["amount_total"], response.json()["currency"]) == (2500, "xof")

    items = new_session(
        gateway.url,
        amount=None,
        currency=None,
        **{
            "line_items[0][price_data][currency]": "gtq",
            "line_items[0][price_data][unit_amount]": "29900",
            "line_items[0][price_data][product_data][name]": "Factura Internet Hogar",
            "line_items[0][quantity]": "2",
        },
    )
    assert (items["amount_total"], items["currency"]) == (59800, "gtq")


def test_idempotency_key_returns_the_same_session(gateway):
    first = create_session(gateway.url, key="pay-bill-conv-42")
    again = create_session(gateway.url, key="pay-bill-conv-42")
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = create_session(gateway.url)  # no key: a new session each time
    assert other.json()["id"] != first.json()["id"]

    reused = create_session(gateway.url, key="pay-bill-conv-42", amount=100)
    assert reused.status_code == 400
    assert reused.json()["error"]["type"] == "idempotency_error"


@pytest.mark.parametrize(
    "auth, message", [(None, "You did not provide an API key"), ("sk_test_wrong_key_123", "Invalid API Key")]
)
def test_api_key_is_required(gateway, auth, message):
    response = create_session(gateway.url, auth=auth)
    assert response.status_code == 401
    assert message in response.json()["error"]["message"]
    assert "sk_test_wrong_key_123" not in response.text


def test_secret_key_as_basic_user_like_stripe_clients(gateway):
    response = requests.post(
        f"{gateway.url}/v1/checkout/sessions",
        auth=(SECRET_KEY, ""),
        timeout=10,
        data={"amount": 100, "currency": "xof", "success_url": "http://127.0.0.1/ok"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "params, param, code",
    [
        ({"currency": None}, "currency", "parameter_missing"),
        ({"amount": None}, "amount", "parameter_missing"),
        ({"success_url": None}, "success_url", "parameter_missing"),
        ({"currency": "abc"}, "currency", "parameter_invalid"),
        ({"amount": "12.5"}, "amount", "parameter_invalid_integer"),
        ({"amount": "0"}, "amount", "amount_too_small"),
        ({"success_url": "not a url"}, "success_url", "url_invalid"),
        ({"mode": "subscription"}, "mode", "parameter_invalid"),
        ({"expires_at": "1"}, "expires_at", "parameter_invalid"),
    ],
)
def test_invalid_parameters(gateway, params, param, code):
    response = create_session(gateway.url, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


def test_unknown_session_is_resource_missing(gateway):
    response = get_session(gateway.url, "cs_test_nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    assert requests.get(f"{gateway.url}/pay/cs_test_nope", timeout=10).status_code == 404


def test_expired_session_cannot_be_paid(gateway):
    session = new_session(gateway.url)
    expire = requests.post(
        f"{gateway.url}/v1/checkout/sessions/{session['id']}/expire",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=10,
    )
    assert expire.status_code == 200
    assert (expire.json()["status"], expire.json()["url"]) == ("expired", None)
    page = requests.get(session["url"], timeout=10)
    assert "Enlace de pago vencido" in page.text and "<form" not in page.text
    assert pay(session).status_code == 409
    assert bill(gateway.url, MARIA_BILL)["state"] != "settled"
    again = requests.post(
        f"{gateway.url}/v1/checkout/sessions/{session['id']}/expire",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=10,
    )
    assert again.status_code == 400


# --- the hosted page ---------------------------------------------------------------------------------


def test_payment_page_renders_without_external_assets(gateway):
    session = new_session(gateway.url)
    page = requests.get(session["url"], timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.text
    assert 'name="viewport"' in html
    assert "Sandbox Telecom" in html
    assert "Q150.00" in html
    assert MARIA_BILL in html
    for field in ("card_number", "expiry", "cvc", "name"):
        assert f'name="{field}"' in html
    assert "<script" not in html and "<link" not in html and "src=" not in html


def test_page_language_and_currency_follow_the_market(gateway):
    session = new_session(gateway.url, amount=2500, currency="xof", client_reference_id=f"topup:{AWA}")
    html = requests.get(session["url"], timeout=10).text
    assert 'lang="fr"' in html and "Paiement sécurisé" in html
    assert re.search(r"2\W?500\W?F\W?CFA", html)
    english = new_session(gateway.url, amount=2500, currency="xof", locale="en")
    assert "Secure payment" in requests.get(english["url"], timeout=10).text


@pytest.mark.parametrize(
    "form, errors",
    [
        ({"card": "4242 4242 4242 4241"}, ["El número de tarjeta no es válido."]),
        ({"card": ""}, ["Ingresá el número de tarjeta."]),
        ({"expiry": "01/20"}, ["Esta tarjeta está vencida."]),
        ({"expiry": "13/30"}, ["Ingresá la fecha de vencimiento con el formato MM/AA."]),
        ({"cvc": "12"}, ["El código de seguridad debe tener 3 o 4 dígitos."]),
        ({"name": " "}, ["Ingresá el nombre como aparece en la tarjeta."]),
    ],
)
def test_invalid_card_details_are_explained_on_the_page(gateway, form, errors):
    session = new_session(gateway.url)
    response = pay(session, **form)
    assert response.status_code == 422
    for message in errors:
        assert message in response.text
    assert get_session(gateway.url, session["id"]).json()["status"] == "open"
    assert webhooks(gateway.url) == []


def test_declined_card_leaves_the_session_open(gateway):
    session = new_session(gateway.url)
    declined = pay(session, card=DECLINED_CARD)
    assert declined.status_code == 402
    assert "Pago rechazado" in declined.text and "Tu tarjeta fue rechazada" in declined.text
    assert "4000000000000002" not in declined.text and 'value="4000' not in declined.text  # never echoed back
    state = get_session(gateway.url, session["id"]).json()
    assert (state["status"], state["payment_status"]) == ("open", "unpaid")
    assert bill(gateway.url, MARIA_BILL)["state"] != "settled"
    assert webhooks(gateway.url) == [] and gateway.receiver.received == []

    assert pay(session).status_code == 200  # another card still works


def test_successful_payment_settles_the_bill_and_records_a_tmf676_payment(gateway):
    assert bill(gateway.url, MARIA_BILL)["remainingAmount"] == {"unit": "GTQ", "value": 150.0}
    session = new_session(gateway.url)
    paid = pay(session)
    assert paid.status_code == 200
    assert "Pago recibido" in paid.text and "4242" in paid.text

    state = get_session(gateway.url, session["id"]).json()
    assert (state["status"], state["payment_status"], state["url"]) == ("complete", "paid", None)
    assert state["payment_intent"].startswith("pi_")
    settled = bill(gateway.url, MARIA_BILL)
    assert settled["state"] == "settled"
    assert settled["remainingAmount"]["value"] == 0
    payments = card_payments_for(gateway.url, session["id"])
    assert len(payments) == 1
    assert payments[0]["totalAmount"] == {"unit": "GTQ", "value": 150.0}
    assert payments[0]["paymentMethod"]["id"] == "card"

    # Paying the same session again takes no money and records nothing more.
    assert pay(session).status_code == 409
    assert len(card_payments_for(gateway.url, session["id"])) == 1
    assert "Pago recibido" in requests.get(session["url"], timeout=10).text


def test_card_top_up_credits_the_line(gateway):
    before = main_balance(gateway.url, AWA)
    session = new_session(
        gateway.url, amount=1000, currency="xof", client_reference_id=f"topup:{AWA}", **{"metadata[msisdn]": AWA}
    )
    assert pay(session, name="Awa Dossou").status_code == 200
    assert main_balance(gateway.url, AWA) == before + 1000
    event = wait_for_delivery(gateway.url)["event"]
    assert event["data"]["object"]["client_reference_id"] == f"topup:{AWA}"
    assert event["data"]["object"]["metadata"] == {"conversation_id": "conv-42", "msisdn": AWA}


def test_operator_refusal_charges_nothing(gateway):
    session = new_session(gateway.url, amount=1000, currency="gtq", client_reference_id=f"topup:{SUSPENDED}")
    refused = pay(session, name="Suspended")
    assert refused.status_code == 409
    assert "suspended" in refused.text and "No se hizo ningún cobro" in refused.text
    assert get_session(gateway.url, session["id"]).json()["payment_status"] == "unpaid"
    assert webhooks(gateway.url) == []


def test_card_number_is_never_stored_nor_logged(gateway):
    declined = new_session(gateway.url)
    pay(declined, card=DECLINED_CARD, cvc="987")
    paid = new_session(gateway.url)
    pay(paid, card=GOOD_CARD, cvc="987")
    wait_for_delivery(gateway.url)

    stored = b"".join(path.read_bytes() for path in gateway.db_path.parent.glob("sandbox.db*"))
    logged = gateway.log_path.read_bytes()
    for number in ("4242424242424242", "4000000000000002"):
        for spelling in (number, " ".join(re.findall("....", number)), "-".join(re.findall("....", number))):
            assert spelling.encode() not in stored
            assert spelling.encode() not in logged
    with sqlite3.connect(gateway.db_path) as db:
        kept = db.execute(
            "SELECT card_brand, card_last4 FROM payment_checkout_sessions WHERE id = ?", (paid["id"],)
        ).fetchone()
    assert kept == ("visa", "4242")


# --- the webhook -------------------------------------------------------------------------------------


def test_webhook_is_signed_and_retried_until_accepted(gateway):
    gateway.receiver.reset(failures=2)
    session = new_session(gateway.url)
    assert pay(session).status_code == 200

    delivery = wait_for_delivery(gateway.url)
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3 and delivery["status_code"] == 200
    assert delivery["url"] == gateway.receiver.url
    received = gateway.receiver.received
    assert len(received) == 3
    assert len({r["body"] for r in received}) == 1  # the same event, byte for byte

    event = json.loads(received[-1]["body"])
    assert event["id"].startswith("evt_") and event["id"] == delivery["event_id"]
    assert event["type"] == "checkout.session.completed"
    assert isinstance(event["created"], int)
    data = event["data"]["object"]
    assert data["id"] == session["id"]
    assert (data["amount_total"], data["currency"], data["payment_status"]) == (15000, "gtq", "paid")
    assert data["client_reference_id"] == MARIA_BILL
    assert data["metadata"] == {"conversation_id": "conv-42"}

    for request in received:
        header = request["headers"]["Sandbox-Signature"]
        assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
        assert verify_signature(header, request["body"], WEBHOOK_SECRET)
        assert not verify_signature(header, request["body"], "whsec_someone_else")
        assert not verify_signature(header, request["body"].replace(b"15000", b"15"), WEBHOOK_SECRET)
        gateway_now = datetime.fromisoformat(requests.get(f"{gateway.url}/_sandbox/clock", timeout=10).json()["now"])
        assert abs(int(header.split(",")[0][2:]) - gateway_now.timestamp()) < 60  # signed at the gateway's time


def test_webhook_gives_up_after_the_last_attempt(gateway):
    gateway.receiver.reset(failures=100)
    pay(new_session(gateway.url))
    delivery = wait_for_delivery(gateway.url)
    assert (delivery["status"], delivery["attempts"], delivery["status_code"]) == ("failed", MAX_ATTEMPTS, 500)
    assert len(gateway.receiver.received) == MAX_ATTEMPTS


def test_backoff_doubles_between_attempts(gateway):
    gateway.receiver.reset(failures=3)
    pay(new_session(gateway.url))
    assert wait_for_delivery(gateway.url)["attempts"] == 4
    arrivals = [r["at"] for r in gateway.receiver.received]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4  # SANDBOX_PAYMENT_WEBHOOK_BACKOFF=0.1, doubling
    assert gaps[0] < gaps[1] < gaps[2]


def test_without_webhook_url_the_event_is_recorded_undelivered(sandbox):
    if os.environ.get("SANDBOX_PAYMENT_WEBHOOK_URL"):
        pytest.skip("the shared sandbox has a webhook URL configured")
    session = new_session(sandbox)
    assert pay(session).status_code == 200
    recorded = webhooks(sandbox)
    assert len(recorded) == 1
    assert (recorded[0]["status"], recorded[0]["url"], recorded[0]["attempts"]) == ("undelivered", None, 0)
    assert recorded[0]["event"]["data"]["object"]["id"] == session["id"]


# --- failures ----------------------------------------------------------------------------------------


def test_injected_faults(gateway):
    requests.post(
        f"{gateway.url}/_sandbox/faults", json={"service": "payments", "status": 503, "count": 1}, timeout=10
    ).raise_for_status()
    down = create_session(gateway.url)
    assert down.status_code == 503 and down.json()["error"]["type"] == "api_error"

    requests.post(
        f"{gateway.url}/_sandbox/faults",
        json={"service": "payments", "status": 429, "count": 1, "retry_after": 2},
        timeout=10,
    ).raise_for_status()
    limited = create_session(gateway.url)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["error"]["code"] == "rate_limit"

    session = new_session(gateway.url)
    requests.post(
        f"{gateway.url}/_sandbox/faults", json={"service": "payments", "status": 503, "count": 1}, timeout=10
    ).raise_for_status()
    page = requests.get(session["url"], timeout=10)
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert requests.get(session["url"], timeout=10).status_code == 200
