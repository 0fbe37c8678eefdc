"""TMF622 Product Ordering: buy a pack, subscribe to or cancel an add-on, take an advance (loan).

All items of one order succeed together or not at all (one transaction), and the whole order runs
once per Idempotency-Key.
"""

from datetime import timedelta

from sqlalchemy import select

from sandbox import db
from sandbox.errors import TMFError

from .api import blueprint
from .catalog import loan_fee
from .common import (
    bad_request,
    fmt_money,
    href,
    iso,
    json_body,
    listing,
    money,
    msisdn_ref,
    new_id,
    not_found,
    now,
    one,
    ref_id,
)
from .idempotency import require_key, run_once
from .inventory import PRODUCT
from .ledger import debit, ensure_active, find_account, find_line, loan_debt, money_bucket, product_status
from .models import Bucket, Loan, Offering, Product, ProductOrder

BASE = "/tmf-api/productOrderingManagement/v4"
ADDON_PERIOD = timedelta(days=30)
DATA_LOAN_VALIDITY = timedelta(days=7)


def _line_of(session, item: dict) -> Product:
    product = item.get("product") or {}
    msisdn = next(
        (
            c.get("value")
            for c in product.get("productCharacteristic") or []
            if str(c.get("name", "")).lower() == "msisdn"
        ),
        None,
    ) or ref_id(product.get("realizingResource"))
    if not msisdn:
        raise bad_request(
            "each add item names its line: product.productCharacteristic [{name: MSISDN, value}] "
            "or product.realizingResource [{id}]"
        )
    return find_line(session, msisdn)


def _product_ref(product: Product) -> dict:
    return {
        "id": product.id,
        "href": href(f"{PRODUCT}/{product.id}"),
        "name": product.name,
        "@type": product.kind,
        "status": product_status(product),
        "realizingResource": [msisdn_ref(product.msisdn)],
    }


def _charge(bucket: Bucket, cents: int, currency: str, payment_id: str) -> dict:
    return {
        "paymentMethod": payment_id,
        "amount": money(cents, currency),
        "balanceAfter": money(bucket.remaining, currency),
    }


def _buy_pack(session, line, account, offering, payment_id) -> dict:
    charged = debit(session, line.msisdn, payment_id, offering.price, account.currency, offering.name)
    start = now()
    pack = Product(
        id=new_id("PCK"),
        kind="Pack",
        name=offering.name,
        status="active",
        offering_id=offering.id,
        msisdn=line.msisdn,
        billing_account_id=account.id,
        party_id=line.party_id,
        price=offering.price,
        start=start,
        end=start + timedelta(days=offering.validity_days),
        characteristics={},
    )
    session.add(pack)
    for allowance in offering.allowances:
        session.add(
            Bucket(
                id=new_id("BKT"),
                msisdn=line.msisdn,
                billing_account_id=account.id,
                bucket_type=allowance["usageType"],
                name=offering.name,
                usage_type=allowance["usageType"],
                units=allowance["units"],
                initial=allowance["amount"],
                remaining=allowance["amount"],
                valid_from=start,
                valid_to=pack.end,
                product_id=pack.id,
            )
        )
    return {
        "product": _product_ref(pack),
        "charge": _charge(charged, offering.price, account.currency, payment_id),
        "itemPrice": [
            {"priceType": "oneTime", "price": {"taxIncludedAmount": money(offering.price, account.currency)}}
        ],
    }


def _subscribe(session, line, account, offering, payment_id) -> dict:
    for existing in session.execute(
        select(Product).where(
            Product.msisdn == line.msisdn, Product.kind == "AddOn", Product.offering_id == offering.id
        )
    ).scalars():
        if product_status(existing) == "active":
            raise TMFError(
                409,
                "ERR_ALREADY_SUBSCRIBED",
                "Already subscribed",
                f"{line.msisdn} already has {offering.name} ({existing.id})",
            )
    # The first period is paid now; the next ones on the renewal date.
    charged = debit(session, line.msisdn, payment_id, offering.price, account.currency, offering.name)
    start = now()
    addon = Product(
        id=new_id("ADD"),
        kind="AddOn",
        name=offering.name,
        status="active",
        offering_id=offering.id,
        msisdn=line.msisdn,
        billing_account_id=account.id,
        party_id=line.party_id,
        price=offering.price,
        recurring="month",
        start=start,
        characteristics={"renewalDate": iso(start + ADDON_PERIOD)},
    )
    session.add(addon)
    return {
        "product": _product_ref(addon),
        "charge": _charge(charged, offering.price, account.currency, payment_id),
        "itemPrice": [
            {
                "priceType": "recurring",
                "recurringChargePeriod": "month",
                "price": {"taxIncludedAmount": money(offering.price, account.currency)},
            }
        ],
    }


def _refuse_loan(message: str):
    raise TMFError(409, "ERR_LOAN_NOT_ELIGIBLE", "Loan not eligible", message)


def _lend(session, line, account, offering) -> dict:
    currency = account.currency
    if account.account_type != "prepaid":
        _refuse_loan(f"Advances are for prepaid lines; {line.msisdn} is {account.account_type}")
    debt, fee = loan_debt(session, account.id), loan_fee(offering)
    available = max(account.credit_limit - debt, 0)
    if offering.loan_type == "data" and debt:
        _refuse_loan(
            f"A data advance needs the previous advance repaid first; {line.msisdn} still owes "
            f"{fmt_money(debt, currency)}"
        )
    if offering.price + fee > available:
        _refuse_loan(
            f"{offering.name} costs {fmt_money(offering.price, currency)} + {fmt_money(fee, currency)} fee "
            f"= {fmt_money(offering.price + fee, currency)}, more than the "
            f"{fmt_money(available, currency)} still available (credit limit "
            f"{fmt_money(account.credit_limit, currency)}, current debt {fmt_money(debt, currency)})"
        )
    start = now()
    loan = Loan(
        id=new_id("LOAN"),
        billing_account_id=account.id,
        msisdn=line.msisdn,
        offering_id=offering.id,
        loan_type=offering.loan_type,
        principal=offering.price,
        fee=fee,
        outstanding=offering.price + fee,
        created=start,
    )
    session.add(loan)
    if offering.loan_type == "airtime":
        main = money_bucket(session, line.msisdn, "main")
        main.remaining += offering.price
        credited = {
            "bucket": {"id": main.id},
            "amount": money(offering.price, currency),
            "balanceAfter": money(main.remaining, currency),
        }
    else:
        allowance = offering.allowances[0]
        bucket = Bucket(
            id=new_id("BKT"),
            msisdn=line.msisdn,
            billing_account_id=account.id,
            bucket_type="data",
            name=offering.name,
            usage_type="data",
            units=allowance["units"],
            initial=allowance["amount"],
            remaining=allowance["amount"],
            valid_from=start,
            valid_to=start + DATA_LOAN_VALIDITY,
        )
        session.add(bucket)
        credited = {"bucket": {"id": bucket.id}, "amount": {"amount": allowance["amount"], "units": allowance["units"]}}
    return {
        "product": {
            "id": loan.id,
            "name": offering.name,
            "@type": "Loan",
            "status": "active",
            "realizingResource": [msisdn_ref(line.msisdn)],
        },
        "loan": {
            "amount": money(offering.price, currency),
            "fee": money(fee, currency),
            "debtAdded": money(offering.price + fee, currency),
            "loanDebtAfter": money(debt + offering.price + fee, currency),
            "credited": credited,
        },
        "itemPrice": [{"priceType": "oneTime", "price": {"taxIncludedAmount": money(fee, currency)}}],
    }


def _add(session, item: dict, payment_id: str) -> dict:
    offering_id = ref_id(item.get("productOffering"))
    if not offering_id:
        raise bad_request("an add item needs productOffering.id")
    offering = session.get(Offering, offering_id)
    if offering is None:
        raise not_found("productOffering", offering_id)
    line = _line_of(session, item)
    ensure_active(line)
    account = find_account(session, line.billing_account_id)
    # A loan asked for on a postpaid line is refused by the eligibility rules, with their reason.
    sold_here = account.account_type in offering.payment_types or offering.category == "loan"
    if offering.category == "plan" or offering.market != account.market or not sold_here:
        raise TMFError(
            400,
            "ERR_OFFER_NOT_AVAILABLE",
            "Offer not available",
            f"{offering.name} ({offering.id}) cannot be ordered on the {account.account_type} line "
            f"{line.msisdn} in {account.market}",
        )
    if offering.category == "pack":
        result = _buy_pack(session, line, account, offering, payment_id)
    elif offering.category == "addon":
        result = _subscribe(session, line, account, offering, payment_id)
    else:
        result = _lend(session, line, account, offering)
    result["productOffering"] = {"id": offering.id, "name": offering.name, "@referredType": "ProductOffering"}
    return result


def _delete(session, item: dict) -> dict:
    product_id = ref_id(item.get("product"))
    if not product_id:
        raise bad_request('a delete item needs product: {"id": <the add-on product id>}')
    product = session.get(Product, product_id)
    if product is None:
        raise not_found("product", product_id)
    if product.msisdn:
        ensure_active(find_line(session, product.msisdn))
    if product.kind != "AddOn" or product_status(product) != "active":
        raise TMFError(
            409,
            "ERR_NOT_CANCELLABLE",
            "Not cancellable",
            f"{product.name} ({product.id}) is a {product.kind} that is {product_status(product)}: "
            "only active add-ons can be cancelled",
        )
    product.status, product.end = "terminated", now()
    return {
        "product": _product_ref(product),
        "productOffering": {"id": product.offering_id, "name": product.name, "@referredType": "ProductOffering"},
    }


def place_order(session, body: dict):
    items = body.get("productOrderItem")
    if not isinstance(items, list) or not items:
        raise bad_request("productOrderItem must be a non-empty list")
    payment_id = ref_id(body.get("payment")) or "airtime"
    answered_items = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise bad_request("each productOrderItem must be an object")
        action = item.get("action")
        if action == "add":
            result = _add(session, item, payment_id)
        elif action == "delete":
            result = _delete(session, item)
        else:
            raise bad_request(f"productOrderItem action must be add or delete, got {action!r}")
        answered_items.append(
            {"id": str(item.get("id", index)), "action": action, "state": "completed", "quantity": 1, **result}
        )
    moment = now()
    order_id = new_id("PO")
    order = {
        "id": order_id,
        "href": href(f"{BASE}/productOrder/{order_id}"),
        "state": "completed",
        "orderDate": iso(moment),
        "completionDate": iso(moment),
        "payment": [{"id": payment_id, "@referredType": "Payment"}],
        "productOrderItem": answered_items,
        "@type": body.get("@type") or "ProductOrder",
    }
    for passthrough in ("externalId", "channel", "relatedParty", "description", "category", "note"):
        if passthrough in body:
            order[passthrough] = body[passthrough]
    session.add(ProductOrder(id=order_id, body=order))
    return 201, order


@blueprint.post(f"{BASE}/productOrder")
def create_product_order():
    body = json_body()
    return run_once("productOrder", require_key(), body, lambda session: place_order(session, body))


@blueprint.get(f"{BASE}/productOrder")
def list_product_orders():
    with db.transaction() as session:
        orders = sorted(
            (o.body for o in session.execute(select(ProductOrder)).scalars()),
            key=lambda b: b["orderDate"],
            reverse=True,
        )
        return listing(orders)


@blueprint.get(f"{BASE}/productOrder/<order_id>")
def get_product_order(order_id):
    with db.transaction() as session:
        order = session.get(ProductOrder, order_id)
        if order is None:
            raise not_found("productOrder", order_id)
        return one(order.body)
