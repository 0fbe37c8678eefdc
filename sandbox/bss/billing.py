"""TMF678 Customer Bill (with its PDF) and TMF676 Payment.

A payment records money already taken (card, by the payment gateway) or takes it now (the mobile
money wallet), and applies it to the bills it names: remainingAmount goes down and the bill
becomes partiallyPaid or settled. The payment gateway module can do the same in-process with
`record_payment(session, body)` inside `sandbox.db.transaction()`.
"""

import hashlib
import hmac

from flask import Response, jsonify, request
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
    money,
    new_id,
    not_found,
    now,
    one,
    ref_id,
    to_cents,
)
from .idempotency import require_key, run_once
from .ledger import debit, ensure_active, find_account, find_line
from .models import Bill, Party, Payment, Product
from .party import customer_ref, full_name
from .pdf import text_pdf

BILL = "/tmf-api/customerBillManagement/v4/customerBill"
PAYMENT = "/tmf-api/paymentManagement/v4/payment"
DOCUMENT = "/bss/documents/bills"
VAT_PCT = {"BJ": 18, "GT": 12}


def document_signature(bill_id: str) -> str:
    return hmac.new(settings.SIGNING_KEY.encode(), f"bill:{bill_id}".encode(), hashlib.sha256).hexdigest()[:32]


def _payments_of(session, bill_id: str) -> list:
    found = []
    for payment in session.execute(select(Payment).order_by(Payment.date)).scalars():
        for item in payment.items:
            if item["bill_id"] == bill_id:
                found.append((payment, item["amount"]))
    return found


def bill_json(session, bill: Bill) -> dict:
    account = find_account(session, bill.billing_account_id)
    vat = VAT_PCT[account.market]
    return {
        "id": bill.id,
        "href": href(f"{BILL}/{bill.id}"),
        "billNo": bill.bill_no,
        "billDate": iso(bill.bill_date),
        "paymentDueDate": iso(bill.due_date),
        "billingPeriod": {"startDateTime": iso(bill.period_start), "endDateTime": iso(bill.period_end)},
        "amountDue": money(bill.amount, bill.currency),
        "remainingAmount": money(bill.remaining, bill.currency),
        "taxIncludedAmount": money(bill.amount, bill.currency),
        "taxExcludedAmount": money(round(bill.amount * 100 / (100 + vat)), bill.currency),
        "state": bill.state,
        "category": "normal",
        "runType": "onCycle",
        "billDocument": [
            {
                "id": f"{bill.id}-PDF",
                "name": f"{bill.bill_no}.pdf",
                "mimeType": "application/pdf",
                "url": href(f"{DOCUMENT}/{bill.id}.pdf?sig={document_signature(bill.id)}"),
                "@type": "Attachment",
            }
        ],
        "appliedPayment": [
            {
                "appliedAmount": money(amount, bill.currency),
                "payment": {"id": payment.id, "href": href(f"{PAYMENT}/{payment.id}")},
            }
            for payment, amount in _payments_of(session, bill.id)
        ],
        "billingAccount": {
            "id": account.id,
            "href": href(f"/tmf-api/accountManagement/v4/billingAccount/{account.id}"),
            "@referredType": "BillingAccount",
        },
        "relatedParty": [customer_ref(session.get(Party, account.party_id))],
        "@type": "CustomerBill",
    }


@blueprint.get(BILL)
def list_bills():
    with db.transaction() as session:
        bills = session.execute(select(Bill).order_by(Bill.bill_date.desc(), Bill.id)).scalars()
        return listing([bill_json(session, b) for b in bills])


@blueprint.get(f"{BILL}/<bill_id>")
def get_bill(bill_id):
    with db.transaction() as session:
        bill = session.get(Bill, bill_id)
        if bill is None:
            raise not_found("customerBill", bill_id)
        return one(bill_json(session, bill))


@blueprint.get(f"{DOCUMENT}/<bill_id>.pdf")
def bill_document(bill_id):
    """The bill as a PDF. The link is signed, so it can be handed to the customer without a token."""
    if not hmac.compare_digest(request.args.get("sig", ""), document_signature(bill_id)):
        raise TMFError(403, "ERR_FORBIDDEN", "Forbidden", "This document link is not valid")
    with db.transaction() as session:
        bill = session.get(Bill, bill_id)
        if bill is None:
            raise not_found("customerBill", bill_id)
        account = find_account(session, bill.billing_account_id)
        holder = full_name(session.get(Party, account.party_id))
        contract = session.execute(
            select(Product).where(
                Product.billing_account_id == account.id, Product.kind.in_(["MobileLine", "HomeInternet"])
            )
        ).scalar()
        lines = [
            f"Bill number: {bill.bill_no}",
            f"Customer: {holder}",
            f"Billing account: {account.id}",
            f"Service: {contract.name if contract else ''} {contract.msisdn or contract.id if contract else ''}",
            f"Billing period: {bill.period_start:%Y-%m-%d} to {bill.period_end:%Y-%m-%d}",
            f"Bill date: {bill.bill_date:%Y-%m-%d}",
            f"Due date: {bill.due_date:%Y-%m-%d}",
            f"Total (VAT included): {fmt_money(bill.amount, bill.currency)}",
            f"Remaining to pay: {fmt_money(bill.remaining, bill.currency)}",
            f"Status: {bill.state}",
        ]
        pdf = text_pdf(f"Invoice {bill.bill_no}", lines)
    return Response(
        pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{bill.bill_no}.pdf"'}
    )


# --- TMF676 Payment ---------------------------------------------------------------------------------


def payment_json(payment: Payment) -> dict:
    body = {
        "id": payment.id,
        "href": href(f"{PAYMENT}/{payment.id}"),
        "paymentDate": iso(payment.date),
        "status": "succeeded",
        "correlatorId": payment.correlator_id,
        "authorizationCode": payment.authorization_code,
        "account": {"id": payment.billing_account_id, "@referredType": "BillingAccount"},
        "paymentMethod": {
            "id": payment.method,
            "@type": "BankCard"
            if payment.method == "card"
            else "DigitalWallet"
            if payment.method == "wallet"
            else "PaymentMethod",
        },
        "totalAmount": money(payment.amount, payment.currency),
        "amount": money(payment.amount, payment.currency),
        "channel": {"id": payment.channel} if payment.channel else None,
        "payer": {"id": payment.payer} if payment.payer else None,
        "paymentItem": [
            {
                "item": {
                    "id": item["bill_id"],
                    "href": href(f"{BILL}/{item['bill_id']}"),
                    "@referredType": "CustomerBill",
                },
                "totalAmount": money(item["amount"], payment.currency),
            }
            for item in payment.items
        ],
        "@type": "Payment",
    }
    return {name: value for name, value in body.items() if value is not None}


def _allocation(session, body: dict, account, total: int) -> list:
    """[(bill, cents)]: the items named, or the oldest unpaid bills when none is named."""
    items = body.get("paymentItem") or []
    if not items:
        allocation, left = [], total
        for bill in session.execute(
            select(Bill).where(Bill.billing_account_id == account.id, Bill.remaining > 0).order_by(Bill.due_date)
        ).scalars():
            part = min(bill.remaining, left)
            allocation.append((bill, part))
            left -= part
            if not left:
                break
        if left:
            raise TMFError(
                400,
                "ERR_AMOUNT_OUT_OF_RANGE",
                "Amount out of range",
                f"{fmt_money(total, account.currency)} is more than the account owes",
            )
        return allocation
    allocation = []
    for item in items:
        bill_id = ref_id(item.get("item"))
        bill = session.get(Bill, bill_id) if bill_id else None
        if bill is None:
            raise not_found("customerBill", bill_id)
        if bill.billing_account_id != account.id:
            raise bad_request(f"bill {bill.id} belongs to another billing account")
        amount = item.get("totalAmount") or {}
        allocation.append(
            (
                bill,
                to_cents(amount.get("value"), "paymentItem.totalAmount.value")
                if amount
                else total
                if len(items) == 1
                else None,
            )
        )
    if any(cents is None for _, cents in allocation) or sum(c for _, c in allocation) != total:
        raise bad_request("the paymentItem amounts must add up to totalAmount")
    return allocation


def record_payment(session, body: dict):
    """Records (and for the wallet, takes) a payment and applies it to bills: (status, Payment)."""
    correlator = body.get("correlatorId")
    if correlator:
        existing = session.execute(select(Payment).where(Payment.correlator_id == str(correlator))).scalar()
        if existing is not None:
            return 200, payment_json(existing)  # the gateway told us twice: still one payment
    account = find_account(session, ref_id(body.get("account")) or "")
    method = ref_id(body.get("paymentMethod"))
    if not method:
        raise bad_request("paymentMethod.id is required (card, wallet...)")
    total_money = body.get("totalAmount") or {}
    total = to_cents(total_money.get("value"), "totalAmount.value")
    if total_money.get("unit", account.currency) != account.currency:
        raise bad_request(f"billing account {account.id} is in {account.currency}")
    allocation = _allocation(session, body, account, total)
    for bill, cents in allocation:
        if bill.remaining == 0:
            raise TMFError(409, "ERR_BILL_ALREADY_PAID", "Bill already paid", f"Bill {bill.bill_no} is settled")
        if cents > bill.remaining:
            raise TMFError(
                400,
                "ERR_AMOUNT_OUT_OF_RANGE",
                "Amount out of range",
                f"{fmt_money(cents, bill.currency)} is more than the "
                f"{fmt_money(bill.remaining, bill.currency)} left on bill {bill.bill_no}",
            )
    payer = ref_id(body.get("payer"))
    if method == "wallet":
        if not payer:
            line = session.execute(
                select(Product).where(Product.kind == "MobileLine", Product.billing_account_id == account.id)
            ).scalar()
            if line is None:
                raise bad_request("a wallet payment needs payer.id: the MSISDN whose wallet pays")
            payer = line.msisdn
        payer_line = find_line(session, payer)
        ensure_active(payer_line)
        payer = payer_line.msisdn
        if find_account(session, payer_line.billing_account_id).currency != account.currency:
            raise bad_request(f"the wallet of {payer} is not in {account.currency}")
        debit(session, payer, "wallet", total, account.currency, "This payment")
    for bill, cents in allocation:
        bill.remaining -= cents
        bill.state = "settled" if bill.remaining == 0 else "partiallyPaid"
    channel = ref_id(body.get("channel"))
    payment = Payment(
        id=new_id("PAY"),
        billing_account_id=account.id,
        method=method,
        amount=total,
        currency=account.currency,
        correlator_id=str(correlator) if correlator else None,
        authorization_code=body.get("authorizationCode"),
        channel=channel,
        payer=payer,
        date=now(),
        items=[{"bill_id": bill.id, "amount": cents} for bill, cents in allocation],
    )
    session.add(payment)
    return 201, payment_json(payment)


def settle_bill(session, bill_id: str, amount, currency: str, payment_reference: str) -> dict:
    """For the card payment gateway, in its own transaction: records the card payment captured as
    `payment_reference` (a checkout id) against the bill. TMFError if the bill refuses it."""
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise not_found("customerBill", bill_id)
    total = {"unit": currency, "value": float(amount)}
    _, payment = record_payment(
        session,
        {
            "correlatorId": payment_reference,
            "account": {"id": bill.billing_account_id},
            "paymentMethod": {"id": "card"},
            "totalAmount": total,
            "channel": {"id": "paymentGateway"},
            "paymentItem": [{"item": {"id": bill.id}, "totalAmount": total}],
        },
    )
    return payment


@blueprint.post(PAYMENT)
def create_payment():
    body = json_body()
    # A wallet payment moves money here: Idempotency-Key required. A card payment was captured by the
    # gateway: its correlatorId already de-duplicates it, a key is optional.
    if ref_id(body.get("paymentMethod")) == "wallet" or request.headers.get("Idempotency-Key"):
        return run_once("payment", require_key(), body, lambda session: record_payment(session, body))
    with db.transaction() as session:
        status, answer = record_payment(session, body)
    return jsonify(answer), status


@blueprint.get(PAYMENT)
def list_payments():
    with db.transaction() as session:
        payments = session.execute(select(Payment).order_by(Payment.date.desc(), Payment.id)).scalars()
        return listing([payment_json(p) for p in payments])


@blueprint.get(f"{PAYMENT}/<payment_id>")
def get_payment(payment_id):
    with db.transaction() as session:
        payment = session.get(Payment, payment_id)
        if payment is None:
            raise not_found("payment", payment_id)
        return one(payment_json(payment))
