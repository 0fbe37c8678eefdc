"""TMF637 Product Inventory: the line or home contract, and the packs and add-ons on it."""

from typing import Optional

from flask import request
from sqlalchemy import select

from sandbox import db

from . import settings
from .api import blueprint
from .common import comparable, href, iso, listing, money, msisdn_ref, not_found, one
from .ledger import product_status
from .models import BillingAccount, Offering, Party, Product
from .party import customer_ref

PRODUCT = "/tmf-api/productInventory/v4/product"
KIND_ORDER = {"MobileLine": 0, "HomeInternet": 0, "Pack": 1, "AddOn": 2}


def product_json(session, product: Product, known: Optional[dict] = None) -> dict:
    """`known`: {(model, id): row} already read (the session's identity map holds rows weakly: read once per product
    otherwise)."""
    known = {} if known is None else known

    def get(model, key):
        if (model, key) not in known:
            known[model, key] = session.get(model, key)
        return known[model, key]

    party = get(Party, product.party_id)
    account = get(BillingAccount, product.billing_account_id)
    offering = get(Offering, product.offering_id)
    market = settings.MARKETS[account.market]
    characteristics = {
        "market": account.market,
        "currency": account.currency,
        "paymentType": account.account_type,
        "timeZone": market["timeZone"],
        "preferredLanguage": party.language,
        **(product.characteristics or {}),
    }
    body = {
        "id": product.id,
        "href": href(f"{PRODUCT}/{product.id}"),
        "name": product.name,
        "status": product_status(product),
        "isBundle": False,
        "startDate": iso(product.start),
        "productOffering": {
            "id": product.offering_id,
            "name": offering.name if offering else product.name,
            "@referredType": "ProductOffering",
        },
        "productPrice": [],
        "billingAccount": {
            "id": account.id,
            "href": href(f"/tmf-api/accountManagement/v4/billingAccount/{account.id}"),
            "@referredType": "BillingAccount",
        },
        "relatedParty": [customer_ref(party)],
        "realizingResource": [msisdn_ref(product.msisdn)] if product.msisdn else [],
        "productCharacteristic": [{"name": name, "value": value} for name, value in characteristics.items()],
        "@type": product.kind,
    }
    if product.end is not None:
        body["terminationDate"] = iso(product.end)
    if product.price is not None:
        price = {
            "name": product.name,
            "priceType": "recurring" if product.recurring else "oneTime",
            "price": {"taxIncludedAmount": money(product.price, account.currency)},
        }
        if product.recurring:
            price["recurringChargePeriod"] = product.recurring
        body["productPrice"].append(price)
    return body


def products_json(session, msisdns: Optional[str] = None) -> list:
    """Every product, or only those of the lines in `msisdns` ("a,b", as a realizingResource.id filter gives them):
    a lookup by number is indexed, as in a real inventory, instead of rendering every product to filter them."""
    query = select(Product).order_by(Product.start, Product.id)
    if msisdns is not None:
        numbers = {comparable(choice) for choice in msisdns.split(",")}  # as the listing's filter compares them
        query = query.where(Product.msisdn.in_(numbers | {f"+{n}" for n in numbers}))
    products = session.execute(query).scalars()
    ordered = sorted(products, key=lambda p: (p.msisdn or p.id, KIND_ORDER.get(p.kind, 9)))
    known: dict = {}  # a line's products share their party and account
    return [product_json(session, p, known) for p in ordered]


@blueprint.get(PRODUCT)
def list_products():
    with db.transaction() as session:
        # the listing still applies every filter, this one included, to what comes back
        return listing(products_json(session, request.args.get("realizingResource.id")))


@blueprint.get(f"{PRODUCT}/<product_id>")
def get_product(product_id):
    with db.transaction() as session:
        product = session.get(Product, product_id)
        if product is None:
            raise not_found("product", product_id)
        return one(product_json(session, product))
