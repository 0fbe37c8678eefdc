"""The BSS adapter against the sandbox, over real HTTP."""

import pytest
import requests

from clients import BackendUnavailable
from clients.bss import BSSClient


@pytest.fixture
def bss(operator):
    return BSSClient()


def test_a_line_is_found_by_its_number_with_its_market(bss):
    line = bss.line("+2290197000001")
    assert line.kind == "mobile" and line.market == "BJ" and line.currency == "XOF"
    assert line.payment_type == "prepaid" and line.status == "active"
    assert line.subject == "line:+2290197000001"


def test_a_number_that_is_not_ours_is_none(bss):
    assert bss.line("+2290199999999") is None


def test_a_home_contract_and_its_holder_document(bss):
    contract = bss.contract("HG-100004")
    assert contract.kind == "home" and contract.subject == "contract:HG-100004"
    assert "2456789010101" in bss.identity_documents(contract.party_id)
    assert bss.contract("HG-999999") is None


def test_balances_are_the_sandbox_values(bss):
    buckets = {b.bucket_type: b for b in bss.buckets("+50255500002")}
    assert buckets["main"].amount == 35.5 and buckets["main"].units == "GTQ"
    assert buckets["wallet"].amount == 120.0


def test_the_token_is_fetched_once_and_reused(bss, operator):
    bss.line("+2290197000001")
    token = bss._token
    bss.line("+50255500002")
    assert bss._token == token


def test_an_unavailable_bss_raises_backend_unavailable(bss, operator):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 10}, timeout=5)
    with pytest.raises(BackendUnavailable):
        bss.line("+2290197000001")


def test_unreachable_gateway_is_unavailable(monkeypatch):
    client = BSSClient(base_url="http://127.0.0.1:9/tmf-api", token_url="http://127.0.0.1:9/oauth/token")
    with pytest.raises(BackendUnavailable):
        client.line("+2290197000001")
