"""TMF678 bills and TMF676 payments: wallet payments move money, card payments are recorded once."""

import uuid

from tests.sandbox.test_bss_helpers import (
    ACCOUNT,
    AWA,
    BILL,
    MARIA,
    PAYMENT,
    SUSPENDED,
    assert_tmf_error,
    bss,  # noqa: F401 (fixture)
)


def bills(bss, account_id):
    return bss.get(BILL, **{"billingAccount.id": account_id}).json()


def pay(bss, account_id, bill_id, value, method, key="new", **extra):
    body = {
        "account": {"id": account_id},
        "paymentMethod": {"id": method},
        "totalAmount": {"unit": "GTQ", "value": value},
        "paymentItem": [{"item": {"id": bill_id}, "totalAmount": {"unit": "GTQ", "value": value}}],
        **extra,
    }
    return bss.post(PAYMENT, body, key=key)


def test_bill_fields(bss):
    newest = bills(bss, "BA-0003")[0]
    assert newest["@type"] == "CustomerBill" and newest["billingAccount"]["id"] == "BA-0003"
    assert newest["taxIncludedAmount"]["value"] == 150.0 and newest["taxExcludedAmount"]["value"] == 133.93
    assert newest["billingPeriod"]["startDateTime"] < newest["billingPeriod"]["endDateTime"] <= newest["billDate"]
    assert bss.get(f"{BILL}/{newest['id']}").json()["billNo"] == newest["billNo"]
    assert_tmf_error(bss.get(f"{BILL}/CB-NOPE"), 404, "ERR_NOT_FOUND")
    unpaid = bss.get(BILL, **{"billingAccount.id": "BA-0003", "state": "sent"}).json()
    assert [b["id"] for b in unpaid] == [newest["id"]]


def test_paying_a_bill_from_the_wallet_settles_it(bss):
    newest = bills(bss, "BA-0003")[0]
    answer = pay(bss, "BA-0003", newest["id"], 150.0, "wallet", payer={"id": MARIA})
    assert answer.status_code == 201, answer.text
    payment = answer.json()
    assert payment["totalAmount"] == {"unit": "GTQ", "value": 150.0} and payment["paymentMethod"]["id"] == "wallet"
    assert bss.amount(MARIA, "wallet") == 50.00
    settled = bss.get(f"{BILL}/{newest['id']}").json()
    assert settled["state"] == "settled" and settled["remainingAmount"]["value"] == 0
    assert settled["appliedPayment"][0]["payment"]["id"] == payment["id"]
    assert bss.account("BA-0003")["paymentStatus"] == "paid"
    assert_tmf_error(pay(bss, "BA-0003", newest["id"], 150.0, "wallet"), 409, "ERR_BILL_ALREADY_PAID")


def test_wallet_payments_need_a_key_and_replay_once(bss):
    newest = bills(bss, "BA-0003")[0]
    assert_tmf_error(pay(bss, "BA-0003", newest["id"], 50.0, "wallet", key=None), 400, "ERR_IDEMPOTENCY_KEY_REQUIRED")
    key = str(uuid.uuid4())
    first, again = (pay(bss, "BA-0003", newest["id"], 50.0, "wallet", key=key) for _ in range(2))
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert bss.amount(MARIA, "wallet") == 150.00
    partly = bss.get(f"{BILL}/{newest['id']}").json()
    assert partly["state"] == "partiallyPaid" and partly["remainingAmount"]["value"] == 100.0


def test_a_card_payment_is_recorded_once_per_correlator(bss):
    older = bills(bss, "BA-0004")[1]
    first = pay(
        bss, "BA-0004", older["id"], 299.0, "card", key=None, correlatorId="cs_test_1", authorizationCode="pi_1"
    )
    assert first.status_code == 201, first.text
    again = pay(bss, "BA-0004", older["id"], 299.0, "card", key=None, correlatorId="cs_test_1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert len(bss.get(PAYMENT, **{"account.id": "BA-0004"}).json()) == 1
    assert bss.get(f"{BILL}/{older['id']}").json()["state"] == "settled"
    assert bss.account("BA-0004")["paymentStatus"] == "due"  # the newer bill, not yet due
    assert bss.get(f"{PAYMENT}/{first.json()['id']}").json()["authorizationCode"] == "pi_1"


def test_payment_refusals(bss):
    newest = bills(bss, "BA-0003")[0]
    assert_tmf_error(pay(bss, "BA-0003", newest["id"], 150.01, "card"), 400, "ERR_AMOUNT_OUT_OF_RANGE")
    assert_tmf_error(
        pay(bss, "BA-0003", newest["id"], 150.0, "wallet", payer={"id": SUSPENDED}), 403, "ERR_LINE_SUSPENDED"
    )
    hogar = bills(bss, "BA-0004")[0]
    assert_tmf_error(pay(bss, "BA-0004", hogar["id"], 299.0, "wallet", payer={"id": AWA}), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(pay(bss, "BA-0003", "CB-NOPE", 10.0, "card"), 404, "ERR_NOT_FOUND")
    assert_tmf_error(pay(bss, "BA-0003", hogar["id"], 10.0, "card"), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(pay(bss, "BA-0009", hogar["id"], 10.0, "card"), 404, "ERR_NOT_FOUND")
    assert bss.amount(MARIA, "wallet") == 200.00 and bss.amount(AWA, "wallet") == 15000


def test_a_payment_without_items_pays_the_oldest_bills_first(bss):
    answer = bss.post(
        PAYMENT,
        {"account": {"id": "BA-0004"}, "paymentMethod": {"id": "card"}, "totalAmount": {"unit": "GTQ", "value": 400.0}},
        key=None,
    )
    assert answer.status_code == 201, answer.text
    states = [(b["state"], b["remainingAmount"]["value"]) for b in bills(bss, "BA-0004")]
    assert states == [("partiallyPaid", 198.0), ("settled", 0)]
    receivable = next(
        b for b in bss.get(f"{ACCOUNT}/BA-0004").json()["accountBalance"] if b["balanceType"] == "receivable"
    )
    assert receivable["amount"]["value"] == 198.0
