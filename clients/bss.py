"""The operator's BSS through its API gateway: TM Forum Open API v4, OAuth2 client credentials.

Pointing at a real gateway is configuration only (BSS_BASE_URL, BSS_TOKEN_URL, client id/secret).
"""
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from urllib.parse import quote, urlsplit

import requests

from common import config
from clients import http
from clients.errors import BackendError, BackendUnavailable
from common import clock
from common.clock import now


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


@dataclass(frozen=True)
class Loan:
    """An open advance (airtime or data) on a prepaid line's billing account."""

    id: str
    loan_type: str  # airtime, data
    principal: float
    fee: float
    outstanding: float
    created_at: Optional[datetime]


@dataclass(frozen=True)
class BillingAccount:
    """TMF666 billingAccount: credit limit, loan debt and, for billed accounts, what the bills still ask."""

    id: str
    account_type: str  # prepaid, postpaid, home
    currency: str
    credit_limit: float
    loan_debt: float
    loan_credit_available: float
    receivable: Optional[float]  # billed accounts only
    payment_status: Optional[str]  # paid, due, overdue (billed accounts only)
    loans: List[Loan] = field(default_factory=list)  # open advances, oldest first


@dataclass(frozen=True)
class Bill:
    """TMF678 customerBill."""

    id: str
    bill_no: str
    bill_date: Optional[datetime]
    due_date: Optional[datetime]
    period_start: Optional[datetime]
    period_end: Optional[datetime]
    amount: float  # amountDue (tax included)
    remaining: float  # remainingAmount
    currency: str
    state: str  # sent (unpaid), partiallyPaid, settled
    document_url: Optional[str]  # the PDF, absolute

    @property
    def settled(self) -> bool:
        return self.state == "settled" or self.remaining <= 0


@dataclass(frozen=True)
class Allowance:
    """What a plan includes of one kind each period: data in MB, voice in min, SMS. No amount: unlimited."""

    usage_type: str  # data, voice, sms
    amount: Optional[float]
    units: str  # MB, min, SMS

    @property
    def unlimited(self) -> bool:
        return self.amount is None


@dataclass(frozen=True)
class Plan:
    """The plan or tariff of a line or home contract: its product (TMF637) and its offering (TMF620)."""

    product_id: str
    name: str
    offering_id: Optional[str]
    description: str  # the catalogue's own words, in the market's language
    payment_type: str  # prepaid, postpaid, home
    currency: str
    monthly_price: Optional[float]  # None: no recurring fee
    renewal_at: Optional[datetime]
    allowances: Dict[str, Allowance]  # by usage type
    download_speed: Optional[str]  # "100 Mbps" (home)
    upload_speed: Optional[str]


@dataclass(frozen=True)
class Usage:
    """One rated call, data session or SMS (TMF635)."""

    id: str
    usage_type: str  # voice, data, sms
    used_at: datetime
    destination: Optional[str]
    duration_s: int  # voice
    volume_mb: float  # data
    count: int  # sms
    cost: float  # what was charged; 0 when a pack or the plan included it
    currency: str
    rated_against: str  # the balance, pack or plan that paid for it


@dataclass(frozen=True)
class OpeningHours:
    """One day of a store's calendar (TMF674), in the store's local time: opens/closes "08:00", None if closed."""

    day: str  # monday ... sunday
    opens: Optional[str]
    closes: Optional[str]

    @property
    def open(self) -> bool:
        return bool(self.opens and self.closes)


@dataclass(frozen=True)
class Store:
    """A store (TMF674 geographicSite): where it is, its phone, its weekly hours in its time zone."""

    id: str
    name: str
    street_nr: Optional[str]
    street_name: str
    locality: str
    city: str
    state: str
    country: str
    market: str  # countryCode: BJ, GT
    time_zone: str
    phone: Optional[str]
    hours: Dict[str, OpeningHours]  # by day name
    distance_km: Optional[float] = None  # with a lat/lon search


@dataclass(frozen=True)
class AddOn:
    """A recurring add-on on a line (an AddOn product in TMF637): caller tune, music, roaming..."""

    product_id: str
    name: str
    offering_id: Optional[str]
    status: str
    monthly_price: Optional[float]
    currency: str
    started_at: Optional[datetime]
    renewal_at: Optional[datetime]


@dataclass(frozen=True)
class Offering:
    """Something the catalogue sells (TMF620): a pack, an add-on or a loan pack."""

    id: str
    name: str
    description: str  # the catalogue's own words, in the market's language
    category: str  # pack, addon, loan
    kind: str  # data, voice, combo, sms; roaming, music...; airtime, data (loans)
    price: float  # one-time price, first month of an add-on, or a loan's advance
    currency: str
    recurring: bool
    validity_days: Optional[int]
    allowances: Dict[str, Allowance]
    fee: float = 0.0  # a loan's service fee
    reason_code: Optional[str] = None  # set on recommendations: DATA_EXHAUSTED, LOW_BALANCE...
    affordable: Optional[bool] = None


@dataclass(frozen=True)
class TopUp:
    amount: float
    credited: float  # what reached the main balance after repaying advances
    loan_repayment: float
    remaining_loan_debt: float
    balance_after: float
    currency: str


@dataclass(frozen=True)
class OrderResult:
    """One completed productOrder item: a bought pack or add-on, a cancelled add-on, or a loan."""

    product_id: str
    offering_name: str
    charged: float  # what was debited (0 for a loan or a cancellation)
    payment_method: Optional[str]
    balance_after: Optional[float]  # of the balance that paid (or that a loan credited)
    currency: str
    loan_debt_after: Optional[float] = None
    loan_fee: Optional[float] = None


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


UNLIMITED = {"unlimited", "illimité", "illimite", "ilimitado", "ilimitada", "ilimitados", "ilimitadas"}
ALLOWANCE_CHARACTERISTICS = {"data": "dataAllowance", "voice": "voiceAllowance", "sms": "smsAllowance"}
_UNIT_SIZES = {"tb": (1024 * 1024, "MB"), "to": (1024 * 1024, "MB"), "gb": (1024, "MB"), "go": (1024, "MB"),
               "mb": (1, "MB"), "mo": (1, "MB"), "min": (1, "min"), "sms": (1, "SMS")}
_DEFAULT_UNITS = {"data": "MB", "voice": "min", "sms": "SMS"}


def parse_allowance(usage_type: str, value: Any, units: Optional[str] = None) -> Optional[Allowance]:
    """'15 GB' -> 15360 MB, 'unlimited' -> unlimited, 300 with units 'min'; None if it cannot be read."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in UNLIMITED:
        return Allowance(usage_type, None, _DEFAULT_UNITS[usage_type])
    match = re.fullmatch(r"([0-9]+(?:[.,][0-9]+)?)\s*([A-Za-z]*)", text)
    if not match:
        return None
    size, unit = _UNIT_SIZES.get((match.group(2) or units or _DEFAULT_UNITS[usage_type]).lower(), (None, None))
    if size is None:
        return None
    return Allowance(usage_type, float(match.group(1).replace(",", ".")) * size, unit)


def allowances_of(characteristics: Dict[str, Any]) -> Dict[str, Allowance]:
    """A product's dataAllowance / voiceAllowance / smsAllowance ("15 GB", "unlimited"), by usage type."""
    found = {}
    for usage_type, name in ALLOWANCE_CHARACTERISTICS.items():
        allowance = parse_allowance(usage_type, characteristics.get(name))
        if allowance is not None:
            found[usage_type] = allowance
    return found


def _bucket_from_json(b: Dict[str, Any]) -> Bucket:
    remaining = b.get("remainingValue") or {}
    initial = b.get("initialValue") or {}
    return Bucket(
        id=b["id"], name=b.get("name", ""), bucket_type=b.get("bucketType", b.get("usageType", "")),
        amount=float(remaining.get("amount", 0)), units=remaining.get("units", ""),
        initial_amount=float(initial["amount"]) if "amount" in initial else None,
        expires_at=_parse_time((b.get("validFor") or {}).get("endDateTime")), status=b.get("status", "active"),
    )


def _usage_from_json(u: Dict[str, Any]) -> Usage:
    chars = {c.get("name"): c.get("value") for c in u.get("usageCharacteristic", [])}
    rated = u.get("ratedProductUsage") or []
    cost = sum(float((r.get("taxIncludedRatingAmount") or {}).get("value", 0)) for r in rated)
    currency = next(((r.get("taxIncludedRatingAmount") or {}).get("unit") for r in rated
                     if (r.get("taxIncludedRatingAmount") or {}).get("unit")), "")
    usage_type = u.get("usageType", "")
    return Usage(
        id=u["id"], usage_type=usage_type, used_at=_parse_time(u.get("usageDate")),
        destination=chars.get("destinationNumber"), duration_s=int(chars.get("duration") or 0),
        volume_mb=float(chars.get("dataVolume") or 0),
        count=int(chars.get("messageCount") or 1) if usage_type == "sms" else 0,
        cost=round(cost, 2), currency=currency,
        rated_against=next(((r.get("productRef") or {}).get("name") for r in rated
                            if (r.get("productRef") or {}).get("name")), ""),
    )


def _store_from_json(site: Dict[str, Any]) -> Store:
    place = next(iter(site.get("place") or []), {})
    hours, zone = {}, "UTC"
    for day in site.get("calendar") or []:
        zone = day.get("timeZone") or zone
        period = next(iter(day.get("hourPeriod") or []), {}) if day.get("status") == "open" else {}
        hours[day.get("day", "")] = OpeningHours(day.get("day", ""), period.get("startHour"), period.get("endHour"))
    phone = next(((m.get("characteristic") or {}).get("phoneNumber") for m in site.get("contactMedium") or []
                  if m.get("mediumType") == "phone"), None)
    distance = site.get("distance") or {}
    return Store(
        id=site["id"], name=site.get("name", ""), street_nr=place.get("streetNr"), street_name=place.get("streetName") or "",
        locality=place.get("locality") or "", city=place.get("city") or "", state=place.get("stateOrProvince") or "",
        country=place.get("country") or "", market=place.get("countryCode") or "", time_zone=zone, phone=phone,
        hours=hours, distance_km=float(distance["amount"]) if "amount" in distance else None,
    )


def _add_on_from_json(product: Dict[str, Any]) -> AddOn:
    chars = {c["name"]: c.get("value") for c in product.get("productCharacteristic", [])}
    recurring = next((p for p in product.get("productPrice", []) if p.get("priceType") == "recurring"), None)
    price = ((recurring or {}).get("price") or {}).get("taxIncludedAmount") or {}
    return AddOn(
        product_id=product["id"], name=(product.get("productOffering") or {}).get("name") or product.get("name", ""),
        offering_id=(product.get("productOffering") or {}).get("id"), status=product.get("status", "active"),
        monthly_price=float(price["value"]) if "value" in price else None,
        currency=price.get("unit") or chars.get("currency", ""), started_at=_parse_time(product.get("startDate")),
        renewal_at=_parse_time(chars.get("renewalDate")),
    )


def _money_value(money: Optional[Dict[str, Any]]) -> Optional[float]:
    """TMF Money {"unit", "value"} or TMF654 Quantity {"amount", "units"} as a number."""
    if not money:
        return None
    value = money.get("value", money.get("amount"))
    return float(value) if value is not None else None


def _offering_from_json(o: Dict[str, Any]) -> Offering:
    categories = [c.get("name") for c in o.get("category", [])]
    prices = o.get("productOfferingPrice", [])
    main = next((p for p in prices if p.get("name") != "serviceFee"), {})
    fee = next((p for p in prices if p.get("name") == "serviceFee"), {})
    validity = next((t for t in o.get("productOfferingTerm", []) if t.get("name") == "validity"), {})
    allowances: Dict[str, Allowance] = {}
    for use in o.get("prodSpecCharValueUse", []):
        usage_type = next((k for k, v in ALLOWANCE_CHARACTERISTICS.items() if v == use.get("name")), None)
        value = next(iter(use.get("productSpecCharacteristicValue") or []), {})
        allowance = parse_allowance(usage_type, value.get("value"), value.get("unitOfMeasure")) if usage_type else None
        if allowance is not None:
            allowances[usage_type] = allowance
    price = main.get("price") or {}
    return Offering(
        id=o["id"], name=o.get("name", o["id"]), description=o.get("description", ""),
        category=categories[0] if categories else "", kind=categories[1] if len(categories) > 1 else "",
        price=_money_value(price) or 0.0, currency=price.get("unit", ""), recurring=main.get("priceType") == "recurring",
        validity_days=int((validity.get("duration") or {}).get("amount")) if validity else None,
        allowances=allowances, fee=_money_value(fee.get("price")) or 0.0,
        reason_code=o.get("recommendationReasonCode"), affordable=o.get("affordable"),
    )


def _order_result(item: Dict[str, Any]) -> OrderResult:
    charge, loan = item.get("charge") or {}, item.get("loan") or {}
    credited = loan.get("credited") or {}
    amount = charge.get("amount") or loan.get("amount") or {}
    return OrderResult(
        product_id=(item.get("product") or {}).get("id", ""),
        offering_name=(item.get("productOffering") or {}).get("name", ""),
        charged=_money_value(charge.get("amount")) or 0.0, payment_method=charge.get("paymentMethod"),
        balance_after=_money_value(charge.get("balanceAfter") or credited.get("balanceAfter")),
        currency=amount.get("unit") or amount.get("units", ""),
        loan_debt_after=_money_value(loan.get("loanDebtAfter")), loan_fee=_money_value(loan.get("fee")),
    )


class Commerce:
    """What moves money: catalogue, orders, top-ups (mixed into BSSClient). Every move carries an idempotency key."""

    def offerings(self, category: str, market: str, payment_type: str) -> List[Offering]:
        """What the catalogue sells in a market to a payment type, cheapest first within each kind."""
        found = self._get("/productCatalogManagement/v4/productOffering",
                          **{"category.name": category, "market": market, "paymentType": payment_type})
        return [_offering_from_json(o) for o in found]

    def offering(self, offering_id: str) -> Optional[Offering]:
        try:
            return _offering_from_json(self._get(f"/productCatalogManagement/v4/productOffering/{offering_id}"))
        except BackendError as error:
            if error.status == 404:
                return None
            raise

    def recommendations(self, msisdn: str) -> List[Offering]:
        """The next best offers for a line, best first (ranked by the BSS on the line's recent usage)."""
        return [_offering_from_json(o) for o in self._get("/productCatalogManagement/v4/productOffering",
                                                          recommendedFor=msisdn)]

    def order(self, msisdn: str, offering_id: str, payment: str, idempotency_key: str) -> OrderResult:
        """Buys a pack or add-on, or takes a loan pack, for a line; payment "airtime" (main balance) or "wallet"."""
        body = {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": offering_id},
                                      "product": {"productCharacteristic": [{"name": "MSISDN", "value": msisdn}]}}],
                "payment": [{"id": payment}], "channel": [{"name": "chatbot"}]}
        reply = self._request("POST", "/productOrderingManagement/v4/productOrder", json=body,
                              idempotency_key=idempotency_key).json()
        return _order_result(reply["productOrderItem"][0])

    def cancel_add_on(self, product_id: str, idempotency_key: str) -> OrderResult:
        body = {"productOrderItem": [{"id": "1", "action": "delete", "product": {"id": product_id}}],
                "channel": [{"name": "chatbot"}]}
        reply = self._request("POST", "/productOrderingManagement/v4/productOrder", json=body,
                              idempotency_key=idempotency_key).json()
        return _order_result(reply["productOrderItem"][0])

    def pay_bill_from_wallet(self, account_id: str, bill_id: str, amount: float, currency: str, payer: str,
                             idempotency_key: str) -> str:
        """Pays a bill from the mobile money wallet of the line `payer` (TMF676); answers the payment id."""
        total = {"unit": currency, "value": amount}
        body = {"account": {"id": account_id}, "paymentMethod": {"id": "wallet"}, "totalAmount": total,
                "paymentItem": [{"item": {"id": bill_id}, "totalAmount": total}], "payer": {"id": payer},
                "channel": {"name": "chatbot"}}
        return self._request("POST", "/paymentManagement/v4/payment", json=body,
                             idempotency_key=idempotency_key).json()["id"]

    def top_up(self, msisdn: str, amount: float, currency: str, payer: str, idempotency_key: str) -> TopUp:
        """Tops up `msisdn` with `amount` from the mobile money wallet of the line `payer`."""
        body = {"amount": {"amount": amount, "units": currency}, "usageType": "monetary",
                "logicalResource": [{"id": msisdn, "@referredType": "MSISDN"}], "paymentMethod": {"id": "wallet"},
                "relatedParty": [{"id": payer, "role": "payer", "@referredType": "MSISDN"}],
                "channel": {"name": "chatbot"}}
        reply = self._request("POST", "/prepayBalanceManagement/v4/topupBalance", json=body,
                              idempotency_key=idempotency_key).json()
        return TopUp(amount=amount, credited=_money_value(reply.get("creditedAmount")) or 0.0,
                     loan_repayment=_money_value(reply.get("loanRepayment")) or 0.0,
                     remaining_loan_debt=_money_value(reply.get("remainingLoanDebt")) or 0.0,
                     balance_after=_money_value(reply.get("balanceAfter")) or 0.0, currency=currency)


@dataclass(frozen=True)
class Appointment:
    """A store visit (TMF646 appointment) on the store's shared agenda of 30-minute slots."""

    id: str
    store_id: str
    store_name: str
    start: datetime  # aware, UTC
    status: str  # confirmed, cancelled


def _appointment_from_json(a: Dict[str, Any]) -> Appointment:
    place = a.get("relatedPlace") or {}
    return Appointment(id=a["id"], store_id=place.get("id", ""), store_name=place.get("name", ""),
                       start=_parse_time((a.get("validFor") or {}).get("startDateTime")), status=a.get("status", ""))


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path_id(value: str) -> str:
    """An id that goes into a URL path: only what the gateway's ids are made of."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", str(value or "")):
        raise BackendError("ERR_NOT_FOUND", f"not an id: {value!r}", 404)
    return value


class Appointments:
    """Store visits (TMF674 stores, TMF646 appointments; mixed into BSSClient). Nothing here moves money:
    the store's agenda itself refuses a slot already held (409 ERR_SLOT_TAKEN), whoever asked first."""

    APPOINTMENT = "/appointment/v4/appointment"

    def store(self, store_id: str) -> Optional[Store]:
        try:
            return _store_from_json(self._get(f"/geographicSiteManagement/v4/geographicSite/{_path_id(store_id)}"))
        except BackendError as error:
            if error.status == 404:
                return None
            raise

    def free_slots(self, store_id: str, start: datetime = None, end: datetime = None) -> List[datetime]:
        """The store's free slot starts (aware UTC), soonest first; within [start, end] if given.
        A POST, but a search: it changes nothing and may be repeated."""
        body: Dict[str, Any] = {"relatedPlace": {"id": store_id, "@referredType": "GeographicSite"}}
        window = {k: _utc_text(v) for k, v in (("startDateTime", start), ("endDateTime", end)) if v is not None}
        if window:
            body["requestedTimeSlot"] = [{"validFor": window}]
        reply = self._request("POST", "/appointment/v4/searchTimeSlot", json=body).json()
        return sorted(_parse_time(s["validFor"]["startDateTime"]) for s in reply.get("availableTimeSlot") or [])

    def book_appointment(self, store_id: str, start: datetime, party: Dict[str, Any], msisdn: Optional[str],
                         description: str, idempotency_key: str) -> Appointment:
        """Takes the slot starting at `start` for `party` (409 ERR_SLOT_TAKEN if someone holds it,
        400 ERR_INVALID_SLOT if it is not a slot of that store's agenda)."""
        body = {"relatedPlace": {"id": store_id, "@referredType": "GeographicSite"},
                "validFor": {"startDateTime": _utc_text(start)}, "category": "storeVisit", "description": description,
                "relatedParty": [party],
                "contactMedium": [{"mediumType": "phone", "characteristic": {"phoneNumber": msisdn}}] if msisdn else []}
        reply = self._request("POST", self.APPOINTMENT, json=body, idempotency_key=idempotency_key)
        return _appointment_from_json(reply.json())

    def reschedule_appointment(self, appointment_id: str, start: datetime) -> Appointment:
        reply = self._request("PATCH", f"{self.APPOINTMENT}/{_path_id(appointment_id)}",
                              json={"validFor": {"startDateTime": _utc_text(start)}})
        return _appointment_from_json(reply.json())

    def cancel_appointment(self, appointment_id: str) -> Appointment:
        """Cancels and frees the slot (409 ERR_NOT_MODIFIABLE if already cancelled)."""
        reply = self._request("PATCH", f"{self.APPOINTMENT}/{_path_id(appointment_id)}", json={"status": "cancelled"})
        return _appointment_from_json(reply.json())

    def appointments(self, party_id: str, since: Optional[datetime] = None) -> List[Appointment]:
        """The party's confirmed appointments still to come (after `since`, default now), soonest first."""
        since = since or now()
        found = self._get(self.APPOINTMENT, **{"relatedParty.id": party_id, "status": "confirmed",
                                               "validFor.startDateTime.gte": _utc_text(since)})
        mine = [_appointment_from_json(a) for a in found
                if any(p.get("id") == party_id for p in a.get("relatedParty") or [])]  # whatever the gateway filters
        return sorted((a for a in mine if a.status == "confirmed" and a.start and a.start >= since),
                      key=lambda a: a.start)


@dataclass(frozen=True)
class Incident:
    """A network incident the operator is working on (TMF656 serviceProblem), in one or more areas."""

    id: str
    services: tuple[str, ...]  # mobileData, voice, sms, homeInternet
    cities: tuple[str, ...]
    status: str  # acknowledged (being worked on), resolved
    raised_at: Optional[datetime]
    expected_end: Optional[datetime]  # None: the operator gave no estimate
    market: str
    time_zone: str


def _incident_from_json(p: Dict[str, Any]) -> Incident:
    chars = {c.get("name"): c.get("value") for c in p.get("characteristic") or []}
    return Incident(
        id=p["id"], services=tuple(s["id"] for s in p.get("affectedService") or [] if s.get("id")),
        cities=tuple(loc["name"] for loc in p.get("affectedLocation") or [] if loc.get("name")),
        status=p.get("status", ""), raised_at=_parse_time(p.get("timeRaised")),
        expected_end=_parse_time(p.get("expectedResolutionDate")), market=chars.get("market", ""),
        time_zone=chars.get("timeZone") or "UTC",
    )


class Incidents:
    """Network incidents by area (TMF656; mixed into BSSClient)."""

    PROBLEM = "/serviceProblemManagement/v4/serviceProblem"

    def incidents(self, city: str) -> List[Incident]:
        """Incidents still being worked on in a city (the gateway ignores case and accents), newest first."""
        found = [_incident_from_json(p) for p in self._get(self.PROBLEM, city=city, status="acknowledged")]
        return [i for i in found if i.status == "acknowledged"]  # whatever the gateway filters


class BSSClient(Appointments, Commerce, Incidents):
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
                    reply = self._http.post(self.token_url, data={"grant_type": "client_credentials"},
                                            auth=(self.client_id, self.client_secret), timeout=http.timeout())
                except requests.RequestException as error:
                    raise BackendUnavailable(f"token endpoint: {error}") from error
                if reply.status_code >= 500:
                    raise BackendUnavailable(f"token endpoint answered {reply.status_code}")
                if reply.status_code != 200:
                    raise BackendError("ERR_UNAUTHORIZED", "the gateway refused our client credentials", reply.status_code)
                body = reply.json()
                self._token, self._token_expires = body["access_token"], clock.timestamp() + float(body.get("expires_in", 300))
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
        return [_bucket_from_json(b) for b in self._get("/prepayBalanceManagement/v4/bucket",
                                                        **{"logicalResource.id": msisdn})]

    def account_buckets(self, account_id: str) -> List[Bucket]:
        """Buckets held by a billing account rather than a number (a home contract's data quota)."""
        return [_bucket_from_json(b) for b in self._get("/prepayBalanceManagement/v4/bucket",
                                                        **{"partyAccount.id": account_id})
                if not any(r.get("id") for r in b.get("logicalResource") or [])]  # not a mobile line's

    # --- billing accounts (TMF666) ---------------------------------------------------------------
    def billing_account(self, account_id: str) -> BillingAccount:
        account = self._get(f"/accountManagement/v4/billingAccount/{account_id}")
        balances = {b.get("balanceType"): b.get("amount") or {} for b in account.get("accountBalance", [])}
        limit = account.get("creditLimit") or {}
        currency = limit.get("unit") or next((m.get("unit") for m in balances.values() if m.get("unit")), "")
        return BillingAccount(
            id=account["id"], account_type=account.get("accountType", ""), currency=currency,
            credit_limit=float(limit.get("value", 0)),
            loan_debt=float(balances.get("loanDebt", {}).get("value", 0)),
            loan_credit_available=float(balances.get("loanCreditAvailable", {}).get("value", 0)),
            receivable=float(balances["receivable"]["value"]) if "value" in balances.get("receivable", {}) else None,
            payment_status=account.get("paymentStatus"),
            loans=[Loan(id=loan["id"], loan_type=loan.get("loanType", ""),
                        principal=float((loan.get("principal") or {}).get("value", 0)),
                        fee=float((loan.get("fee") or {}).get("value", 0)),
                        outstanding=float((loan.get("outstanding") or {}).get("value", 0)),
                        created_at=_parse_time(loan.get("creationDate")))
                   for loan in account.get("loan", [])],
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
        document = next((d for d in b.get("billDocument", []) if d.get("mimeType", "application/pdf")
                         == "application/pdf" and d.get("url")), None)
        return Bill(
            id=b["id"], bill_no=b.get("billNo", b["id"]), bill_date=_parse_time(b.get("billDate")),
            due_date=_parse_time(b.get("paymentDueDate")), period_start=_parse_time(period.get("startDateTime")),
            period_end=_parse_time(period.get("endDateTime")), amount=float(amount.get("value", 0)),
            remaining=float(remaining.get("value", amount.get("value", 0))),
            currency=amount.get("unit") or remaining.get("unit", ""), state=b.get("state", ""),
            document_url=self.absolute_url(document["url"]) if document else None,
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
            allowance = parse_allowance(usage_type, value.get("value"), value.get("unitOfMeasure")) if usage_type else None
            if allowance is not None:
                allowances[usage_type] = allowance
        allowances.update(allowances_of(chars))  # ...and what this customer's product says, which wins
        monthly = next((p for p in product.get("productPrice", []) if p.get("priceType") == "recurring"), None)
        if monthly is not None:
            price = (monthly.get("price") or {}).get("taxIncludedAmount") or {}
        else:
            recurring = next((p for p in offering.get("productOfferingPrice", []) if p.get("priceType") == "recurring"), {})
            price = recurring.get("price") or {}
        return Plan(
            product_id=product["id"], name=(product.get("productOffering") or {}).get("name") or product.get("name", ""),
            offering_id=offering_id, description=offering.get("description", ""),
            payment_type=chars.get("paymentType", line.payment_type), currency=chars.get("currency", line.currency),
            monthly_price=float(price["value"]) if "value" in price else None,
            renewal_at=_parse_time(chars.get("renewalDate")), allowances=allowances,
            download_speed=chars.get("downloadSpeed"), upload_speed=chars.get("uploadSpeed"),
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
        return [_store_from_json(s) for s in self._get("/geographicSiteManagement/v4/geographicSite", **params)]

    def stores_near(self, latitude: float, longitude: float) -> List[Store]:
        """Stores nearest first from a point (a location the customer shared), each with its distance."""
        return [_store_from_json(s) for s in self._get("/geographicSiteManagement/v4/geographicSite",
                                                       lat=latitude, lon=longitude)]


def new_idempotency_key() -> str:
    return str(uuid.uuid4())
