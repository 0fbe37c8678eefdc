"""The operator's BSS through its API gateway: TM Forum Open API v4, OAuth2 client credentials.

Pointing at a real gateway is configuration only (BSS_BASE_URL, BSS_TOKEN_URL, client id/secret).
"""

import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from urllib.parse import quote, urlsplit

import requests

from clients import http
from clients.bss.appointments import Appointments
from clients.bss.audiences import Audiences
from clients.bss.commerce import Commerce
from clients.bss.incidents import Incidents
from clients.bss.models import (
    ALLOWANCE_CHARACTERISTICS,
    AddOn,
    Allowance,
    Bill,
    BillingAccount,
    Bucket,
    Line,
    Loan,
    Plan,
    Store,
    Usage,
    allowances_of,
    parse_allowance,
    parse_time,
    store_from_json,
)
from clients.errors import BackendError, BackendUnavailable
from common import clock, config


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


def _bucket_from_json(b: Dict[str, Any]) -> Bucket:
    remaining = b.get("remainingValue") or {}
    initial = b.get("initialValue") or {}
    return Bucket(
        id=b["id"],
        name=b.get("name", ""),
        bucket_type=b.get("bucketType", b.get("usageType", "")),
        amount=float(remaining.get("amount", 0)),
        units=remaining.get("units", ""),
        initial_amount=float(initial["amount"]) if "amount" in initial else None,
        expires_at=parse_time((b.get("validFor") or {}).get("endDateTime")),
        status=b.get("status", "active"),
    )


def _usage_from_json(u: Dict[str, Any]) -> Usage:
    chars = {c.get("name"): c.get("value") for c in u.get("usageCharacteristic", [])}
    rated = u.get("ratedProductUsage") or []
    cost = sum(float((r.get("taxIncludedRatingAmount") or {}).get("value", 0)) for r in rated)
    currency = next(
        (
            (r.get("taxIncludedRatingAmount") or {}).get("unit")
            for r in rated
            if (r.get("taxIncludedRatingAmount") or {}).get("unit")
        ),
        "",
    )
    usage_type = u.get("usageType", "")
    return Usage(
        id=u["id"],
        usage_type=usage_type,
        used_at=parse_time(u.get("usageDate")),
        destination=chars.get("destinationNumber"),
        duration_s=int(chars.get("duration") or 0),
        volume_mb=float(chars.get("dataVolume") or 0),
        count=int(chars.get("messageCount") or 1) if usage_type == "sms" else 0,
        cost=round(cost, 2),
        currency=currency,
        rated_against=next(
            ((r.get("productRef") or {}).get("name") for r in rated if (r.get("productRef") or {}).get("name")), ""
        ),
    )


def _add_on_from_json(product: Dict[str, Any]) -> AddOn:
    chars = {c["name"]: c.get("value") for c in product.get("productCharacteristic", [])}
    recurring = next((p for p in product.get("productPrice", []) if p.get("priceType") == "recurring"), None)
    price = ((recurring or {}).get("price") or {}).get("taxIncludedAmount") or {}
    return AddOn(
        product_id=product["id"],
        name=(product.get("productOffering") or {}).get("name") or product.get("name", ""),
        offering_id=(product.get("productOffering") or {}).get("id"),
        status=product.get("status", "active"),
        monthly_price=float(price["value"]) if "value" in price else None,
        currency=price.get("unit") or chars.get("currency", ""),
        started_at=parse_time(product.get("startDate")),
        renewal_at=parse_time(chars.get("renewalDate")),
    )


class BSSClient(Appointments, Audiences, Commerce, Incidents):
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
            if refresh or not self._token or clock.timestamp() > self._token_expires - 60:
                try:
                    reply = self._http.post(
                        self.token_url,
                        data={"grant_type": "client_credentials"},
                        auth=(self.client_id, self.client_secret),
                        timeout=http.timeout(),
                    )
                except requests.RequestException as error:
                    raise BackendUnavailable(f"token endpoint: {error}") from error
                if reply.status_code >= 500:
                    raise BackendUnavailable(f"token endpoint answered {reply.status_code}")
                if reply.status_code != 200:
                    raise BackendError(
                        "ERR_UNAUTHORIZED", "the gateway refused our client credentials", reply.status_code
                    )
                body = reply.json()
                self._token, self._token_expires = (
                    body["access_token"],
                    clock.timestamp() + float(body.get("expires_in", 300)),
                )
            return self._token

    def _request(self, method: str, path: str, *, idempotency_key: str = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._bearer(refresh=attempt == 2)}"
            try:
                reply = self._http.request(
                    method, f"{self.base_url}{path}", headers=headers, timeout=http.timeout(), **kwargs
                )
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
            raise BackendError(
                error.get("code", f"HTTP_{reply.status_code}"), error.get("message", ""), reply.status_code
            )
        return reply

    def _get(self, path: str, **params) -> Any:
        return self._request("GET", path, params=params).json()

    # --- product inventory (TMF637) and parties (TMF632) -----------------------------------------
    def line(self, msisdn: str) -> Optional[Line]:
        """The mobile line with this number, or None if it is not one of the operator's."""
        products = self._get("/productInventory/v4/product", **{"realizingResource.id": msisdn})
        lines = [p for p in products if p.get("@type") == "MobileLine" and p.get("status") != "terminated"]
        return _line_from_product(lines[0]) if lines else None

    def lines(self, **filters: str) -> List[Line]:
        """The mobile lines the inventory lists for TMF630 filters (`billingAccount.id`, `status`...)."""
        products = self._get("/productInventory/v4/product", **{"@type": "MobileLine", **filters})
        return [_line_from_product(p) for p in products if p.get("@type") == "MobileLine"]

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
        return [
            _bucket_from_json(b)
            for b in self._get("/prepayBalanceManagement/v4/bucket", **{"logicalResource.id": msisdn})
        ]

    def account_buckets(self, account_id: str) -> List[Bucket]:
        """Buckets held by a billing account rather than a number (a home contract's data quota)."""
        return [
            _bucket_from_json(b)
            for b in self._get("/prepayBalanceManagement/v4/bucket", **{"partyAccount.id": account_id})
            if not any(r.get("id") for r in b.get("logicalResource") or [])
        ]  # not a mobile line's

    # --- billing accounts (TMF666) ---------------------------------------------------------------
    def billing_account(self, account_id: str) -> BillingAccount:
        account = self._get(f"/accountManagement/v4/billingAccount/{account_id}")
        balances = {b.get("balanceType"): b.get("amount") or {} for b in account.get("accountBalance", [])}
        limit = account.get("creditLimit") or {}
        currency = limit.get("unit") or next((m.get("unit") for m in balances.values() if m.get("unit")), "")
        return BillingAccount(
            id=account["id"],
            account_type=account.get("accountType", ""),
            currency=currency,
            credit_limit=float(limit.get("value", 0)),
            loan_debt=float(balances.get("loanDebt", {}).get("value", 0)),
            loan_credit_available=float(balances.get("loanCreditAvailable", {}).get("value", 0)),
            receivable=float(balances["receivable"]["value"]) if "value" in balances.get("receivable", {}) else None,
            payment_status=account.get("paymentStatus"),
            loans=[
                Loan(
                    id=loan["id"],
                    loan_type=loan.get("loanType", ""),
                    principal=float((loan.get("principal") or {}).get("value", 0)),
                    fee=float((loan.get("fee") or {}).get("value", 0)),
                    outstanding=float((loan.get("outstanding") or {}).get("value", 0)),
                    created_at=parse_time(loan.get("creationDate")),
                )
                for loan in account.get("loan", [])
            ],
        )

    # --- bills (TMF678) ---------------------------------------------------------------------------
    def bills(self, account_id: str, limit: Optional[int] = None) -> List[Bill]:
        """The account's bills, newest first; document links made absolute on the gateway's host."""
        params = {"billingAccount.id": account_id}
        if limit:
            params["limit"] = limit
        found = [self._bill(b) for b in self._get("/customerBillManagement/v4/customerBill", **params)]
        found.sort(key=lambda bill: bill.bill_date.timestamp() if bill.bill_date else 0, reverse=True)
        return found

    def bill(self, bill_id: str) -> Optional[Bill]:
        """One bill by its id (CB-0003-003), whichever account it is on; None if there is no such bill."""
        try:
            return self._bill(self._get(f"/customerBillManagement/v4/customerBill/{quote(bill_id, safe='')}"))
        except BackendError as error:
            if error.status == 404:
                return None
            raise

    def _bill(self, b: Dict[str, Any]) -> Bill:
        amount = b.get("amountDue") or b.get("taxIncludedAmount") or {}
        remaining = b.get("remainingAmount") or {}
        period = b.get("billingPeriod") or {}
        document = next(
            (
                d
                for d in b.get("billDocument", [])
                if d.get("mimeType", "application/pdf") == "application/pdf" and d.get("url")
            ),
            None,
        )
        return Bill(
            id=b["id"],
            bill_no=b.get("billNo", b["id"]),
            bill_date=parse_time(b.get("billDate")),
            due_date=parse_time(b.get("paymentDueDate")),
            period_start=parse_time(period.get("startDateTime")),
            period_end=parse_time(period.get("endDateTime")),
            amount=float(amount.get("value", 0)),
            remaining=float(remaining.get("value", amount.get("value", 0))),
            currency=amount.get("unit") or remaining.get("unit", ""),
            state=b.get("state", ""),
            document_url=self.absolute_url(document["url"]) if document else None,
            billing_account=(b.get("billingAccount") or {}).get("id"),
        )

    def absolute_url(self, url: str) -> str:
        """A link the gateway gave relative ('/bss/documents/...') on the gateway's scheme and host."""
        if urlsplit(url).scheme:
            return url
        base = urlsplit(self.base_url)
        return f"{base.scheme}://{base.netloc}/{url.lstrip('/')}"

    # --- plans: the line's product (TMF637) and its offering (TMF620) ------------------------------
    def plan(self, line: Line) -> Plan:
        """The plan of a line or home contract: price, allowances, speeds, renewal, catalogue description."""
        product = self._get(f"/productInventory/v4/product/{line.product_id}")
        chars = {c["name"]: c.get("value") for c in product.get("productCharacteristic", [])}
        offering_id = (product.get("productOffering") or {}).get("id")
        offering: Dict[str, Any] = {}
        if offering_id:
            try:
                offering = self._get(f"/productCatalogManagement/v4/productOffering/{offering_id}")
            except BackendError as error:
                if error.status != 404:
                    raise
        allowances: Dict[str, Allowance] = {}
        for use in offering.get("prodSpecCharValueUse", []):  # what the catalogue includes...
            usage_type = next((k for k, v in ALLOWANCE_CHARACTERISTICS.items() if v == use.get("name")), None)
            value = next(iter(use.get("productSpecCharacteristicValue") or []), {})
            allowance = (
                parse_allowance(usage_type, value.get("value"), value.get("unitOfMeasure")) if usage_type else None
            )
            if allowance is not None:
                allowances[usage_type] = allowance
        allowances.update(allowances_of(chars))  # ...and what this customer's product says, which wins
        monthly = next((p for p in product.get("productPrice", []) if p.get("priceType") == "recurring"), None)
        if monthly is not None:
            price = (monthly.get("price") or {}).get("taxIncludedAmount") or {}
        else:
            recurring = next(
                (p for p in offering.get("productOfferingPrice", []) if p.get("priceType") == "recurring"), {}
            )
            price = recurring.get("price") or {}
        return Plan(
            product_id=product["id"],
            name=(product.get("productOffering") or {}).get("name") or product.get("name", ""),
            offering_id=offering_id,
            description=offering.get("description", ""),
            payment_type=chars.get("paymentType", line.payment_type),
            currency=chars.get("currency", line.currency),
            monthly_price=float(price["value"]) if "value" in price else None,
            renewal_at=parse_time(chars.get("renewalDate")),
            allowances=allowances,
            download_speed=chars.get("downloadSpeed"),
            upload_speed=chars.get("uploadSpeed"),
        )

    # --- usage records (TMF635) ------------------------------------------------------------------
    def usage(self, msisdn: str, since: Optional[datetime] = None) -> List[Usage]:
        """Rated calls, data sessions and SMS of a line, newest first; since a moment if given."""
        params = {"logicalResource.id": msisdn}
        if since is not None:
            params["usageDate.gte"] = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        found = [_usage_from_json(u) for u in self._get("/usageManagement/v4/usage", **params)]
        found = [u for u in found if u.used_at is not None and (since is None or u.used_at >= since)]
        found.sort(key=lambda u: u.used_at, reverse=True)
        return found

    # --- add-ons on a line (TMF637) ----------------------------------------------------------------
    def add_ons(self, msisdn: str) -> List[AddOn]:
        """The line's active add-ons (AddOn products), the oldest first."""
        products = self._get("/productInventory/v4/product", **{"realizingResource.id": msisdn})
        return [_add_on_from_json(p) for p in products if p.get("@type") == "AddOn" and p.get("status") == "active"]

    # --- stores (TMF674) ---------------------------------------------------------------------------
    def stores(self, city: Optional[str] = None) -> List[Store]:
        """Stores in a city, neighbourhood or nickname (the gateway ignores case and accents), or all of them."""
        params = {"city": city} if city else {}
        return [store_from_json(s) for s in self._get("/geographicSiteManagement/v4/geographicSite", **params)]

    def stores_near(self, latitude: float, longitude: float) -> List[Store]:
        """Stores nearest first from a point (a location the customer shared), each with its distance."""
        return [
            store_from_json(s)
            for s in self._get("/geographicSiteManagement/v4/geographicSite", lat=latitude, lon=longitude)
        ]


def new_idempotency_key() -> str:
    return str(uuid.uuid4())
