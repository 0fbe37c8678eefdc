"""A tiny TMF client for the BSS tests (imported by the other test_bss_* files), plus its own checks."""

import uuid
from datetime import datetime, timezone

import pytest
import requests

CLIENT = ("assistant", "sandbox-secret")
AWA, CARLOS, MARIA, JOHN, KOFFI, SUSPENDED = (
    "+2290197000001",
    "+50255500002",
    "+50235500003",
    "+2290196000005",
    "+2290166000006",
    "+50255500007",
)
BUCKET = "/tmf-api/prepayBalanceManagement/v4/bucket"
TOPUP = "/tmf-api/prepayBalanceManagement/v4/topupBalance"
PRODUCT = "/tmf-api/productInventory/v4/product"
OFFERING = "/tmf-api/productCatalogManagement/v4/productOffering"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
ACCOUNT = "/tmf-api/accountManagement/v4/billingAccount"
BILL = "/tmf-api/customerBillManagement/v4/customerBill"
PAYMENT = "/tmf-api/paymentManagement/v4/payment"
USAGE = "/tmf-api/usageManagement/v4/usage"
SITE = "/tmf-api/geographicSiteManagement/v4/geographicSite"
APPOINTMENT = "/tmf-api/appointment/v4/appointment"
SEARCH_SLOT = "/tmf-api/appointment/v4/searchTimeSlot"
PROBLEM = "/tmf-api/serviceProblemManagement/v4/serviceProblem"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class BSS:
    """Talks to the sandbox's BSS like the assistant's adapter would: a Bearer token, then JSON."""

    def __init__(self, url: str):
        self.url = url
        token = requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"}, auth=CLIENT, timeout=10)
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(self.url + path, params=params, headers=self.headers, timeout=10)

    def post(self, path: str, body: dict, key: str = "new", **headers) -> requests.Response:
        """`key`: "new" for a fresh Idempotency-Key, None for none, else that key."""
        if key is not None:
            headers["Idempotency-Key"] = str(uuid.uuid4()) if key == "new" else key
        return requests.post(self.url + path, json=body, headers={**self.headers, **headers}, timeout=10)

    def patch(self, path: str, body: dict) -> requests.Response:
        return requests.patch(self.url + path, json=body, headers=self.headers, timeout=10)

    # --- what the tests ask most ---------------------------------------------------------------

    def buckets(self, msisdn: str) -> list:
        answer = self.get(BUCKET, **{"logicalResource.id": msisdn})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def bucket(self, msisdn: str, bucket_type: str) -> dict:
        return next(b for b in self.buckets(msisdn) if b["bucketType"] == bucket_type)

    def amount(self, msisdn: str, bucket_type: str) -> float:
        return self.bucket(msisdn, bucket_type)["remainingValue"]["amount"]

    def data_left(self, msisdn: str) -> int:
        return sum(
            b["remainingValue"]["amount"]
            for b in self.buckets(msisdn)
            if b["usageType"] == "data" and b["status"] == "active"
        )

    def products(self, msisdn: str) -> list:
        return self.get(PRODUCT, **{"realizingResource.id": msisdn}).json()

    def account(self, account_id: str) -> dict:
        return self.get(f"{ACCOUNT}/{account_id}").json()

    def loan_debt(self, account_id: str) -> float:
        balances = self.account(account_id)["accountBalance"]
        return next(b["amount"]["value"] for b in balances if b["balanceType"] == "loanDebt")


def order_item(offering_id: str, msisdn: str, action: str = "add") -> dict:
    return {
        "id": "1",
        "action": action,
        "productOffering": {"id": offering_id},
        "product": {"productCharacteristic": [{"name": "MSISDN", "value": msisdn}]},
    }


def buy(bss: BSS, offering_id: str, msisdn: str, payment: str = "airtime", key: str = "new") -> requests.Response:
    return bss.post(
        ORDER, {"productOrderItem": [order_item(offering_id, msisdn)], "payment": [{"id": payment}]}, key=key
    )


def assert_tmf_error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == str(status) and body["@type"] == "Error" and body["reason"] and body["message"]
    return body


@pytest.fixture
def bss(sandbox) -> BSS:
    return BSS(sandbox)


def test_the_helper_reads_awa_main_balance(bss):
    assert bss.amount(AWA, "main") == 2500
