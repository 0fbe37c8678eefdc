"""The card payment gateway: hosted checkout sessions and signed webhooks (Stripe-like contract).

Card numbers never pass through the assistant: it only creates a session and sends its URL.
"""

from dataclasses import dataclass
from typing import Any, Dict, Optional

import requests

from clients import http
from clients.errors import BackendError, BackendUnavailable
from common import config, signed_webhooks

# ISO 4217 minor units of the currencies we sell in (XOF has none, GTQ has cents)
MINOR_UNITS = {"XOF": 0, "GTQ": 2, "USD": 2}


@dataclass(frozen=True)
class Checkout:
    id: str
    url: Optional[str]
    status: str  # open, complete, expired
    payment_status: str  # unpaid, paid
    expires_at: int


InvalidSignature = signed_webhooks.InvalidSignature  # what verify_webhook raises


def to_minor_units(amount: float, currency: str) -> int:
    return round(amount * 10 ** MINOR_UNITS.get(currency.upper(), 2))


def major_units(amount_minor: Any, currency: str) -> float:
    """2500 XOF is 2500; 15000 GTQ (cents) is 150.0 (ISO 4217 minor units)."""
    return round(int(amount_minor) / 10 ** MINOR_UNITS.get(currency.upper(), 2), 2)


class PaymentsClient:
    def __init__(self, base_url: str = None, secret_key: str = None):
        self.base_url = (base_url or config.PAYMENTS_BASE_URL).rstrip("/")
        self.secret_key = secret_key or config.PAYMENTS_SECRET_KEY
        self._http = http.session()  # GETs retry; a POST is retried only by the caller, with its key

    def _call(self, method: str, path: str, **kwargs) -> Dict[str, Any]:
        try:
            reply = self._http.request(
                method,
                f"{self.base_url}{path}",
                timeout=http.timeout(),
                headers={"Authorization": f"Bearer {self.secret_key}", **kwargs.pop("headers", {})},
                **kwargs,
            )
        except requests.RequestException as error:
            raise BackendUnavailable(f"payments {path}: {type(error).__name__}") from None
        if reply.status_code >= 500 or reply.status_code == 429:
            raise BackendUnavailable(f"payments {path} answered {reply.status_code}")
        body = reply.json()
        if reply.status_code >= 400:
            error = body.get("error", {})
            raise BackendError(
                error.get("code") or error.get("type", "payment_error"), error.get("message", ""), reply.status_code
            )
        return body

    def create_checkout(
        self,
        *,
        amount: float,
        currency: str,
        reference: str,
        conversation_id: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        locale: str = None,
    ) -> Checkout:
        """A hosted payment page for `amount`; the same idempotency key always answers the same session."""
        form = {
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "client_reference_id": reference,
            "metadata[conversation_id]": conversation_id,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "mode": "payment",
        }
        if locale:
            form["locale"] = locale
        return self._checkout(
            self._call("POST", "/v1/checkout/sessions", data=form, headers={"Idempotency-Key": idempotency_key})
        )

    def checkout(self, session_id: str) -> Checkout:
        return self._checkout(self.checkout_session(session_id))

    def checkout_session(self, session_id: str) -> Dict[str, Any]:
        """The checkout session as the gateway has it now, whole (reference, amounts, metadata)."""
        return self._call("GET", f"/v1/checkout/sessions/{session_id}")

    @staticmethod
    def _checkout(body: Dict[str, Any]) -> Checkout:
        return Checkout(
            id=body["id"],
            url=body.get("url"),
            status=body.get("status", ""),
            payment_status=body.get("payment_status", ""),
            expires_at=int(body.get("expires_at") or 0),
        )


def verify_webhook(
    raw_body: bytes, signature_header: str, secret: str = None, tolerance: int = None, now: float = None
) -> Dict[str, Any]:
    """The event of a webhook signed by the gateway (common/signed_webhooks.py), checked with its secret."""
    tolerance = config.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS if tolerance is None else tolerance
    return signed_webhooks.verify(raw_body, signature_header, secret or config.PAYMENTS_WEBHOOK_SECRET, tolerance, now)
