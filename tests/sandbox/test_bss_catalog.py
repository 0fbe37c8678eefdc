"""TMF620 catalogue per market and payment type, and the next-best-offer ranking."""

import pytest

from tests.sandbox.test_bss_helpers import AWA, JOHN, MARIA, OFFERING, assert_tmf_error, bss, buy  # noqa: F401


def characteristic(offering: dict, name: str):
    use = next((c for c in offering["prodSpecCharValueUse"] if c["name"] == name), None)
    return [v["value"] for v in use["productSpecCharacteristicValue"]] if use else []


def kinds(offering: dict) -> set:
    return {c["name"] for c in offering["category"]}


def price(offering: dict, name: str = None) -> float:
    entries = offering["productOfferingPrice"]
    return next(p for p in entries if name is None or p["name"] == name)["price"]["value"]


@pytest.mark.parametrize("market, currency", [("BJ", "XOF"), ("GT", "GTQ")])
def test_each_market_sells_packs_of_every_kind_in_its_currency(bss, market, currency):
    packs = bss.get(OFFERING, **{"category.name": "pack", "market": market, "paymentType": "prepaid"}).json()
    assert len(packs) >= 5
    assert {"data", "voice", "combo", "sms"} <= set().union(*(kinds(p) for p in packs))
    for pack in packs:
        assert pack["productOfferingPrice"][0]["priceType"] == "oneTime"
        assert pack["productOfferingPrice"][0]["price"]["unit"] == currency
        assert pack["productOfferingTerm"][0]["duration"]["units"] == "days"
        assert characteristic(pack, "market") == [market]
        assert any(characteristic(pack, name) for name in ("dataAllowance", "voiceAllowance", "smsAllowance"))


def test_realistic_prices(bss):
    bj = {o["name"]: o for o in bss.get(OFFERING, **{"category.name": "pack", "market": "BJ"}).json()}
    one_go = bj["Pass Internet 1 Go"]
    assert price(one_go) == 500 and characteristic(one_go, "dataAllowance") == [1024]
    assert one_go["productOfferingTerm"][0]["duration"]["amount"] == 7
    gt = {o["id"]: o for o in bss.get(OFFERING, **{"category.name": "pack", "market": "GT"}).json()}
    assert price(gt["GT-PAQ-1GB-3D"]) == 10 and gt["GT-PAQ-1GB-3D"]["productOfferingTerm"][0]["duration"]["amount"] == 3
    combo = gt["GT-COMBO-5GB-200MIN"]
    assert combo["isBundle"] and characteristic(combo, "voiceAllowance") == [200]


@pytest.mark.parametrize("market", ["BJ", "GT"])
def test_add_ons_have_a_monthly_price(bss, market):
    addons = bss.get(OFFERING, **{"category.name": "addon", "market": market}).json()
    assert len(addons) >= 4
    assert {"roaming", "music", "callerTune", "tv"} <= set().union(*(kinds(a) for a in addons))
    for addon in addons:
        assert addon["productOfferingPrice"][0]["priceType"] == "recurring"
        assert addon["productOfferingPrice"][0]["recurringChargePeriodType"] == "month"


@pytest.mark.parametrize("market", ["BJ", "GT"])
def test_loan_packs_carry_a_ten_percent_fee(bss, market):
    loans = bss.get(OFFERING, **{"category.name": "loan", "market": market}).json()
    assert {"airtime", "data"} <= {characteristic(loan, "loanType")[0] for loan in loans}
    for loan in loans:
        assert characteristic(loan, "serviceFeePct") == [10]
        assert price(loan, "serviceFee") == pytest.approx(price(loan, "advance") * 0.10)
    assert bss.get(OFFERING, **{"category.name": "loan", "market": market, "paymentType": "postpaid"}).json() == []


def test_catalogue_lists_page_and_select_fields(bss):
    first = bss.get(OFFERING, **{"category.name": "pack", "market": "GT", "limit": 2, "offset": 1, "fields": "name"})
    assert first.headers["X-Total-Count"] == "8" and first.headers["X-Result-Count"] == "2"
    assert set(first.json()[0]) == {"id", "href", "@type", "name"}
    assert_tmf_error(bss.get(OFFERING, market="FR"), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(bss.get(OFFERING, limit="-1"), 400, "ERR_BAD_REQUEST")
    assert bss.get(f"{OFFERING}/BJ-PASS-1GO").json()["name"] == "Pass Internet 1 Go"
    assert_tmf_error(bss.get(f"{OFFERING}/NOPE"), 404, "ERR_NOT_FOUND")


def test_a_heavy_data_user_with_no_data_left_gets_data_packs_first(bss):
    offers = bss.get(OFFERING, recommendedFor=JOHN).json()
    top = offers[:2]
    assert all("data" in kinds(o) and "pack" in kinds(o) for o in top)
    assert top[0]["id"] == "BJ-PASS-1GO" and top[0]["affordable"] is True
    assert top[0]["recommendationReasonCode"] == "DATA_EXHAUSTED"
    assert top[0]["recommendationReason"] == "You used 1.3 GB of data in the last 7 days and have no data left."
    assert [o["recommendationRank"] for o in offers] == list(range(1, len(offers) + 1))
    assert all(o["place"][0]["id"] == "BJ" for o in offers)


def test_recommendations_speak_the_customers_language_and_skip_what_they_have(bss):
    offers = bss.get(OFFERING, recommendedFor=AWA).json()
    assert offers[0]["recommendationReason"].startswith("Vous avez utilisé 512 Mo")
    assert "BJ-ADDON-MELODIE" not in {o["id"] for o in offers}
    maria = bss.get(OFFERING, recommendedFor=MARIA).json()
    assert "loan" not in set().union(*(kinds(o) for o in maria))
    assert maria[0]["recommendationReason"].startswith("Usas muchos datos: 5.4 GB")


def test_recommendations_follow_the_balance(bss):
    """After John spends his airtime on a pack, what he cannot afford moves down."""
    assert buy(bss, "BJ-PASS-1GO", JOHN).status_code == 201
    offers = {o["id"]: o for o in bss.get(OFFERING, recommendedFor=JOHN).json()}
    assert offers["BJ-PASS-JOUR-150MO"]["affordable"] is True  # 100 F of the 300 F left
    assert offers["BJ-PASS-1GO"]["affordable"] is False  # 500 F
    assert offers["BJ-PASS-1GO"]["recommendationReasonCode"] == "HEAVY_DATA_USE"  # 1 GB left now
    assert offers["BJ-PASS-1GO"]["recommendationRank"] > offers["BJ-PASS-JOUR-150MO"]["recommendationRank"]


def test_recommendations_for_an_unknown_line(bss):
    assert_tmf_error(bss.get(OFFERING, recommendedFor="+22900000000"), 404, "ERR_NOT_FOUND")
