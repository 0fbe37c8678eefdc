"""TMF632 Party (Individual) and TMF629 Customer."""

from sqlalchemy import select

from sandbox import db

from .api import blueprint
from .common import href, listing, not_found, one
from .models import BillingAccount, Party

INDIVIDUAL = "/tmf-api/partyManagement/v4/individual"
CUSTOMER = "/tmf-api/customerManagement/v4/customer"


def full_name(party: Party) -> str:
    return f"{party.given_name} {party.family_name}"


def customer_ref(party: Party) -> dict:
    """How products, accounts and bills name their holder."""
    return {
        "id": party.id,
        "href": href(f"{INDIVIDUAL}/{party.id}"),
        "name": full_name(party),
        "role": "customer",
        "@referredType": "Individual",
    }


def contact_medium(party: Party) -> list:
    media = []
    if party.phone:
        media.append({"mediumType": "mobile", "preferred": True, "characteristic": {"phoneNumber": party.phone}})
    if party.email:
        media.append(
            {"mediumType": "email", "preferred": not party.phone, "characteristic": {"emailAddress": party.email}}
        )
    if party.city:
        media.append(
            {
                "mediumType": "postalAddress",
                "preferred": False,
                "characteristic": {"city": party.city, "country": party.country},
            }
        )
    return media


def individual_json(party: Party) -> dict:
    identification = []
    if party.id_number:
        identification.append(
            {
                "identificationType": party.id_type,
                "identificationId": party.id_number,
                "issuingAuthority": "RENAP" if party.id_type == "DPI" else "ANIP",
            }
        )
    return {
        "id": party.id,
        "href": href(f"{INDIVIDUAL}/{party.id}"),
        "givenName": party.given_name,
        "familyName": party.family_name,
        "fullName": full_name(party),
        "status": "validated",
        "individualIdentification": identification,
        "contactMedium": contact_medium(party),
        "languageAbility": [{"languageCode": party.language, "isFavouriteLanguage": True}],
        "@type": "Individual",
    }


def customer_json(party: Party, accounts: list) -> dict:
    return {
        "id": party.customer_id,
        "href": href(f"{CUSTOMER}/{party.customer_id}"),
        "name": full_name(party),
        "status": "Approved",
        "engagedParty": {
            "id": party.id,
            "href": href(f"{INDIVIDUAL}/{party.id}"),
            "name": full_name(party),
            "@referredType": "Individual",
        },
        "account": [{"id": a.id, "name": a.name, "@referredType": "BillingAccount"} for a in accounts],
        "contactMedium": contact_medium(party),
        "characteristic": [{"name": "preferredLanguage", "value": party.language}],
        "@type": "Customer",
    }


@blueprint.get(INDIVIDUAL)
def list_individuals():
    with db.transaction() as session:
        parties = session.execute(select(Party).order_by(Party.id)).scalars()
        return listing([individual_json(p) for p in parties])


@blueprint.get(f"{INDIVIDUAL}/<party_id>")
def get_individual(party_id):
    with db.transaction() as session:
        party = session.get(Party, party_id)
        if party is None:
            raise not_found("individual", party_id)
        return one(individual_json(party))


def _customers(session) -> list:
    answer = []
    for party in session.execute(select(Party).order_by(Party.customer_id)).scalars():
        accounts = session.execute(select(BillingAccount).where(BillingAccount.party_id == party.id)).scalars()
        answer.append(customer_json(party, list(accounts)))
    return answer


@blueprint.get(CUSTOMER)
def list_customers():
    with db.transaction() as session:
        return listing(_customers(session))


@blueprint.get(f"{CUSTOMER}/<customer_id>")
def get_customer(customer_id):
    with db.transaction() as session:
        for customer in _customers(session):
            if customer["id"] == customer_id:
                return one(customer)
        raise not_found("customer", customer_id)
