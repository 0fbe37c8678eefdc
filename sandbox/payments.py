"""The card payment gateway: a hosted checkout like Stripe Checkout.

- `POST /v1/checkout/sessions` (Bearer secret key, form-encoded like Stripe or JSON, `Idempotency-Key`)
  and `GET /v1/checkout/sessions/<id>`, `POST /v1/checkout/sessions/<id>/expire`, with Stripe's error shape.
- `/pay/<id>`: the page where a person types a card (no JavaScript needed). The card number only lives in
  memory during the POST: the database keeps the brand and the last four digits, nothing else.
- On payment, in one transaction: the session becomes complete/paid and the operator side is fulfilled
  (a bill settled, or a line topped up for `client_reference_id = "topup:<msisdn>"`) through the BSS module.
  If the BSS refuses, nothing is charged and the page says why.
- Then `checkout.session.completed` is POSTed to the merchant's webhook, signed
  `Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, from a background thread,
  retried with exponential backoff until a 2xx; every delivery is listed at `GET /_sandbox/webhooks`.
"""

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import requests
import yaml
from babel.numbers import format_currency, get_currency_precision, list_currencies
from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import Column, DateTime, Integer, String, Text, select

from common import clock, signed_webhooks
from sandbox import bss, db, faults
from sandbox.errors import TMFError

SECRET_KEY = os.environ.get("SANDBOX_PAYMENT_SECRET_KEY", "sk_test_sandbox")
WEBHOOK_URL = os.environ.get("SANDBOX_PAYMENT_WEBHOOK_URL") or None
WEBHOOK_SECRET = os.environ.get("SANDBOX_PAYMENT_WEBHOOK_SECRET", "whsec_sandbox")
WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("SANDBOX_PAYMENT_WEBHOOK_BACKOFF", "1"))  # 1, 2, 4, 8... s
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("SANDBOX_PAYMENT_WEBHOOK_MAX_ATTEMPTS", "8"))
MERCHANT_NAME = os.environ.get("SANDBOX_PAYMENT_MERCHANT_NAME", "Sandbox Telecom")
PUBLIC_URL = os.environ.get("SANDBOX_PUBLIC_URL") or None  # base of the page links; default: the request's host
SESSION_TTL = timedelta(hours=24)  # Stripe's default and maximum

# Test cards: None pays, anything else is the decline code. Other valid numbers are "live" cards: declined.
TEST_CARDS = {
    "4242424242424242": None,
    "5555555555554444": None,
    "4000000000000002": "generic_decline",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
}
PAGE_LOCALES = {"fr": "fr_BJ", "es": "es_GT", "en": "en_US"}
TEXTS = yaml.safe_load((Path(__file__).resolve().parent / "templates" / "checkout_texts.yml").read_text("utf-8"))

blueprint = Blueprint("payments", __name__, template_folder="templates")
log = logging.getLogger(__name__)


# --- state -------------------------------------------------------------------------------------------


class CheckoutSession(db.Base):
    __tablename__ = "payment_checkout_sessions"
    id = Column(String(80), primary_key=True)
    amount_total = Column(Integer, nullable=False)  # minor units of the currency (XOF has none)
    currency = Column(String(3), nullable=False)  # lower case, as Stripe answers
    client_reference_id = Column(String(200))
    metadata_json = Column(Text, nullable=False, default="{}")
    description = Column(String(300))
    customer_email = Column(String(200))
    locale = Column(String(10))
    success_url = Column(Text, nullable=False)
    cancel_url = Column(Text)
    status = Column(String(10), nullable=False)  # open | complete | expired
    payment_status = Column(String(10), nullable=False)  # unpaid | paid
    payment_intent = Column(String(40))
    card_brand = Column(String(20))  # what is kept of the card: brand and last four digits
    card_last4 = Column(String(4))
    declined_attempts = Column(Integer, nullable=False, default=0)
    created = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    paid_at = Column(DateTime)


class PaymentIdempotencyKey(db.Base):
    __tablename__ = "payment_idempotency_keys"
    key = Column(String(255), primary_key=True)
    request_hash = Column(String(64), nullable=False)
    body = Column(Text, nullable=False)


class WebhookDelivery(db.Base):
    __tablename__ = "payment_webhook_deliveries"
    id = Column(String(40), primary_key=True)  # random, so a thread from before a reset never touches a new row
    event_id = Column(String(40), nullable=False)
    event_type = Column(String(60), nullable=False)
    url = Column(Text)
    payload = Column(Text, nullable=False)  # the exact bytes signed and sent
    status = Column(String(12), nullable=False)  # pending | delivered | failed | undelivered
    attempts = Column(Integer, nullable=False, default=0)
    status_code = Column(Integer)
    last_error = Column(Text)
    created_at = Column(DateTime, nullable=False)
    delivered_at = Column(DateTime)


# --- helpers -----------------------------------------------------------------------------------------


def unix(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp())


def iso(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def new_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def major_units(amount: int, currency: str) -> Decimal:
    """2500 XOF is 2500; 15000 GTQ cents is 150.00."""
    return Decimal(amount).scaleb(-get_currency_precision(currency.upper()))


def stripe_error(
    status: int,
    message: str,
    error_type: str = "invalid_request_error",
    code: str = None,
    param: str = None,
    headers: dict = None,
):
    error = {"message": message, "type": error_type}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    response = jsonify(error=error)
    response.status_code = status
    response.headers["Request-Id"] = new_id("req_")
    response.headers.update(headers or {})
    return response


def fault_response(fault):
    """Stripe's JSON errors for the API; a plain error page on the hosted page."""
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
    if request.path.startswith("/pay/"):
        return Response(
            f"<!doctype html><meta name=viewport content='width=device-width'><title>{fault.status}</title>"
            f"<h1>{fault.status}</h1><p>Payment page temporarily unavailable. Please try again later.</p>",
            status=fault.status,
            mimetype="text/html",
            headers=headers,
        )
    if fault.status == 429:
        return stripe_error(429, "Too many requests hit the API too quickly.", code="rate_limit", headers=headers)
    if fault.status == 401:
        return stripe_error(401, "Invalid API Key provided.", headers=headers)
    if fault.status >= 500:
        return stripe_error(fault.status, "An unknown error occurred", error_type="api_error", headers=headers)
    return stripe_error(fault.status, f"Request failed with status {fault.status}", headers=headers)


def api_key_problem():
    """Stripe takes the secret key as a Bearer token or as the HTTP Basic user name."""
    auth = request.authorization
    key = None
    if auth and auth.type == "bearer":
        key = auth.token
    elif auth and auth.type == "basic":
        key = auth.username
    if not key:
        return stripe_error(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    if not hmac.compare_digest(key, SECRET_KEY):
        masked = f"{key[:8]}{'*' * (len(key) - 12)}{key[-4:]}" if len(key) > 12 else "*" * len(key)
        return stripe_error(401, f"Invalid API Key provided: {masked}")
    return None


def public_base() -> str:
    return (PUBLIC_URL or request.host_url).rstrip("/")


def refresh_expiry(checkout: CheckoutSession):
    if checkout.status == "open" and clock.utc_naive() >= checkout.expires_at:
        checkout.status = "expired"


def session_json(checkout: CheckoutSession) -> dict:
    return {
        "id": checkout.id,
        "object": "checkout.session",
        "amount_subtotal": checkout.amount_total,
        "amount_total": checkout.amount_total,
        "cancel_url": checkout.cancel_url,
        "client_reference_id": checkout.client_reference_id,
        "created": unix(checkout.created),
        "currency": checkout.currency,
        "customer_email": checkout.customer_email,
        "expires_at": unix(checkout.expires_at),
        "livemode": False,
        "locale": checkout.locale,
        "metadata": json.loads(checkout.metadata_json),
        "mode": "payment",
        "payment_intent": checkout.payment_intent,
        "payment_method_types": ["card"],
        "payment_status": checkout.payment_status,
        "status": checkout.status,
        "success_url": checkout.success_url,
        "url": f"{public_base()}/pay/{checkout.id}" if checkout.status == "open" else None,
    }


# --- the API -----------------------------------------------------------------------------------------


def _unflatten(form) -> dict:
    """Stripe's form encoding: `metadata[conversation_id]=x&line_items[0][quantity]=1` → nested dicts and lists."""
    out = {}
    for flat_key, value in form.items():
        parts = re.findall(r"[^\[\]]+", flat_key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):  # "a=1&a[b]=2": the first one wins
                break
        else:
            if parts:
                node[parts[-1]] = value
    for key in ("line_items",):  # {"0": {...}} → [{...}]
        if isinstance(out.get(key), dict):
            out[key] = [out[key][index] for index in sorted(out[key], key=lambda k: int(k) if k.isdigit() else 0)]
    return out


class ParamError(Exception):
    def __init__(self, message, param, code="parameter_invalid"):
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


def _integer(value, param) -> int:
    if isinstance(value, bool) or not re.fullmatch(r"\d+", str(value).strip()):
        raise ParamError(f"Invalid integer: {value}", param, "parameter_invalid_integer")
    return int(str(value).strip())


def _url(value, param) -> str:
    if not isinstance(value, str) or not re.match(r"https?://[^\s/]+", value):
        raise ParamError("Not a valid URL", param, "url_invalid")
    return value


def _session_params(params: dict) -> dict:
    """The accepted parameters of a new session, checked like Stripe checks them."""
    if params.get("mode", "payment") != "payment":
        raise ParamError("Only `mode=payment` is supported by this gateway.", "mode")
    line_items = params.get("line_items") or []
    first_price = (line_items[0].get("price_data") or {}) if line_items and isinstance(line_items[0], dict) else {}
    currency = params.get("currency") or first_price.get("currency")
    if not currency:
        raise ParamError("Missing required param: currency.", "currency", "parameter_missing")
    if not isinstance(currency, str) or currency.upper() not in list_currencies():
        raise ParamError(f"Invalid currency: {str(currency).lower()}.", "currency")
    if params.get("amount") is not None:
        amount = _integer(params["amount"], "amount")
    elif line_items:
        amount = sum(
            _integer((item.get("price_data") or {}).get("unit_amount"), f"line_items[{i}][price_data][unit_amount]")
            * _integer(item.get("quantity", 1), f"line_items[{i}][quantity]")
            for i, item in enumerate(line_items)
        )
    else:
        raise ParamError("Missing required param: amount.", "amount", "parameter_missing")
    if amount < 1:
        raise ParamError("The amount must be greater than zero.", "amount", "amount_too_small")
    if not params.get("success_url"):
        raise ParamError("Missing required param: success_url.", "success_url", "parameter_missing")
    metadata = params.get("metadata") or {}
    if (
        not isinstance(metadata, dict)
        or len(metadata) > 50
        or any(len(str(k)) > 40 or len(str(v)) > 500 for k, v in metadata.items())
    ):
        raise ParamError("metadata must be at most 50 keys of up to 40 characters, values up to 500.", "metadata")
    reference = params.get("client_reference_id")
    if reference is not None and len(str(reference)) > 200:
        raise ParamError("client_reference_id must be at most 200 characters.", "client_reference_id")
    now = clock.utc_naive()
    expires_at = now + SESSION_TTL
    if params.get("expires_at") is not None:
        expires_at = datetime.fromtimestamp(_integer(params["expires_at"], "expires_at"), timezone.utc).replace(
            tzinfo=None
        )
        if (
            not now + timedelta(minutes=30)
            <= expires_at + timedelta(seconds=5)
            <= now + SESSION_TTL + timedelta(seconds=5)
        ):
            raise ParamError(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.", "expires_at"
            )
    product = (first_price.get("product_data") or {}).get("name")
    return {
        "amount_total": amount,
        "currency": currency.lower(),
        "client_reference_id": reference,
        "metadata_json": json.dumps({str(k): str(v) for k, v in metadata.items()}, ensure_ascii=False),
        "description": product or params.get("description"),
        "customer_email": params.get("customer_email"),
        "locale": params.get("locale"),
        "success_url": _url(params["success_url"], "success_url"),
        "cancel_url": _url(params["cancel_url"], "cancel_url") if params.get("cancel_url") else None,
        "created": now,
        "expires_at": expires_at,
    }


@blueprint.post("/v1/checkout/sessions")
def create_session():
    faults.raise_if_faulty("payments")
    problem = api_key_problem()
    if problem:
        return problem
    params = request.get_json(silent=True) if request.is_json else _unflatten(request.form)
    if not isinstance(params, dict):
        return stripe_error(400, "Invalid request body.")
    key = request.headers.get("Idempotency-Key")
    request_hash = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    with db.transaction() as session:
        if key:
            earlier = session.get(PaymentIdempotencyKey, key)
            if earlier and earlier.request_hash != request_hash:
                return stripe_error(
                    400,
                    f"Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    f"execute a different request.",
                    error_type="idempotency_error",
                )
            if earlier:
                return Response(earlier.body, mimetype="application/json", headers={"Idempotent-Replayed": "true"})
        try:
            fields = _session_params(params)
        except ParamError as error:
            return stripe_error(400, error.message, code=error.code, param=error.param)
        checkout = CheckoutSession(id=new_id("cs_test_"), status="open", payment_status="unpaid", **fields)
        session.add(checkout)
        body = json.dumps(session_json(checkout), ensure_ascii=False)
        if key:
            session.add(PaymentIdempotencyKey(key=key, request_hash=request_hash, body=body))
    return Response(body, mimetype="application/json", headers={"Request-Id": new_id("req_")})


def _find(session, session_id: str):
    checkout = session.get(CheckoutSession, session_id)
    if checkout is None:
        return None, stripe_error(
            404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session"
        )
    refresh_expiry(checkout)
    return checkout, None


@blueprint.get("/v1/checkout/sessions/<session_id>")
def get_session(session_id):
    faults.raise_if_faulty("payments")
    problem = api_key_problem()
    if problem:
        return problem
    with db.transaction() as session:
        checkout, missing = _find(session, session_id)
        return missing or jsonify(session_json(checkout))


@blueprint.post("/v1/checkout/sessions/<session_id>/expire")
def expire_session(session_id):
    faults.raise_if_faulty("payments")
    problem = api_key_problem()
    if problem:
        return problem
    with db.transaction() as session:
        checkout, missing = _find(session, session_id)
        if missing:
            return missing
        if checkout.status != "open":
            return stripe_error(
                400, 'Only Checkout Sessions with a status in ["open"] can be expired.', param="session"
            )
        checkout.status, checkout.expires_at = "expired", clock.utc_naive()
        return jsonify(session_json(checkout))


# --- the hosted page ---------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in ("34", "37"):
        return "amex"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    return "unknown"


def check_card(form, texts: dict):
    """(errors by field, card digits). The digits never leave this request."""
    errors = {}
    digits = re.sub(r"[\s-]", "", form.get("card_number", ""))
    if not digits:
        errors["card_number"] = texts["number_required"]
    elif not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        errors["card_number"] = texts["number_invalid"]
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", form.get("expiry", ""))
    if not match or not 1 <= int(match.group(1)) <= 12:
        errors["expiry"] = texts["expiry_invalid"]
    else:
        month, year = int(match.group(1)), int(match.group(2))
        year += 2000 if year < 100 else 0
        today = clock.now().date()
        if (year, month) < (today.year, today.month):
            errors["expiry"] = texts["expiry_past"]
    if not re.fullmatch(r"\d{3,4}", form.get("cvc", "").strip()):
        errors["cvc"] = texts["cvc_invalid"]
    if not form.get("name", "").strip():
        errors["name"] = texts["name_required"]
    return errors, digits


def page_language(checkout: CheckoutSession) -> str:
    wanted = (checkout.locale or "").split("-")[0].lower()
    if wanted in TEXTS:
        return wanted
    return {"xof": "fr", "gtq": "es"}.get(checkout.currency, "en")


def render_page(checkout: CheckoutSession, status: int = 200, errors=None, decline=None, form=None):
    lang = page_language(checkout)
    amount = format_currency(
        major_units(checkout.amount_total, checkout.currency), checkout.currency.upper(), locale=PAGE_LOCALES[lang]
    )
    success_url = (checkout.success_url or "").replace("{CHECKOUT_SESSION_ID}", checkout.id)
    html = render_template(
        "checkout.html",
        t=TEXTS[lang],
        lang=lang,
        merchant=MERCHANT_NAME,
        amount=amount,
        description=checkout.description,
        reference=checkout.client_reference_id,
        state=checkout.status,
        brand=(checkout.card_brand or "").title(),
        last4=checkout.card_last4,
        success_url=success_url,
        cancel_url=checkout.cancel_url,
        action=f"/pay/{checkout.id}",
        errors=errors or {},
        decline=decline,
        form={"expiry": (form or {}).get("expiry", ""), "name": (form or {}).get("name", "")},
    )
    # Nothing from elsewhere, never cached, never framed: the page holds a card form.
    return Response(
        html,
        status=status,
        mimetype="text/html",
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
            "frame-ancestors 'none'",
        },
    )


def not_found_page():
    return Response(
        f"<!doctype html><meta name=viewport content='width=device-width'><title>404</title>"
        f"<h1>{TEXTS['en']['not_found_title']}</h1>",
        status=404,
        mimetype="text/html",
    )


@blueprint.get("/pay/<session_id>")
def payment_page(session_id):
    faults.raise_if_faulty("payments")
    with db.transaction() as session:
        checkout = session.get(CheckoutSession, session_id)
        if checkout is None:
            return not_found_page()
        refresh_expiry(checkout)
        return render_page(checkout)


@blueprint.post("/pay/<session_id>")
def pay(session_id):
    faults.raise_if_faulty("payments")
    form = {name: request.form.get(name, "") for name in ("card_number", "expiry", "cvc", "name")}
    delivery_id = None
    with db.transaction() as session:
        checkout = session.get(CheckoutSession, session_id)
        if checkout is None:
            return not_found_page()
        refresh_expiry(checkout)
        if checkout.status != "open":
            return render_page(checkout, status=409)
        texts = TEXTS[page_language(checkout)]
        errors, digits = check_card(form, texts["errors"])
        if errors:
            return render_page(checkout, status=422, errors=errors, form=form)

        outcome = TEST_CARDS.get(digits, "test_mode_live_card")
        brand, last4 = card_brand(digits), digits[-4:]
        del digits, form["card_number"], form["cvc"]  # from here on only brand and last4 exist
        if outcome:
            checkout.declined_attempts += 1
            log.info("checkout %s: %s card ending %s declined (%s)", checkout.id, brand, last4, outcome)
            return render_page(checkout, status=402, decline=texts["declines"][outcome], form=form)

        # Nothing is written yet in this transaction, so a refusal rolls back only what the BSS did.
        try:
            fulfil(session, checkout)
        except TMFError as refusal:
            session.rollback()
            log.info("checkout %s: the BSS refused the payment: %s", checkout.id, refusal.message)
            return render_page(
                checkout,
                status=409,
                form=form,
                decline=texts["declines"]["fulfilment_failed"].format(reason=refusal.message),
            )
        checkout.status, checkout.payment_status = "complete", "paid"
        checkout.payment_intent, checkout.paid_at = new_id("pi_"), clock.utc_naive()
        checkout.card_brand, checkout.card_last4 = brand, last4
        delivery_id = record_webhook(session, "checkout.session.completed", checkout)
        page = render_page(checkout)
    start_delivery(delivery_id)
    return page


# --- fulfilment on the operator's side -----------------------------------------------------------------


def fulfil(session, checkout: CheckoutSession):
    """Settles the bill (TMF676 payment + TMF678 settled) or tops up the line, inside the payment's transaction,
    with the BSS's own functions (amounts in major units). A refusal raises TMFError: the card is not charged."""
    amount, currency = major_units(checkout.amount_total, checkout.currency), checkout.currency.upper()
    reference = (checkout.client_reference_id or "").strip()
    if reference.lower().startswith("topup:"):
        bss.topup_by_card(session, reference.split(":", 1)[1].strip(), amount, currency, checkout.id)
    elif reference:
        bss.settle_bill(session, reference, amount, currency, checkout.id)


# --- webhooks ----------------------------------------------------------------------------------------


def sign(payload: bytes, timestamp: int, secret: str = None) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`."""
    return signed_webhooks.sign(payload, timestamp, secret or WEBHOOK_SECRET)


def record_webhook(session, event_type: str, checkout: CheckoutSession) -> str:
    now = clock.utc_naive()
    event = {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": "2024-06-20",
        "created": unix(now),
        "livemode": False,
        "type": event_type,
        "data": {"object": session_json(checkout)},
    }
    delivery = WebhookDelivery(
        id=new_id("whd_"),
        event_id=event["id"],
        event_type=event_type,
        url=WEBHOOK_URL,
        payload=json.dumps(event, ensure_ascii=False, indent=2),
        status="pending" if WEBHOOK_URL else "undelivered",
        created_at=now,
    )
    session.add(delivery)
    return delivery.id


def start_delivery(delivery_id: str):
    if WEBHOOK_URL and delivery_id:
        threading.Thread(target=deliver, args=(delivery_id,), name=f"webhook-{delivery_id}", daemon=True).start()


def deliver(delivery_id: str):
    """Until a 2xx: attempt n waits WEBHOOK_BACKOFF_SECONDS * 2**(n-1) after a failure, at most WEBHOOK_MAX_ATTEMPTS."""
    for attempt in range(1, WEBHOOK_MAX_ATTEMPTS + 1):
        with db.transaction() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:  # the sandbox was reset meanwhile
                return
            url, payload = delivery.url, delivery.payload.encode("utf-8")
        code, problem = None, None
        try:
            answer = requests.post(
                url,
                data=payload,
                timeout=10,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Sandbox-Payments/1.0",
                    "Sandbox-Signature": sign(payload, int(clock.timestamp())),
                },
            )
            code = answer.status_code
        except requests.RequestException as error:
            problem = str(error)
        delivered = code is not None and 200 <= code < 300
        with db.transaction() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts, delivery.status_code, delivery.last_error = attempt, code, problem
            if delivered:
                delivery.status, delivery.delivered_at = "delivered", clock.utc_naive()
            elif attempt == WEBHOOK_MAX_ATTEMPTS:
                delivery.status = "failed"
        if delivered:
            return
        if attempt < WEBHOOK_MAX_ATTEMPTS:
            time.sleep(WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1))


@blueprint.get("/_sandbox/webhooks")
def list_webhooks():
    """Every webhook delivery, oldest first, with the event that was (or was to be) sent."""
    with db.transaction() as session:
        deliveries = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at, WebhookDelivery.id))
        return jsonify(
            [
                {
                    "id": d.id,
                    "event_id": d.event_id,
                    "type": d.event_type,
                    "url": d.url,
                    "status": d.status,
                    "status_code": d.status_code,
                    "attempts": d.attempts,
                    "last_error": d.last_error,
                    "created_at": iso(d.created_at),
                    "delivered_at": iso(d.delivered_at),
                    "event": json.loads(d.payload),
                }
                for d in deliveries
            ]
        )
