"""TMF620 Product Catalog: plans, packs, add-ons and loan packs per market, and recommendations."""

from sqlalchemy import select

from sandbox import db

from . import settings
from .api import blueprint
from .common import href, money, not_found, one
from .models import Offering

OFFERING = "/tmf-api/productCatalogManagement/v4/productOffering"
ALLOWANCE_NAMES = {"data": "dataAllowance", "voice": "voiceAllowance", "sms": "smsAllowance"}
CATEGORY_ORDER = {"pack": 0, "addon": 1, "loan": 2, "plan": 3}


def loan_fee(offering: Offering) -> int:
    return offering.price * settings.LOAN_FEE_PCT // 100


def _characteristic(name: str, *values, unit: str = None) -> dict:
    value_uses = [{"value": v, **({"unitOfMeasure": unit} if unit else {})} for v in values]
    return {"name": name, "productSpecCharacteristicValue": value_uses}


def offering_json(offering: Offering) -> dict:
    currency = settings.MARKETS[offering.market]["currency"]
    if offering.category == "loan":
        prices = [
            {"name": "advance", "priceType": "oneTime", "price": money(offering.price, currency)},
            {
                "name": "serviceFee",
                "priceType": "oneTime",
                "percentage": float(settings.LOAN_FEE_PCT),
                "price": money(loan_fee(offering), currency),
            },
        ]
    elif offering.recurring:
        prices = [
            {
                "name": offering.name,
                "priceType": "recurring",
                "recurringChargePeriodType": offering.recurring,
                "recurringChargePeriodLength": 1,
                "price": money(offering.price, currency),
            }
        ]
    else:
        prices = [{"name": offering.name, "priceType": "oneTime", "price": money(offering.price, currency)}]
    characteristics = [
        _characteristic("market", offering.market),
        _characteristic("paymentType", *offering.payment_types),
    ]
    for allowance in offering.allowances or []:
        characteristics.append(
            _characteristic(ALLOWANCE_NAMES[allowance["usageType"]], allowance["amount"], unit=allowance["units"])
        )
    if offering.category == "loan":
        characteristics.append(_characteristic("loanType", offering.loan_type))
        characteristics.append(_characteristic("serviceFeePct", settings.LOAN_FEE_PCT, unit="%"))
    body = {
        "id": offering.id,
        "href": href(f"{OFFERING}/{offering.id}"),
        "name": offering.name,
        "description": offering.description,
        "lifecycleStatus": "Active",
        "isSellable": True,
        "isBundle": offering.kind == "combo",
        "category": [
            {"id": offering.category, "name": offering.category},
            {"id": offering.kind, "name": offering.kind},
        ],
        "place": [
            {
                "id": offering.market,
                "name": settings.MARKETS[offering.market]["country"],
                "@referredType": "GeographicLocation",
            }
        ],
        "productOfferingPrice": prices,
        "productOfferingTerm": [],
        "prodSpecCharValueUse": characteristics,
        "@type": "ProductOffering",
    }
    if offering.validity_days:
        body["productOfferingTerm"].append(
            {"name": "validity", "duration": {"amount": offering.validity_days, "units": "days"}}
        )
    return body


def offerings(session, market: str = None, payment_type: str = None) -> list:
    query = select(Offering)
    if market:
        query = query.where(Offering.market == market)
    found = [o for o in session.execute(query).scalars() if not payment_type or payment_type in o.payment_types]
    return sorted(found, key=lambda o: (o.market, CATEGORY_ORDER.get(o.category, 9), o.kind, o.price, o.id))


@blueprint.get(f"{OFFERING}/<offering_id>")
def get_offering(offering_id):
    with db.transaction() as session:
        offering = session.get(Offering, offering_id)
        if offering is None:
            raise not_found("productOffering", offering_id)
        return one(offering_json(offering))
