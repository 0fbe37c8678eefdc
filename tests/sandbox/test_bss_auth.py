"""The API gateway: OAuth2 client credentials, the Bearer check, TMF errors, injected faults."""

import time

import requests

from tests.sandbox.test_bss_helpers import AWA, BUCKET, CLIENT, assert_tmf_error, bss  # noqa: F401 (fixture)


def test_client_credentials_give_a_bearer_token_for_an_hour(sandbox):
    answer = requests.post(f"{sandbox}/oauth/token", data={"grant_type": "client_credentials"}, auth=CLIENT)
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["access_token"].count(".") == 2
    assert answer.headers["Cache-Control"] == "no-store"
    balances = requests.get(
        f"{sandbox}{BUCKET}",
        params={"logicalResource.id": AWA},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert balances.status_code == 200 and len(balances.json()) == 5


def test_wrong_secret_is_invalid_client(sandbox):
    answer = requests.post(
        f"{sandbox}/oauth/token", data={"grant_type": "client_credentials"}, auth=("assistant", "wrong")
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_other_grant_types_are_refused(sandbox):
    answer = requests.post(f"{sandbox}/oauth/token", data={"grant_type": "password"}, auth=CLIENT)
    assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type"


def test_every_tmf_call_needs_a_valid_bearer_token(sandbox, bss):
    no_token = requests.get(f"{sandbox}{BUCKET}", params={"logicalResource.id": AWA})
    assert_tmf_error(no_token, 401, "ERR_UNAUTHORIZED")
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    forged = bss.headers["Authorization"][:-4] + "AAAA"
    assert_tmf_error(requests.get(f"{sandbox}{BUCKET}", headers={"Authorization": forged}), 401, "ERR_UNAUTHORIZED")
    assert_tmf_error(
        requests.get(f"{sandbox}{BUCKET}", headers={"Authorization": "Basic YTpi"}), 401, "ERR_UNAUTHORIZED"
    )


def test_answers_are_tmf_json_and_unknown_resources_a_tmf_404(bss):
    answer = bss.get(BUCKET, **{"logicalResource.id": AWA})
    assert answer.headers["Content-Type"] == "application/json;charset=utf-8"
    assert answer.headers["X-Total-Count"] == "5" and answer.headers["X-Result-Count"] == "5"
    missing = bss.get("/tmf-api/prepayBalanceManagement/v4/nothingHere")
    assert_tmf_error(missing, 404, "ERR_NOT_FOUND")
    assert missing.headers["Content-Type"] == "application/json;charset=utf-8"
    assert_tmf_error(bss.get(f"{BUCKET}/BKT-NOPE"), 404, "ERR_NOT_FOUND")
    wrong_method = requests.delete(bss.url + BUCKET, headers=bss.headers)
    assert_tmf_error(wrong_method, 405, "ERR_METHOD_NOT_ALLOWED")
    assert wrong_method.headers["Allow"] == "GET"


def test_injected_503_is_a_tmf_error_with_retry_after_then_service_resumes(sandbox, bss):
    requests.post(f"{sandbox}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 2, "retry_after": 1})
    for _ in range(2):
        failed = bss.get(BUCKET, **{"logicalResource.id": AWA})
        body = assert_tmf_error(failed, 503, "ERR_UNAVAILABLE")
        assert failed.headers["Retry-After"] == "1" and body["reason"] == "Service Unavailable"
    assert bss.get(BUCKET, **{"logicalResource.id": AWA}).status_code == 200


def test_injected_fault_also_hits_the_token_endpoint_and_needs_no_retry_after(sandbox):
    requests.post(f"{sandbox}/_sandbox/faults", json={"service": "bss", "status": 500, "count": 1})
    failed = requests.post(f"{sandbox}/oauth/token", data={"grant_type": "client_credentials"}, auth=CLIENT)
    assert_tmf_error(failed, 500, "ERR_INTERNAL")
    assert "Retry-After" not in failed.headers
    assert requests.post(f"{sandbox}/oauth/token", data={"grant_type": "client_credentials"}, auth=CLIENT).ok


def test_a_fault_on_another_service_leaves_the_bss_alone(sandbox, bss):
    requests.post(f"{sandbox}/_sandbox/faults", json={"service": "sms", "status": 503, "count": 1})
    assert bss.get(BUCKET, **{"logicalResource.id": AWA}).status_code == 200
    requests.delete(f"{sandbox}/_sandbox/faults")


def test_a_slow_bss_answers_late_then_on_time_again(sandbox, bss):
    requests.post(f"{sandbox}/_sandbox/faults", json={"service": "bss", "delay": 0.5, "count": 1})
    started = time.monotonic()
    assert bss.get(BUCKET, **{"logicalResource.id": AWA}).status_code == 200
    assert time.monotonic() - started >= 0.5  # a lower bound: a loaded machine cannot make it pass wrongly
    assert requests.get(f"{sandbox}/_sandbox/faults").json() == {}  # one request only: the next ones are on time
