"""TMF654 topupBalance: limits, wallet or card, another line, loan repayment first, idempotency."""

import threading
import uuid

import pytest

from tests.sandbox.test_bss_helpers import (
    AWA,
    CARLOS,
    JOHN,
    KOFFI,
    MARIA,
    SUSPENDED,
    TOPUP,
    assert_tmf_error,
    bss,  # noqa: F401 (fixture)
    buy,
)


def topup(bss, target, amount, units, method="wallet", key="new", **extra):
    body = {
        "amount": {"amount": amount, "units": units},
        "usageType": "monetary",
        "logicalResource": [{"id": target, "@referredType": "MSISDN"}],
        "paymentMethod": {"id": method},
        **extra,
    }
    return bss.post(TOPUP, body, key=key)


def test_wallet_top_up_of_ones_own_line(bss):
    answer = topup(bss, AWA, 1000, "XOF")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "completed" and body["@type"] == "TopupBalance"
    assert body["loanRepayment"] == {"amount": 0, "units": "XOF"}
    assert body["creditedAmount"] == {"amount": 1000, "units": "XOF"} and body["balanceAfter"]["amount"] == 3500
    assert bss.amount(AWA, "main") == 3500 and bss.amount(AWA, "wallet") == 14000
    assert bss.get(f"{TOPUP}/{body['id']}").json()["id"] == body["id"]
    assert [t["id"] for t in bss.get(TOPUP, **{"logicalResource.id": AWA}).json()] == [body["id"]]


def test_card_top_up_credits_without_touching_the_wallet(bss):
    assert topup(bss, CARLOS, 50, "GTQ", method="card").status_code == 201
    assert bss.amount(CARLOS, "wallet") == 120.00


def test_top_up_of_another_line_from_the_payers_wallet(bss):
    answer = topup(bss, JOHN, 2000, "XOF", relatedParty=[{"id": AWA, "role": "payer"}])
    assert answer.status_code == 201, answer.text
    assert bss.amount(JOHN, "main") == 2800 and bss.amount(AWA, "wallet") == 13000
    assert bss.amount(JOHN, "wallet") == 0
    by_account = topup(bss, KOFFI, 500, "XOF", partyAccount={"id": "BA-0001"})
    assert by_account.status_code == 201 and bss.amount(AWA, "wallet") == 12500 and bss.amount(KOFFI, "main") == 1500


def test_a_loan_debt_is_repaid_first(bss):
    answer = topup(bss, CARLOS, 20, "GTQ")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["loanRepayment"] == {"amount": 10.0, "units": "GTQ"}
    assert body["creditedAmount"] == {"amount": 10.0, "units": "GTQ"} and body["remainingLoanDebt"]["amount"] == 0
    assert bss.amount(CARLOS, "main") == 45.50 and bss.amount(CARLOS, "wallet") == 100.00
    assert bss.loan_debt("BA-0002") == 0


def test_a_small_top_up_only_repays_part_of_the_debt(bss):
    body = topup(bss, CARLOS, 6, "GTQ", method="card").json()
    assert body["loanRepayment"]["amount"] == 6.0 and body["creditedAmount"]["amount"] == 0
    assert bss.loan_debt("BA-0002") == 4.0 and bss.amount(CARLOS, "main") == 35.50


def test_oldest_loan_is_repaid_first(bss):
    assert buy(bss, "GT-LOAN-SALDO-5", CARLOS).status_code == 201  # debt 10 + 5.50
    topup(bss, CARLOS, 12, "GTQ", method="card")
    loans = bss.account("BA-0002")["loan"]
    assert [(loan["productOffering"]["id"], loan["outstanding"]["value"]) for loan in loans] == [
        ("GT-LOAN-SALDO-5", 3.5)
    ]


@pytest.mark.parametrize(
    "target, amount, units", [(AWA, 99, "XOF"), (AWA, 100_001, "XOF"), (CARLOS, 4.99, "GTQ"), (CARLOS, 1000.01, "GTQ")]
)
def test_amounts_outside_the_market_limits(bss, target, amount, units):
    assert_tmf_error(topup(bss, target, amount, units, method="card"), 400, "ERR_AMOUNT_OUT_OF_RANGE")


@pytest.mark.parametrize("target, amount, units", [(AWA, 100, "XOF"), (CARLOS, 5, "GTQ"), (CARLOS, 1000, "GTQ")])
def test_amounts_on_the_market_limits(bss, target, amount, units):
    assert topup(bss, target, amount, units, method="card").status_code == 201


def test_wallet_short_of_funds(bss):
    before = bss.buckets(JOHN)
    body = assert_tmf_error(topup(bss, JOHN, 500, "XOF"), 409, "ERR_INSUFFICIENT_FUNDS")
    assert "wallet" in body["message"]
    assert bss.buckets(JOHN) == before


def test_suspended_lines_neither_receive_nor_pay(bss):
    assert_tmf_error(topup(bss, SUSPENDED, 10, "GTQ", method="card"), 403, "ERR_LINE_SUSPENDED")
    paid_by_suspended = topup(bss, CARLOS, 10, "GTQ", relatedParty=[{"id": SUSPENDED, "role": "payer"}])
    assert_tmf_error(paid_by_suspended, 403, "ERR_LINE_SUSPENDED")
    assert bss.amount(SUSPENDED, "wallet") == 40.00 and bss.amount(CARLOS, "main") == 35.50


def test_the_same_key_tops_up_once(bss):
    key = str(uuid.uuid4())
    first, again = topup(bss, AWA, 500, "XOF", key=key), topup(bss, AWA, 500, "XOF", key=key)
    assert first.status_code == again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert bss.amount(AWA, "main") == 3000 and bss.amount(AWA, "wallet") == 14500


def test_malformed_top_ups(bss):
    assert_tmf_error(topup(bss, AWA, 500, "XOF", key=None), 400, "ERR_IDEMPOTENCY_KEY_REQUIRED")
    assert_tmf_error(topup(bss, AWA, 500, "GTQ"), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(topup(bss, AWA, 500, "XOF", method="cash"), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(topup(bss, AWA, "lots", "XOF"), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(
        bss.post(TOPUP, {"amount": {"amount": 500, "units": "XOF"}, "paymentMethod": {"id": "card"}}),
        400,
        "ERR_BAD_REQUEST",
    )
    assert_tmf_error(topup(bss, "+22900000000", 500, "XOF"), 404, "ERR_NOT_FOUND")
    assert_tmf_error(topup(bss, MARIA, 50, "GTQ", method="card"), 400, "ERR_NOT_PREPAID")
    assert bss.amount(AWA, "main") == 2500 and bss.amount(AWA, "wallet") == 15000


def test_concurrent_retries_with_one_key_move_the_money_once(bss):
    key, answers, start = str(uuid.uuid4()), [], threading.Barrier(3)

    def attempt():
        start.wait()
        answers.append(topup(bss, AWA, 700, "XOF", key=key))

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert bss.amount(AWA, "main") == 3200 and bss.amount(AWA, "wallet") == 14300
