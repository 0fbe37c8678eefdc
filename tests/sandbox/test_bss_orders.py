"""TMF622 product orders: packs, add-ons, loans; funds, suspension, idempotency."""

import uuid

from tests.sandbox.test_bss_helpers import (
    AWA,
    CARLOS,
    JOHN,
    MARIA,
    ORDER,
    PRODUCT,
    SUSPENDED,
    assert_tmf_error,
    bss,  # noqa: F401 (fixture)
    buy,
    order_item,
)


def test_buying_a_pack_with_airtime_debits_it_and_adds_the_data(bss):
    answer = buy(bss, "BJ-PASS-1GO", JOHN)
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["state"] == "completed" and order["productOrderItem"][0]["state"] == "completed"
    item = order["productOrderItem"][0]
    assert item["charge"] == {
        "paymentMethod": "airtime",
        "amount": {"unit": "XOF", "value": 500.0},
        "balanceAfter": {"unit": "XOF", "value": 300.0},
    }
    assert bss.amount(JOHN, "main") == 300
    assert bss.data_left(JOHN) == 1024
    new_bucket = next(b for b in bss.buckets(JOHN) if b["product"] and b["product"][0]["id"] == item["product"]["id"])
    assert new_bucket["remainingValue"] == {"amount": 1024, "units": "MB"} and new_bucket["status"] == "active"
    pack = bss.get(f"{PRODUCT}/{item['product']['id']}").json()
    assert pack["@type"] == "Pack" and pack["status"] == "active" and pack["productOffering"]["id"] == "BJ-PASS-1GO"
    assert bss.get(f"{ORDER}/{order['id']}").json()["id"] == order["id"]


def test_buying_a_combo_with_the_wallet_adds_every_allowance(bss):
    answer = buy(bss, "GT-COMBO-5GB-200MIN", CARLOS, payment="wallet")
    assert answer.status_code == 201, answer.text
    assert bss.amount(CARLOS, "wallet") == 85.00 and bss.amount(CARLOS, "main") == 35.50
    new = [b for b in bss.buckets(CARLOS) if b["name"] == "Combo 5 GB + 200 min"]
    assert {(b["usageType"], b["remainingValue"]["amount"], b["remainingValue"]["units"]) for b in new} == {
        ("data", 5120, "MB"),
        ("voice", 200, "min"),
        ("sms", 100, "SMS"),
    }


def test_short_of_funds_nothing_changes(bss):
    before = bss.buckets(JOHN)
    refused = buy(bss, "BJ-PASS-2GO", JOHN)  # 1 000 F, John has 800 F
    body = assert_tmf_error(refused, 409, "ERR_INSUFFICIENT_FUNDS")
    assert "800" in body["message"]
    assert_tmf_error(buy(bss, "BJ-PASS-1GO", JOHN, payment="wallet"), 409, "ERR_INSUFFICIENT_FUNDS")
    assert bss.buckets(JOHN) == before and len(bss.products(JOHN)) == 2


def test_a_suspended_line_moves_no_money(bss):
    assert_tmf_error(buy(bss, "GT-PAQ-1GB-3D", SUSPENDED), 403, "ERR_LINE_SUSPENDED")
    assert_tmf_error(buy(bss, "GT-ADDON-TONO", SUSPENDED, payment="wallet"), 403, "ERR_LINE_SUSPENDED")
    assert_tmf_error(buy(bss, "GT-LOAN-SALDO-5", SUSPENDED), 403, "ERR_LINE_SUSPENDED")
    assert bss.amount(SUSPENDED, "main") == 12.00 and bss.amount(SUSPENDED, "wallet") == 40.00


def test_subscribing_an_add_on_pays_the_first_month_and_cancelling_terminates_it(bss):
    answer = buy(bss, "BJ-ADDON-TV", AWA, payment="wallet")
    assert answer.status_code == 201, answer.text
    product_id = answer.json()["productOrderItem"][0]["product"]["id"]
    assert bss.amount(AWA, "wallet") == 13500
    addon = bss.get(f"{PRODUCT}/{product_id}").json()
    assert addon["@type"] == "AddOn" and addon["status"] == "active"
    assert (
        addon["productPrice"][0]["priceType"] == "recurring"
        and addon["productPrice"][0]["price"]["taxIncludedAmount"]["value"] == 1500
    )
    assert any(c["name"] == "renewalDate" for c in addon["productCharacteristic"])
    assert_tmf_error(buy(bss, "BJ-ADDON-TV", AWA), 409, "ERR_ALREADY_SUBSCRIBED")

    cancel = bss.post(ORDER, {"productOrderItem": [{"id": "1", "action": "delete", "product": {"id": product_id}}]})
    assert cancel.status_code == 201 and cancel.json()["productOrderItem"][0]["product"]["status"] == "terminated"
    terminated = bss.get(f"{PRODUCT}/{product_id}").json()
    assert terminated["status"] == "terminated" and terminated["terminationDate"]
    assert bss.amount(AWA, "wallet") == 13500  # no refund of the month begun
    assert_tmf_error(
        bss.post(ORDER, {"productOrderItem": [{"id": "1", "action": "delete", "product": {"id": product_id}}]}),
        409,
        "ERR_NOT_CANCELLABLE",
    )
    assert_tmf_error(
        bss.post(
            ORDER, {"productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "MOB-2290197000001"}}]}
        ),
        409,
        "ERR_NOT_CANCELLABLE",
    )


def test_fixture_add_on_can_be_cancelled(bss):
    addon = next(p for p in bss.products(CARLOS) if p["@type"] == "AddOn")
    cancel = bss.post(ORDER, {"productOrderItem": [{"id": "1", "action": "delete", "product": {"id": addon["id"]}}]})
    assert cancel.status_code == 201
    assert [p["status"] for p in bss.products(CARLOS) if p["@type"] == "AddOn"] == ["terminated"]


def test_an_airtime_loan_credits_the_main_balance_and_adds_amount_plus_fee_to_the_debt(bss):
    answer = buy(bss, "BJ-LOAN-CREDIT-500", AWA)
    assert answer.status_code == 201, answer.text
    loan = answer.json()["productOrderItem"][0]["loan"]
    assert loan["fee"] == {"unit": "XOF", "value": 50.0} and loan["loanDebtAfter"]["value"] == 550.0
    assert bss.amount(AWA, "main") == 3000
    assert bss.loan_debt("BA-0001") == 550
    balances = {b["balanceType"]: b["amount"]["value"] for b in bss.account("BA-0001")["accountBalance"]}
    assert balances["loanCreditAvailable"] == 450


def test_a_data_loan_adds_a_data_bucket(bss):
    answer = buy(bss, "BJ-LOAN-DATA-100MO", JOHN)
    assert answer.status_code == 201, answer.text
    assert bss.data_left(JOHN) == 100 and bss.amount(JOHN, "main") == 800
    assert bss.loan_debt("BA-0005") == 165


def test_loans_beyond_the_credit_left_are_refused_with_the_reason(bss):
    refused = assert_tmf_error(buy(bss, "GT-LOAN-SALDO-20", CARLOS), 409, "ERR_LOAN_NOT_ELIGIBLE")
    assert "Q15.00" in refused["message"] and "Q22.00" in refused["message"]
    assert_tmf_error(buy(bss, "BJ-LOAN-CREDIT-1000", AWA), 409, "ERR_LOAN_NOT_ELIGIBLE")  # 1 100 F > 1 000 F
    assert bss.amount(CARLOS, "main") == 35.50 and bss.loan_debt("BA-0002") == 10
    ok = buy(bss, "GT-LOAN-SALDO-10", CARLOS)  # Q11 <= Q15
    assert ok.status_code == 201 and bss.loan_debt("BA-0002") == 21 and bss.amount(CARLOS, "main") == 45.50


def test_a_data_loan_needs_a_clear_debt_and_postpaid_lines_cannot_borrow(bss):
    body = assert_tmf_error(buy(bss, "GT-LOAN-DATOS-500MB", CARLOS), 409, "ERR_LOAN_NOT_ELIGIBLE")
    assert "Q10.00" in body["message"]
    postpaid = bss.post(ORDER, {"productOrderItem": [order_item("GT-LOAN-SALDO-5", MARIA)]})
    assert "prepaid" in assert_tmf_error(postpaid, 409, "ERR_LOAN_NOT_ELIGIBLE")["message"]


def test_the_same_idempotency_key_buys_once(bss):
    key = str(uuid.uuid4())
    first = buy(bss, "BJ-PASS-1GO", AWA, key=key)
    again = buy(bss, "BJ-PASS-1GO", AWA, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert bss.amount(AWA, "main") == 2000
    assert len([p for p in bss.products(AWA) if p["@type"] == "Pack"]) == 2
    other = buy(bss, "BJ-PASS-2GO", AWA, key=key)
    assert_tmf_error(other, 409, "ERR_IDEMPOTENCY_KEY_REUSED")


def test_a_refused_order_can_be_retried_with_its_key(bss):
    key = str(uuid.uuid4())
    assert_tmf_error(buy(bss, "BJ-PASS-2GO", JOHN, key=key), 409, "ERR_INSUFFICIENT_FUNDS")
    topup = bss.post(
        "/tmf-api/prepayBalanceManagement/v4/topupBalance",
        {"amount": {"amount": 500, "units": "XOF"}, "logicalResource": {"id": JOHN}, "paymentMethod": {"id": "card"}},
    )
    assert topup.status_code == 201
    assert buy(bss, "BJ-PASS-2GO", JOHN, key=key).status_code == 201
    assert bss.amount(JOHN, "main") == 300


def test_orders_need_an_idempotency_key_and_well_formed_items(bss):
    assert_tmf_error(buy(bss, "BJ-PASS-1GO", AWA, key=None), 400, "ERR_IDEMPOTENCY_KEY_REQUIRED")
    assert_tmf_error(bss.post(ORDER, {"productOrderItem": []}), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(bss.post(ORDER, {"productOrderItem": [{"id": "1", "action": "modify"}]}), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(buy(bss, "BJ-PASS-1GO", AWA, payment="bitcoin"), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(buy(bss, "NOPE", AWA), 404, "ERR_NOT_FOUND")
    assert_tmf_error(buy(bss, "BJ-PASS-1GO", "+22900000000"), 404, "ERR_NOT_FOUND")
    assert_tmf_error(buy(bss, "GT-PAQ-1GB-3D", AWA), 400, "ERR_OFFER_NOT_AVAILABLE")  # Guatemala's pack, Benin line
    assert bss.amount(AWA, "main") == 2500


def test_an_order_is_all_or_nothing(bss):
    items = [order_item("BJ-PASS-1GO", JOHN), {**order_item("BJ-PASS-1GO", JOHN), "id": "2"}]  # 2 x 500 F > 800 F
    assert_tmf_error(bss.post(ORDER, {"productOrderItem": items}), 409, "ERR_INSUFFICIENT_FUNDS")
    assert bss.amount(JOHN, "main") == 800 and bss.data_left(JOHN) == 0
