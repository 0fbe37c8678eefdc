"""TMF635 Usage Management: rated calls, data sessions and SMS of a line, newest first."""

from sqlalchemy import select

from sandbox import db

from .api import blueprint
from .common import href, iso, listing, money, msisdn_ref, not_found, one
from .models import UsageRecord

USAGE = "/tmf-api/usageManagement/v4/usage"
DESCRIPTIONS = {"voice": "Voice call to {dest}", "sms": "SMS to {dest}", "data": "Mobile data session"}


def usage_json(record: UsageRecord) -> dict:
    characteristics = [{"name": "originatingNumber", "value": record.msisdn, "valueType": "string"}]
    if record.destination:
        characteristics.append({"name": "destinationNumber", "value": record.destination, "valueType": "string"})
    if record.usage_type == "voice":
        characteristics.append(
            {"name": "duration", "value": record.duration_s, "valueType": "integer", "unitOfMeasure": "s"}
        )
    if record.usage_type == "data":
        characteristics.append(
            {"name": "dataVolume", "value": record.volume_mb, "valueType": "integer", "unitOfMeasure": "MB"}
        )
    if record.usage_type == "sms":
        characteristics.append({"name": "messageCount", "value": 1, "valueType": "integer"})
    return {
        "id": record.id,
        "href": href(f"{USAGE}/{record.id}"),
        "usageDate": iso(record.date),
        "usageType": record.usage_type,
        "status": "rated",
        "description": DESCRIPTIONS[record.usage_type].format(dest=record.destination),
        "logicalResource": [msisdn_ref(record.msisdn)],
        "relatedParty": [{"id": record.party_id, "role": "customer", "@referredType": "Individual"}],
        "usageCharacteristic": characteristics,
        "ratedProductUsage": [
            {
                "ratingDate": iso(record.date),
                "isBilled": record.cost > 0,
                "usageRatingTag": "usage" if record.cost > 0 else "included",
                "ratingAmountType": "total",
                "taxIncludedRatingAmount": money(record.cost, record.currency),
                "productRef": {"name": record.rated_against, "@referredType": "Product"},
            }
        ],
        "@type": "Usage",
    }


@blueprint.get(USAGE)
def list_usage():
    with db.transaction() as session:
        records = session.execute(select(UsageRecord).order_by(UsageRecord.date.desc(), UsageRecord.id)).scalars()
        return listing([usage_json(r) for r in records])


@blueprint.get(f"{USAGE}/<usage_id>")
def get_usage(usage_id):
    with db.transaction() as session:
        record = session.get(UsageRecord, usage_id)
        if record is None:
            raise not_found("usage", usage_id)
        return one(usage_json(record))
