"""What the BSS answers, as typed values (TM Forum Open API v4 resources), and the readers of its JSON that more
than one part of the client needs: times, plan and pack allowances, stores."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional


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
    billing_account: Optional[str] = None

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


@dataclass(frozen=True)
class Appointment:
    """A store visit (TMF646 appointment) on the store's shared agenda of 30-minute slots."""

    id: str
    store_id: str
    store_name: str
    start: datetime  # aware, UTC
    status: str  # confirmed, cancelled


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


def parse_time(value: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


UNLIMITED = {"unlimited", "illimité", "illimite", "ilimitado", "ilimitada", "ilimitados", "ilimitadas"}
ALLOWANCE_CHARACTERISTICS = {"data": "dataAllowance", "voice": "voiceAllowance", "sms": "smsAllowance"}
_UNIT_SIZES = {
    "tb": (1024 * 1024, "MB"),
    "to": (1024 * 1024, "MB"),
    "gb": (1024, "MB"),
    "go": (1024, "MB"),
    "mb": (1, "MB"),
    "mo": (1, "MB"),
    "min": (1, "min"),
    "sms": (1, "SMS"),
}
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


def store_from_json(site: Dict[str, Any]) -> Store:
    place = next(iter(site.get("place") or []), {})
    hours, zone = {}, "UTC"
    for day in site.get("calendar") or []:
        zone = day.get("timeZone") or zone
        period = next(iter(day.get("hourPeriod") or []), {}) if day.get("status") == "open" else {}
        hours[day.get("day", "")] = OpeningHours(day.get("day", ""), period.get("startHour"), period.get("endHour"))
    phone = next(
        (
            (m.get("characteristic") or {}).get("phoneNumber")
            for m in site.get("contactMedium") or []
            if m.get("mediumType") == "phone"
        ),
        None,
    )
    distance = site.get("distance") or {}
    return Store(
        id=site["id"],
        name=site.get("name", ""),
        street_nr=place.get("streetNr"),
        street_name=place.get("streetName") or "",
        locality=place.get("locality") or "",
        city=place.get("city") or "",
        state=place.get("stateOrProvince") or "",
        country=place.get("country") or "",
        market=place.get("countryCode") or "",
        time_zone=zone,
        phone=phone,
        hours=hours,
        distance_km=float(distance["amount"]) if "amount" in distance else None,
    )
