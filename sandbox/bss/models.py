"""The BSS's tables. Money is stored as integer hundredths of the currency unit ("cents", even for
XOF) so it never drifts; data in MB, voice in minutes, SMS in messages. Datetimes are naive UTC."""

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint

from sandbox.db import Base


class Party(Base):
    """A person (TMF632 Individual) who is also a customer (TMF629 Customer `customer_id`)."""

    __tablename__ = "bss_party"
    id = Column(String, primary_key=True)  # IND-0001
    customer_id = Column(String, unique=True, nullable=False)  # CUST-0001
    given_name = Column(String, nullable=False)
    family_name = Column(String, nullable=False)
    language = Column(String, nullable=False)  # fr | es | en
    city = Column(String)
    country = Column(String)
    email = Column(String)
    phone = Column(String)
    id_type = Column(String)  # DPI, NPI...
    id_number = Column(String)


class BillingAccount(Base):
    """TMF666: who pays, in which currency, and how much may be advanced (creditLimit)."""

    __tablename__ = "bss_billing_account"
    id = Column(String, primary_key=True)  # BA-0001
    party_id = Column(String, ForeignKey("bss_party.id"), nullable=False)
    name = Column(String, nullable=False)
    market = Column(String, nullable=False)
    currency = Column(String, nullable=False)
    account_type = Column(String, nullable=False)  # prepaid | postpaid | home
    credit_limit = Column(Integer, nullable=False, default=0)
    state = Column(String, nullable=False, default="active")


class Offering(Base):
    """TMF620 ProductOffering: a pack, add-on or loan pack of one market."""

    __tablename__ = "bss_offering"
    id = Column(String, primary_key=True)
    market = Column(String, nullable=False)
    category = Column(String, nullable=False)  # pack | addon | loan | plan
    kind = Column(String, nullable=False)  # data | voice | combo | sms | roaming | music | ...
    name = Column(String, nullable=False)
    description = Column(String, nullable=False)
    price = Column(Integer, nullable=False)  # one-time price, monthly price, or loan amount
    recurring = Column(String)  # "month" for add-ons and plans
    validity_days = Column(Integer)
    payment_types = Column(JSON, nullable=False)  # ["prepaid", "postpaid"]
    allowances = Column(JSON, nullable=False, default=list)  # [{"usageType": "data", "amount": 1024, "units": "MB"}]
    loan_type = Column(String)  # airtime | data (loan packs only)


class Product(Base):
    """TMF637 Product: a line, a home contract, a pack bought or an add-on subscribed."""

    __tablename__ = "bss_product"
    id = Column(String, primary_key=True)
    kind = Column(String, nullable=False)  # MobileLine | HomeInternet | Pack | AddOn
    name = Column(String, nullable=False)
    status = Column(String, nullable=False)  # active | suspended | terminated
    offering_id = Column(String, nullable=False)
    msisdn = Column(String, index=True)
    billing_account_id = Column(String, ForeignKey("bss_billing_account.id"), nullable=False)
    party_id = Column(String, ForeignKey("bss_party.id"), nullable=False)
    price = Column(Integer)
    recurring = Column(String)  # month | None (one-time)
    start = Column(DateTime, nullable=False)
    end = Column(DateTime)  # validity end (packs) or termination date
    characteristics = Column(JSON, nullable=False, default=dict)


class Bucket(Base):
    """TMF654 Bucket: a balance of money (main, bonus, wallet) or allowance (data, voice, sms)."""

    __tablename__ = "bss_bucket"
    id = Column(String, primary_key=True)
    msisdn = Column(String, index=True, nullable=False)
    billing_account_id = Column(String, ForeignKey("bss_billing_account.id"), nullable=False)
    bucket_type = Column(String, nullable=False)  # main | bonus | wallet | data | voice | sms
    name = Column(String, nullable=False)
    usage_type = Column(String, nullable=False)  # monetary | data | voice | sms
    units = Column(String, nullable=False)  # XOF | GTQ | MB | min | SMS
    initial = Column(Integer, nullable=False)
    remaining = Column(Integer, nullable=False)
    valid_from = Column(DateTime, nullable=False)
    valid_to = Column(DateTime)
    product_id = Column(String)


class Loan(Base):
    """An advance (airtime or data). Repaid oldest first from top-ups; outstanding sums to loanDebt."""

    __tablename__ = "bss_loan"
    id = Column(String, primary_key=True)
    billing_account_id = Column(String, ForeignKey("bss_billing_account.id"), nullable=False)
    msisdn = Column(String, nullable=False)
    offering_id = Column(String, nullable=False)
    loan_type = Column(String, nullable=False)
    principal = Column(Integer, nullable=False)
    fee = Column(Integer, nullable=False)
    outstanding = Column(Integer, nullable=False)
    created = Column(DateTime, nullable=False)


class UsageRecord(Base):
    """TMF635 Usage: one call, data session or SMS, already rated."""

    __tablename__ = "bss_usage"
    id = Column(String, primary_key=True)
    msisdn = Column(String, index=True, nullable=False)
    party_id = Column(String, nullable=False)
    usage_type = Column(String, nullable=False)  # voice | data | sms
    date = Column(DateTime, nullable=False)
    destination = Column(String)
    duration_s = Column(Integer)
    volume_mb = Column(Integer)
    cost = Column(Integer, nullable=False, default=0)
    currency = Column(String, nullable=False)
    rated_against = Column(String)  # the bucket / plan that paid for it


class Bill(Base):
    """TMF678 CustomerBill."""

    __tablename__ = "bss_bill"
    id = Column(String, primary_key=True)
    bill_no = Column(String, nullable=False)
    billing_account_id = Column(String, ForeignKey("bss_billing_account.id"), nullable=False)
    bill_date = Column(DateTime, nullable=False)
    due_date = Column(DateTime, nullable=False)
    period_start = Column(DateTime, nullable=False)
    period_end = Column(DateTime, nullable=False)
    amount = Column(Integer, nullable=False)
    remaining = Column(Integer, nullable=False)
    currency = Column(String, nullable=False)
    state = Column(String, nullable=False)  # sent | partiallyPaid | settled


class Payment(Base):
    """TMF676 Payment: a payment already made (card via the gateway, or the mobile money wallet)."""

    __tablename__ = "bss_payment"
    id = Column(String, primary_key=True)
    billing_account_id = Column(String, nullable=False)
    method = Column(String, nullable=False)  # card | wallet | cash...
    amount = Column(Integer, nullable=False)
    currency = Column(String, nullable=False)
    correlator_id = Column(String, unique=True)  # the gateway's id: a second delivery is the same payment
    authorization_code = Column(String)
    channel = Column(String)
    payer = Column(String)
    date = Column(DateTime, nullable=False)
    items = Column(JSON, nullable=False, default=list)  # [{"bill_id", "amount"}]


class TopUp(Base):
    """TMF654 TopupBalance, as recorded."""

    __tablename__ = "bss_topup"
    id = Column(String, primary_key=True)
    msisdn = Column(String, index=True, nullable=False)
    body = Column(JSON, nullable=False)  # the representation answered


class ProductOrder(Base):
    """TMF622 ProductOrder, as recorded."""

    __tablename__ = "bss_product_order"
    id = Column(String, primary_key=True)
    body = Column(JSON, nullable=False)


class IdempotentResponse(Base):
    """The first answer to an Idempotency-Key, replayed for every retry with that key."""

    __tablename__ = "bss_idempotency"
    scope = Column(String, primary_key=True)
    key = Column(String, primary_key=True)
    fingerprint = Column(String, nullable=False)
    status = Column(Integer, nullable=False)
    body = Column(JSON, nullable=False)
    created = Column(DateTime, nullable=False)


class Site(Base):
    """TMF674 GeographicSite: a store, with its opening hours in local time."""

    __tablename__ = "bss_site"
    id = Column(String, primary_key=True)
    market = Column(String, nullable=False)
    name = Column(String, nullable=False)
    street_nr = Column(String)
    street_name = Column(String)
    locality = Column(String)
    city = Column(String, nullable=False)
    state_province = Column(String)
    aliases = Column(String, default="")  # other names people use (Xela)
    lat = Column(String, nullable=False)
    lon = Column(String, nullable=False)
    phone = Column(String)
    hours = Column(JSON, nullable=False)  # {"monday": ["08:00", "18:00"], ...}; absent = closed


class Appointment(Base):
    """TMF646 Appointment. `slot` is set while the appointment holds its slot and NULL once cancelled,
    so the UNIQUE (site_id, slot) constraint lets one booking win a slot, whatever the concurrency."""

    __tablename__ = "bss_appointment"
    __table_args__ = (UniqueConstraint("site_id", "slot", name="uq_bss_appointment_slot"),)
    id = Column(String, primary_key=True)
    site_id = Column(String, ForeignKey("bss_site.id"), nullable=False)
    start = Column(DateTime, nullable=False)
    slot = Column(DateTime)
    status = Column(String, nullable=False)  # confirmed | cancelled
    category = Column(String)
    description = Column(Text)
    related_party = Column(JSON, nullable=False, default=list)
    contact_medium = Column(JSON, nullable=False, default=list)
    created = Column(DateTime, nullable=False)
    updated = Column(DateTime, nullable=False)


class ServiceProblem(Base):
    """TMF656 ServiceProblem: a network incident on an area."""

    __tablename__ = "bss_service_problem"
    id = Column(String, primary_key=True)
    market = Column(String, nullable=False)
    city = Column(String, nullable=False)
    name = Column(String, nullable=False)
    description = Column(String, nullable=False)
    category = Column(String, nullable=False)
    affected_service = Column(String, nullable=False)  # mobileData | voice | sms | homeInternet
    priority = Column(Integer, nullable=False)
    status = Column(String, nullable=False)  # acknowledged | inProgress | resolved
    raised = Column(DateTime, nullable=False)
    expected_resolution = Column(DateTime)
    resolved = Column(DateTime)
