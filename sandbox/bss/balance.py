"""TMF654 Prepay Balance: buckets and top-ups.

A top-up first repays the line's outstanding advances, oldest first; the rest reaches the main
balance. Paid from the mobile money wallet it debits the payer's wallet; paid by card the gateway
has already captured the money, so nothing is debited here.
"""

from sqlalchemy import select

from sandbox import db
from sandbox.errors import TMFError

from . import settings
from .api import blueprint
from .common import (
    bad_request,
    fmt_money,
    href,
    iso,
    json_body,
    listing,
    money_quantity,
    msisdn_ref,
    new_id,
    not_found,
    now,
    one,
    ref_id,
    to_cents,
)
from .idempotency import require_key, run_once
from .ledger import bucket_status, debit, ensure_active, find_account, find_line, loan_debt, money_bucket, repay_loans
from .models import Bucket, IdempotentResponse, Product, TopUp

BASE = "/tmf-api/prepayBalanceManagement/v4"
BUCKET_ORDER = {"main": 0, "bonus": 1, "wallet": 2, "data": 3, "voice": 4, "sms": 5}
TOPUP_METHODS = {"wallet", "card"}


def quantity(value: int, units: str) -> dict:
    if units in ("XOF", "GTQ"):
        return money_quantity(value, units)
    return {"amount": value, "units": units}


def bucket_json(session, bucket: Bucket, line_status: str) -> dict:
    body = {
        "id": bucket.id,
        "href": href(f"{BASE}/bucket/{bucket.id}"),
        "name": bucket.name,
        "bucketType": bucket.bucket_type,
        "usageType": bucket.usage_type,
        "status": bucket_status(bucket, line_status),
        "isShared": False,
        "remainingValue": quantity(bucket.remaining, bucket.units),
        "initialValue": quantity(bucket.initial, bucket.units),
        "reservedValue": quantity(0, bucket.units),
        "validFor": {"startDateTime": iso(bucket.valid_from)},
        "product": [],
        "logicalResource": [msisdn_ref(bucket.msisdn)],
        "partyAccount": {"id": bucket.billing_account_id, "@referredType": "BillingAccount"},
        "@type": "WalletBucket" if bucket.bucket_type == "wallet" else "Bucket",
    }
    if bucket.valid_to is not None:
        body["validFor"]["endDateTime"] = iso(bucket.valid_to)
    if bucket.product_id:
        product = session.get(Product, bucket.product_id)
        body["product"].append(
            {"id": bucket.product_id, "name": product.name if product else bucket.name, "@referredType": "Product"}
        )
    return body


def _line_statuses(session) -> dict:
    lines = session.execute(select(Product).where(Product.kind == "MobileLine")).scalars()
    return {line.msisdn: line.status for line in lines}


@blueprint.get(f"{BASE}/bucket")
def list_buckets():
    with db.transaction() as session:
        statuses = _line_statuses(session)
        buckets = sorted(
            session.execute(select(Bucket)).scalars(),
            key=lambda b: (b.msisdn, BUCKET_ORDER.get(b.bucket_type, 9), b.valid_from, b.id),
        )
        return listing([bucket_json(session, b, statuses.get(b.msisdn, "active")) for b in buckets])


@blueprint.get(f"{BASE}/bucket/<bucket_id>")
def get_bucket(bucket_id):
    with db.transaction() as session:
        bucket = session.get(Bucket, bucket_id)
        if bucket is None:
            raise not_found("bucket", bucket_id)
        return one(bucket_json(session, bucket, _line_statuses(session).get(bucket.msisdn, "active")))


def _payer_msisdn(session, body: dict, target: str) -> str:
    """Whose wallet pays: relatedParty with role payer (an MSISDN), else partyAccount's line, else the target."""
    for party in body.get("relatedParty") or []:
        if isinstance(party, dict) and str(party.get("role", "")).lower() == "payer" and party.get("id"):
            return "+" + str(party["id"]).strip().lstrip("+")
    account_id = ref_id(body.get("partyAccount"))
    if account_id:
        find_account(session, account_id)
        line = session.execute(
            select(Product).where(Product.kind == "MobileLine", Product.billing_account_id == account_id)
        ).scalar()
        if line is None:
            raise bad_request(f"billing account {account_id} has no mobile line with a wallet")
        return line.msisdn
    return target


def topup(session, body: dict):
    """The top-up itself, inside the caller's transaction: (201, TopupBalance)."""
    amount = body.get("amount")
    if not isinstance(amount, dict) or "amount" not in amount:
        raise bad_request('amount is required as a Quantity {"amount": 1000, "units": "XOF"}')
    if body.get("usageType", "monetary") != "monetary":
        raise bad_request("only usageType monetary can be topped up")
    target = ref_id(body.get("logicalResource"))
    if not target and ref_id(body.get("bucket")):
        bucket = session.get(Bucket, ref_id(body.get("bucket")))
        if bucket is None:
            raise not_found("bucket", ref_id(body.get("bucket")))
        target = bucket.msisdn
    if not target:
        raise bad_request("logicalResource (the MSISDN to top up) is required")
    method = ref_id(body.get("paymentMethod"))
    if method not in TOPUP_METHODS:
        raise bad_request(f"paymentMethod.id must be one of {sorted(TOPUP_METHODS)}, got {method!r}")

    line = find_line(session, target)
    ensure_active(line)
    account = find_account(session, line.billing_account_id)
    cents = to_cents(amount["amount"], "amount.amount")
    units = amount.get("units") or account.currency
    if units != account.currency:
        raise bad_request(f"{line.msisdn} is topped up in {account.currency}, not {units}")
    market = settings.MARKETS[account.market]
    if not market["topup_min"] <= cents <= market["topup_max"]:
        raise TMFError(
            400,
            "ERR_AMOUNT_OUT_OF_RANGE",
            "Amount out of range",
            f"A top-up in {account.market} must be between {fmt_money(market['topup_min'], units)} and "
            f"{fmt_money(market['topup_max'], units)}; got {fmt_money(cents, units)}",
        )
    main = money_bucket(session, line.msisdn, "main")
    if main is None:
        raise TMFError(
            400,
            "ERR_NOT_PREPAID",
            "Not a prepaid line",
            f"{line.msisdn} is {account.account_type}: it has no airtime balance to top up",
        )

    payer = line.msisdn
    if method == "wallet":
        payer = _payer_msisdn(session, body, line.msisdn)
        payer_line = find_line(session, payer)
        ensure_active(payer_line)
        if find_account(session, payer_line.billing_account_id).currency != account.currency:
            raise bad_request(f"the wallet of {payer} is not in {account.currency}")
        debit(session, payer, "wallet", cents, units, "This top-up")

    repaid = repay_loans(session, account.id, cents)
    main.remaining += cents - repaid
    moment = now()
    record_id = new_id("TOP")
    answer = {
        "id": record_id,
        "href": href(f"{BASE}/topupBalance/{record_id}"),
        "status": "completed",
        "usageType": "monetary",
        "amount": money_quantity(cents, units),
        "logicalResource": [msisdn_ref(line.msisdn)],
        "bucket": {"id": main.id, "href": href(f"{BASE}/bucket/{main.id}")},
        "partyAccount": {"id": account.id, "@referredType": "BillingAccount"},
        "paymentMethod": {"id": method},
        "relatedParty": [{"id": payer, "role": "payer", "@referredType": "MSISDN"}],
        "requestedDate": iso(moment),
        "confirmationDate": iso(moment),
        "loanRepayment": money_quantity(repaid, units),
        "creditedAmount": money_quantity(cents - repaid, units),
        "remainingLoanDebt": money_quantity(loan_debt(session, account.id), units),
        "balanceAfter": money_quantity(main.remaining, units),
        "@type": "TopupBalance",
    }
    for passthrough in ("channel", "description", "reason", "externalId"):
        if passthrough in body:
            answer[passthrough] = body[passthrough]
    session.add(TopUp(id=record_id, msisdn=line.msisdn, body=answer))
    return 201, answer


def topup_by_card(session, msisdn: str, amount, currency: str, payment_reference: str) -> dict:
    """For the card payment gateway, in its own transaction: tops up `msisdn` with money captured as
    `payment_reference` (a checkout id), once per reference. TMFError if the BSS refuses it."""
    done = session.get(IdempotentResponse, ("cardTopup", payment_reference))
    if done is not None:
        return done.body
    _, answer = topup(
        session,
        {
            "amount": {"amount": float(amount), "units": currency},
            "usageType": "monetary",
            "logicalResource": [{"id": msisdn}],
            "paymentMethod": {"id": "card"},
            "channel": {"id": "paymentGateway"},
            "externalId": payment_reference,
        },
    )
    session.add(
        IdempotentResponse(
            scope="cardTopup", key=payment_reference, fingerprint="", status=201, body=answer, created=now()
        )
    )
    return answer


@blueprint.post(f"{BASE}/topupBalance")
def create_topup():
    body = json_body()
    return run_once("topupBalance", require_key(), body, lambda session: topup(session, body))


@blueprint.get(f"{BASE}/topupBalance")
def list_topups():
    with db.transaction() as session:
        records = session.execute(select(TopUp)).scalars()
        items = sorted((r.body for r in records), key=lambda b: b["requestedDate"], reverse=True)
        return listing(items)


@blueprint.get(f"{BASE}/topupBalance/<topup_id>")
def get_topup(topup_id):
    with db.transaction() as session:
        record = session.get(TopUp, topup_id)
        if record is None:
            raise not_found("topupBalance", topup_id)
        return one(record.body)
