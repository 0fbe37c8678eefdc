"""Next best offer: ranks a line's catalogue by what the customer used over the last 7 days.

A need score per usage type (data, voice, SMS) drives the pack scores; what the customer cannot
afford goes down; add-ons they already have are left out; an advance is offered only to an eligible
prepaid line whose balance cannot buy the cheapest pack. Each offer says why, in the line's language.
"""

from datetime import timedelta

from flask import request
from sqlalchemy import select

from sandbox import db

from . import settings
from .api import blueprint
from .catalog import OFFERING, loan_fee, offering_json, offerings
from .common import bad_request, listing, now
from .ledger import find_account, find_line, live_buckets, loan_debt, money_bucket, product_status
from .models import Party, Product, UsageRecord

HEAVY_DATA_MB = 700  # a week of data above this is heavy use
DATA_EXHAUSTED_MB = 100  # less than this left counts as "no data left"

REASONS = {
    "DATA_EXHAUSTED": {
        "en": "You used {data} of data in the last 7 days and have no data left.",
        "fr": "Vous avez utilisé {data} de data ces 7 derniers jours et il ne vous en reste plus.",
        "es": "Usaste {data} de datos en los últimos 7 días y ya no te quedan datos.",
    },
    "HEAVY_DATA_USE": {
        "en": "You use a lot of data: {data} in the last 7 days.",
        "fr": "Vous consommez beaucoup de data : {data} ces 7 derniers jours.",
        "es": "Usas muchos datos: {data} en los últimos 7 días.",
    },
    "DATA_USE": {
        "en": "You used {data} of data in the last 7 days.",
        "fr": "Vous avez utilisé {data} de data ces 7 derniers jours.",
        "es": "Usaste {data} de datos en los últimos 7 días.",
    },
    "VOICE_USE": {
        "en": "You called {minutes} min in the last 7 days.",
        "fr": "Vous avez appelé {minutes} min ces 7 derniers jours.",
        "es": "Llamaste {minutes} min en los últimos 7 días.",
    },
    "SMS_USE": {
        "en": "You sent {sms} SMS in the last 7 days.",
        "fr": "Vous avez envoyé {sms} SMS ces 7 derniers jours.",
        "es": "Enviaste {sms} SMS en los últimos 7 días.",
    },
    "MIXED_USE": {
        "en": "You both call ({minutes} min) and browse ({data}): one pack covers both.",
        "fr": "Vous appelez ({minutes} min) et naviguez ({data}) : un seul pass couvre les deux.",
        "es": "Llamas ({minutes} min) y navegas ({data}): un solo paquete cubre ambos.",
    },
    "LOW_BALANCE": {
        "en": "Your balance is too low for a pack: an advance keeps you connected now.",
        "fr": "Votre solde ne suffit pas pour un pass : une avance vous garde connecté tout de suite.",
        "es": "Tu saldo no alcanza para un paquete: un adelanto te mantiene conectado ahora.",
    },
    "ADDON_SUGGESTION": {
        "en": "An option you do not have yet.",
        "fr": "Une option que vous n'avez pas encore.",
        "es": "Una opción que aún no tienes.",
    },
    "POPULAR": {
        "en": "A popular pack in your country.",
        "fr": "Un pass apprécié dans votre pays.",
        "es": "Un paquete popular en tu país.",
    },
}


def _data_text(mb: int, language: str) -> str:
    if mb >= 1024:
        text = f"{mb / 1024:.1f} {'Go' if language == 'fr' else 'GB'}"
        return text.replace(".", ",") if language == "fr" else text
    return f"{mb} {'Mo' if language == 'fr' else 'MB'}"


def _profile(session, line: Product) -> dict:
    since = now() - timedelta(days=7)
    usage = list(
        session.execute(
            select(UsageRecord).where(UsageRecord.msisdn == line.msisdn, UsageRecord.date >= since)
        ).scalars()
    )
    left = {kind: sum(b.remaining for b in live_buckets(session, line.msisdn, kind)) for kind in ("data", "voice")}
    main = money_bucket(session, line.msisdn, "main")
    wallet = money_bucket(session, line.msisdn, "wallet")
    data_mb = sum(u.volume_mb or 0 for u in usage if u.usage_type == "data")
    return {
        "data_mb": data_mb,
        "minutes": round(sum(u.duration_s or 0 for u in usage if u.usage_type == "voice") / 60),
        "sms": sum(1 for u in usage if u.usage_type == "sms"),
        "data_left": left["data"],
        "unlimited_voice": (line.characteristics or {}).get("voiceAllowance") == "unlimited",
        "unlimited_sms": (line.characteristics or {}).get("smsAllowance") == "unlimited",
        "airtime": main.remaining if main else 0,
        "funds": (main.remaining if main else 0) + (wallet.remaining if wallet else 0),
    }


def _needs(p: dict) -> dict:
    data = 0
    if p["data_mb"]:
        data = 50 if p["data_left"] < DATA_EXHAUSTED_MB else 30 if p["data_mb"] >= HEAVY_DATA_MB else 15
    voice = (
        0
        if p["unlimited_voice"]
        else 35
        if p["minutes"] >= 60
        else 20
        if p["minutes"] >= 20
        else 5
        if p["minutes"]
        else 0
    )
    sms = 0 if p["unlimited_sms"] else 15 if p["sms"] >= 10 else 5 if p["sms"] else 0
    return {"data": data, "voice": voice, "sms": sms}


def _data_reason(p: dict) -> str:
    if p["data_left"] < DATA_EXHAUSTED_MB:
        return "DATA_EXHAUSTED"
    return "HEAVY_DATA_USE" if p["data_mb"] >= HEAVY_DATA_MB else "DATA_USE"


def _data_fit(offering, p: dict) -> int:
    """Up to 15 points for a data allowance close to what the customer would use over its validity."""
    allowance = sum(a["amount"] for a in offering.allowances if a["usageType"] == "data")
    projected = p["data_mb"] / 7 * (offering.validity_days or 1)
    fit = min(allowance / projected, projected / allowance) if allowance and projected else 0
    return round(10 * fit) + (5 if (offering.validity_days or 0) >= 7 else 0)


def _score_pack(offering, p: dict, needs: dict):
    kinds = {a["usageType"] for a in offering.allowances}
    covered = sorted((needs[k], k) for k in kinds if needs[k] > 0)
    if not covered:
        return 1, "POPULAR"
    top_need, top = covered[-1]
    strong = {k for need, k in covered if need >= 15}
    score = top_need + 5 * max(len(strong) - 1, 0)
    if top == "data":
        score += _data_fit(offering, p)
    if {"data", "voice"} <= strong and needs["voice"] >= 20:
        return score, "MIXED_USE"
    return score, {"data": _data_reason(p), "voice": "VOICE_USE", "sms": "SMS_USE"}[top]


def _loan_eligible(session, line, account, offering) -> bool:
    debt = loan_debt(session, account.id)
    if offering.loan_type == "data" and debt:
        return False
    return offering.price + loan_fee(offering) <= account.credit_limit - debt


def recommendations(session, msisdn: str) -> list:
    line = find_line(session, msisdn)
    account = find_account(session, line.billing_account_id)
    language = session.get(Party, line.party_id).language
    p = _profile(session, line)
    needs = _needs(p)
    owned = {
        prod.offering_id
        for prod in session.execute(
            select(Product).where(Product.msisdn == line.msisdn, Product.kind == "AddOn")
        ).scalars()
        if product_status(prod) == "active"
    }
    catalogue = offerings(session, account.market, account.account_type)
    cheapest_pack = min((o.price for o in catalogue if o.category == "pack"), default=0)

    ranked = []
    for offering in catalogue:
        affordable = offering.price <= p["funds"]
        if offering.category == "pack":
            score, code = _score_pack(offering, p, needs)
            score -= 0 if affordable else 20
        elif offering.category == "addon" and offering.id not in owned:
            score, code = 3 if affordable else 0, "ADDON_SUGGESTION"
        elif (
            offering.category == "loan"
            and account.account_type == "prepaid"
            and p["airtime"] < cheapest_pack
            and _loan_eligible(session, line, account, offering)
        ):
            score, code, affordable = (
                45 + (5 if offering.loan_type == "data" and needs["data"] else 0),
                "LOW_BALANCE",
                True,
            )
        else:
            continue
        ranked.append((score, offering, code, affordable))
    ranked.sort(key=lambda r: (-r[0], r[1].price, r[1].id))

    values = {"data": _data_text(p["data_mb"], language), "minutes": p["minutes"], "sms": p["sms"]}
    answer = []
    for rank, (score, offering, code, affordable) in enumerate(ranked, start=1):
        body = offering_json(offering)
        body.update(
            {
                "recommendationRank": rank,
                "recommendationScore": score,
                "recommendationReasonCode": code,
                "recommendationReason": REASONS[code][language].format(**values),
                "affordable": affordable,
            }
        )
        answer.append(body)
    return answer


# The offering listing lives here, not in catalog.py: it answers `recommendedFor` too, and this module builds
# on the catalogue.
@blueprint.get(OFFERING)
def list_offerings():
    market, payment_type = request.args.get("market"), request.args.get("paymentType")
    if market and market not in settings.MARKETS:
        raise bad_request(f"market must be one of {sorted(settings.MARKETS)}")
    handled = {"market", "paymentType", "recommendedFor"}
    with db.transaction() as session:
        if request.args.get("recommendedFor"):
            return listing(recommendations(session, request.args["recommendedFor"]), handled)
        return listing([offering_json(o) for o in offerings(session, market, payment_type)], handled)
