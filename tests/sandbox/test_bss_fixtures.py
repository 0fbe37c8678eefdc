"""The fixture customers of shared/spec/sandbox.md, as the TMF APIs show them, and reset."""

from datetime import timedelta

import requests

from tests.sandbox.test_bss_helpers import (
    AWA,
    BILL,
    CARLOS,
    JOHN,
    KOFFI,
    MARIA,
    PROBLEM,
    PRODUCT,
    SUSPENDED,
    USAGE,  # noqa: F401
    assert_tmf_error,
    bss,
    buy,
    parse,
    utcnow,
)


def characteristic(product: dict, name: str):
    return next(c["value"] for c in product["productCharacteristic"] if c["name"] == name)


def days_until(text: str) -> float:
    return (parse(text) - utcnow()) / timedelta(days=1)


def test_awa_prepaid_benin(bss):
    buckets = {b["bucketType"]: b for b in bss.buckets(AWA)}
    assert buckets["main"]["remainingValue"] == {"amount": 2500, "units": "XOF"}
    assert buckets["bonus"]["remainingValue"]["amount"] == 500 and buckets["bonus"]["@type"] == "Bucket"
    assert buckets["wallet"]["remainingValue"]["amount"] == 15000 and buckets["wallet"]["@type"] == "WalletBucket"
    data = buckets["data"]
    assert data["name"] == "Pass Internet 2 Go" and data["usageType"] == "data"
    assert data["remainingValue"] == {"amount": 1536, "units": "MB"} and data["initialValue"]["amount"] == 2048
    assert 2.9 < days_until(data["validFor"]["endDateTime"]) <= 3
    assert buckets["sms"]["remainingValue"] == {"amount": 20, "units": "SMS"}
    line = next(p for p in bss.products(AWA) if p["@type"] == "MobileLine")
    assert line["status"] == "active" and line["name"] == "Prépayé Classique"
    assert characteristic(line, "market") == "BJ" and characteristic(line, "currency") == "XOF"
    assert characteristic(line, "paymentType") == "prepaid" and characteristic(line, "timeZone") == "Africa/Porto-Novo"
    assert characteristic(line, "preferredLanguage") == "fr"
    account = bss.account(line["billingAccount"]["id"])
    assert account["creditLimit"] == {"unit": "XOF", "value": 1000.0} and bss.loan_debt(account["id"]) == 0


def test_carlos_prepaid_guatemala_with_a_loan(bss):
    assert bss.amount(CARLOS, "main") == 35.50 and bss.amount(CARLOS, "wallet") == 120.00
    assert bss.data_left(CARLOS) == 3 * 1024
    account = bss.account("BA-0002")
    assert account["creditLimit"]["value"] == 25.0
    balances = {b["balanceType"]: b["amount"]["value"] for b in account["accountBalance"]}
    assert balances["loanDebt"] == 10.0 and balances["loanCreditAvailable"] == 15.0
    assert [p["@type"] for p in bss.products(CARLOS)] == ["MobileLine", "Pack", "AddOn"]


def test_maria_postpaid_plan_and_three_bills(bss):
    line = next(p for p in bss.products(MARIA) if p["@type"] == "MobileLine")
    assert line["name"] == "Tigo Plus 150" and characteristic(line, "paymentType") == "postpaid"
    assert line["productPrice"][0]["price"]["taxIncludedAmount"] == {"unit": "GTQ", "value": 150.0}
    assert line["productPrice"][0]["recurringChargePeriod"] == "month"
    assert characteristic(line, "dataAllowance") == "15 GB" and characteristic(line, "voiceAllowance") == "unlimited"
    assert 24 < days_until(characteristic(line, "renewalDate")) <= 25
    bills = bss.get(BILL, **{"billingAccount.id": line["billingAccount"]["id"]}).json()
    assert len(bills) == 3 and [b["state"] for b in bills] == ["sent", "settled", "settled"]
    newest = bills[0]
    assert newest["amountDue"]["value"] == 150.0 and newest["remainingAmount"]["value"] == 150.0
    assert 9.9 < days_until(newest["paymentDueDate"]) <= 10
    assert all(b["remainingAmount"]["value"] == 0 and b["appliedPayment"] for b in bills[1:])


def test_bill_document_is_a_real_pdf_without_a_token(bss):
    bill = bss.get(BILL, **{"billingAccount.id": "BA-0003"}).json()[0]
    document = bill["billDocument"][0]
    assert document["mimeType"] == "application/pdf"
    pdf = requests.get(document["url"])
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    assert bill["billNo"].encode() in pdf.content and b"Q150.00" in pdf.content
    forged = requests.get(document["url"].split("?")[0] + "?sig=0000")
    assert_tmf_error(forged, 403, "ERR_FORBIDDEN")


def test_hogar_perez_home_contract_holder_document_and_overdue_bill(bss):
    contract = bss.get(f"{PRODUCT}/HG-100004").json()
    assert contract["@type"] == "HomeInternet" and contract["name"] == "Internet Hogar 100 Mbps"
    assert contract["productPrice"][0]["price"]["taxIncludedAmount"]["value"] == 299.0
    assert characteristic(contract, "paymentType") == "home" and contract["realizingResource"] == []
    holder = bss.get(f"/tmf-api/partyManagement/v4/individual/{contract['relatedParty'][0]['id']}").json()
    assert holder["individualIdentification"][0]["identificationId"] == "2456789010101"
    assert holder["individualIdentification"][0]["identificationType"] == "DPI"
    bills = bss.get(BILL, **{"billingAccount.id": contract["billingAccount"]["id"]}).json()
    assert [(b["remainingAmount"]["value"], b["state"]) for b in bills] == [(299.0, "sent"), (299.0, "sent")]
    assert days_until(bills[1]["paymentDueDate"]) < 0 < days_until(bills[0]["paymentDueDate"])
    assert bss.account(contract["billingAccount"]["id"])["paymentStatus"] == "overdue"


def test_john_has_no_data_and_an_empty_wallet(bss):
    assert bss.amount(JOHN, "main") == 800 and bss.amount(JOHN, "wallet") == 0 and bss.data_left(JOHN) == 0
    account = bss.account("BA-0005")
    assert account["creditLimit"]["value"] == 500.0 and bss.loan_debt("BA-0005") == 0
    john = bss.get("/tmf-api/partyManagement/v4/individual/IND-0005").json()
    assert john["languageAbility"][0]["languageCode"] == "en"


def test_koffi_in_parakou_has_an_acknowledged_data_outage(bss):
    assert bss.amount(KOFFI, "main") == 1000
    line = next(p for p in bss.products(KOFFI) if p["@type"] == "MobileLine")
    assert characteristic(line, "city") == "Parakou"
    problems = bss.get(PROBLEM, city="parakou", status="acknowledged").json()
    assert len(problems) == 1
    problem = problems[0]
    assert problem["affectedService"][0]["id"] == "mobileData" and problem["affectedLocation"][0]["name"] == "Parakou"
    assert -1 < -days_until(problem["timeRaised"]) < 1
    assert 3.9 < days_until(problem["expectedResolutionDate"]) * 24 <= 4
    assert bss.get(PROBLEM, city="Cotonou", status="acknowledged").json() == []
    assert [p["status"] for p in bss.get(PROBLEM, city="Mixco").json()] == ["resolved"]


def test_the_suspended_line(bss):
    line = next(p for p in bss.products(SUSPENDED) if p["@type"] == "MobileLine")
    assert line["status"] == "suspended"
    assert {b["status"] for b in bss.buckets(SUSPENDED)} == {"suspended"}


def test_usage_records_of_the_last_seven_days(bss):
    records = bss.get(USAGE, **{"logicalResource.id": AWA}).json()
    kinds = {r["usageType"] for r in records}
    assert kinds == {"voice", "data", "sms"}
    assert all(0 <= -days_until(r["usageDate"]) <= 7 for r in records)
    assert [r["usageDate"] for r in records] == sorted((r["usageDate"] for r in records), reverse=True)
    call = next(r for r in records if r["usageType"] == "voice")
    details = {c["name"]: c["value"] for c in call["usageCharacteristic"]}
    assert details["destinationNumber"] == "+2290196123456" and details["duration"] == 180
    assert call["ratedProductUsage"][0]["taxIncludedRatingAmount"] == {"unit": "XOF", "value": 150.0}
    data = [r for r in records if r["usageType"] == "data"]
    assert sum(next(c["value"] for c in r["usageCharacteristic"] if c["name"] == "dataVolume") for r in data) == 512
    only_calls = bss.get(USAGE, **{"logicalResource.id": AWA, "usageType": "voice", "limit": 2})
    assert only_calls.headers["X-Total-Count"] == "3" and len(only_calls.json()) == 2


def test_customer_and_individual(bss):
    customer = bss.get("/tmf-api/customerManagement/v4/customer", **{"engagedParty.id": "IND-0003"}).json()[0]
    assert customer["id"] == "CUST-0003" and customer["account"][0]["id"] == "BA-0003"
    assert_tmf_error(bss.get("/tmf-api/partyManagement/v4/individual/IND-9999"), 404, "ERR_NOT_FOUND")


def test_reset_puts_every_value_back(sandbox, bss):
    assert buy(bss, "BJ-PASS-1GO", AWA).status_code == 201
    assert bss.amount(AWA, "main") == 2000
    requests.post(f"{sandbox}/_sandbox/reset").raise_for_status()
    assert bss.amount(AWA, "main") == 2500 and bss.data_left(AWA) == 1536
    assert len(bss.products(AWA)) == 3


def test_a_lookup_by_number_answers_what_filtering_every_product_answers(bss):
    everything = bss.get(PRODUCT).json()

    def by_hand(*numbers):
        wanted = {n.lstrip("+") for n in numbers}
        return [p for p in everything if any(r["id"].lstrip("+") in wanted for r in p["realizingResource"])]

    assert bss.products(AWA) == by_hand(AWA) and by_hand(AWA)
    assert bss.products(AWA.lstrip("+")) == by_hand(AWA)  # "+" forgotten or not url-encoded
    both = bss.get(PRODUCT, **{"realizingResource.id": f"{AWA},{JOHN}"}).json()
    assert both == by_hand(AWA, JOHN) and {AWA, JOHN} <= {r["id"] for p in both for r in p["realizingResource"]}
    assert bss.products("+22900000000") == []
    # the other filters still apply on top of the number
    lines = bss.get(PRODUCT, **{"realizingResource.id": AWA, "@type": "MobileLine"}).json()
    assert [p["@type"] for p in lines] == ["MobileLine"]
