"""The operator's BSS through its API gateway: TM Forum Open API v4, OAuth2 client credentials.

Pointing at a real gateway is configuration only (BSS_BASE_URL, BSS_TOKEN_URL, client id/secret).
"""
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

import requests

from actions import config
from actions.clients import http
from actions.clients.errors import BackendError, BackendUnavailable


@dataclass(frozen=True)
class Line:
    """A mobile line (MobileLine product) or a home contract (HomeInternet product)."""

    product_id: str
    kind: str  # "mobile" or "home"
    msisdn: Optional[str]
    status: str  # active, suspended, terminated
    market: str  # BJ, GT
    currency: str
    payment_type: str  # prepaid, postpaid, home
    time_zone: str
    preferred_language: Optional[str]
    billing_account: Optional[str]
    customer_name: str
    party_id: Optional[str]
    plan_name: str
    characteristics: Dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        """Whom an identity is about: 'line:+2290197000001' or 'contract:HG-100004'."""
        return f"line:{self.msisdn}" if self.kind == "mobile" else f"contract:{self.product_id}"


@dataclass(frozen=True)
class Bucket:
    id: str
    name: str
    bucket_type: str  # main, bonus, wallet, data, voice, sms
    amount: float
    units: str
    initial_amount: Optional[float]
    expires_at: Optional[datetime]
    status: str


def _parse_time(value: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _line_from_product(product: Dict[str, Any]) -> Line:
    chars = {c["name"]: c.get("value") for c in product.get("productCharacteristic", [])}
    party = next((p for p in product.get("relatedParty", []) if p.get("role") == "customer"), {})
    msisdn = next((r["id"] for r in product.get("realizingResource", []) if r.get("@referredType") == "MSISDN"), None)
    return Line(
        product_id=product["id"],
        kind="home" if product.get("@type") == "HomeInternet" else "mobile",
        msisdn=msisdn,
        status=product.get("status", "active"),
        market=chars.get("market", ""),
        currency=chars.get("currency", ""),
        payment_type=chars.get("paymentType", ""),
        time_zone=chars.get("timeZone", "UTC"),
        preferred_language=chars.get("preferredLanguage"),
        billing_account=(product.get("billingAccount") or {}).get("id"),
        customer_name=party.get("name", ""),
        party_id=party.get("id"),
        plan_name=(product.get("productOffering") or {}).get("name") or product.get("name", ""),
        characteristics=chars,
    )


class BSSClient:
    def __init__(self, base_url: str = None, token_url: str = None, client_id: str = None, client_secret: str = None):
        self.base_url = (base_url or config.BSS_BASE_URL).rstrip("/")
        self.token_url = token_url or config.BSS_TOKEN_URL
        self.client_id = client_id or config.BSS_CLIENT_ID
        self.client_secret = client_secret or config.BSS_CLIENT_SECRET
        self._http = http.session()
        self._token: Optional[str] = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    # --- transport -------------------------------------------------------------------------
    def _bearer(self, refresh: bool = False) -> str:
        with self._lock:
            if refresh or not self._token or time.time() > self._token_expires - 60:
                try:
                    reply = self._http.post(self.token_url, data={"grant_type": "client_credentials"},
                                            auth=(self.client_id, self.client_secret), timeout=http.timeout())
                except requests.RequestException as error:
                    raise BackendUnavailable(f"token endpoint: {error}") from error
                if reply.status_code >= 500:
                    raise BackendUnavailable(f"token endpoint answered {reply.status_code}")
                if reply.status_code != 200:
                    raise BackendError("ERR_UNAUTHORIZED", "the gateway refused our client credentials", reply.status_code)
                body = reply.json()
                self._token, self._token_expires = body["access_token"], time.time() + float(body.get("expires_in", 300))
            return self._token

    def _request(self, method: str, path: str, *, idempotency_key: str = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._bearer(refresh=attempt == 2)}"
            try:
                reply = self._http.request(method, f"{self.base_url}{path}", headers=headers, timeout=http.timeout(), **kwargs)
            except requests.RequestException as error:
                raise BackendUnavailable(f"{method} {path}: {error}") from error
            if reply.status_code != 401:
                break
        if reply.status_code >= 500 or reply.status_code == 429:
            raise BackendUnavailable(f"{method} {path} answered {reply.status_code}")
        if reply.status_code >= 400:
            try:
                error = reply.json()
            except ValueError:
                error = {}
            raise BackendError(error.get("code", f"HTTP_{reply.status_code}"), error.get("message", ""), reply.status_code)
        return reply

    def _get(self, path: str, **params) -> Any:
        return self._request("GET", path, params=params).json()

    # --- product inventory (TMF637) and parties (TMF632) -----------------------------------------
    def line(self, msisdn: str) -> Optional[Line]:
        """The mobile line with this number, or None if it is not one of the operator's."""
        products = self._get("/productInventory/v4/product", **{"realizingResource.id": msisdn})
        lines = [p for p in products if p.get("@type") == "MobileLine" and p.get("status") != "terminated"]
        return _line_from_product(lines[0]) if lines else None

    def contract(self, contract_number: str) -> Optional[Line]:
        try:
            product = self._get(f"/productInventory/v4/product/{contract_number}")
        except BackendError as error:
            if error.status == 404:
                return None
            raise
        return _line_from_product(product) if product.get("@type") == "HomeInternet" else None

    def identity_documents(self, party_id: str) -> List[str]:
        individual = self._get(f"/partyManagement/v4/individual/{party_id}")
        return [d.get("identificationId", "") for d in individual.get("individualIdentification", [])]

    # --- balances (TMF654) ---------------------------------------------------------------------
    def buckets(self, msisdn: str) -> List[Bucket]:
        found = []
        for b in self._get("/prepayBalanceManagement/v4/bucket", **{"logicalResource.id": msisdn}):
            remaining = b.get("remainingValue") or {}
            initial = b.get("initialValue") or {}
            found.append(Bucket(
                id=b["id"], name=b.get("name", ""), bucket_type=b.get("bucketType", b.get("usageType", "")),
                amount=float(remaining.get("amount", 0)), units=remaining.get("units", ""),
                initial_amount=float(initial["amount"]) if "amount" in initial else None,
                expires_at=_parse_time((b.get("validFor") or {}).get("endDateTime")), status=b.get("status", "active"),
            ))
        return found


def new_idempotency_key() -> str:
    return str(uuid.uuid4())
