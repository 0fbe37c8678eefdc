"""The SMS gateway plays Kannel's smsbox: /cgi-bin/sendsms with Kannel's reply codes, delivery reports
to dlr-url, and the outbox tests read at /_sandbox/sms."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

AWA = "+2290197000001"
CARLOS = "+50255500002"
MARIA = "+50235500003"
CREDENTIALS = {"username": "assistant", "password": "sandbox-sms"}


def send(base, **params):
    return requests.get(
        f"{base}/cgi-bin/sendsms",
        params={**CREDENTIALS, "from": "OPERATOR", "charset": "UTF-8", "coding": "0", **params},
        timeout=10,
    )


def outbox(base, to=None):
    response = requests.get(f"{base}/_sandbox/sms", params={"to": to} if to else None, timeout=10)
    assert response.status_code == 200
    return response.json()


class DlrReceiver:
    """A local HTTP server that records the delivery-report callbacks it receives."""

    def __init__(self):
        self.calls = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                receiver.calls.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.calls


@pytest.fixture
def dlr_receiver():
    receiver = DlrReceiver()
    yield receiver
    receiver.server.shutdown()


def test_accepted_sms_lands_in_the_outbox(sandbox):
    response = send(sandbox, to=AWA, text="Votre code est 482913")
    assert response.status_code == 202
    assert response.text == "0: Accepted for delivery"
    assert response.headers["Content-Type"].startswith("text/html")

    messages = outbox(sandbox, AWA)
    assert len(messages) == 1
    assert messages[0]["to"] == AWA
    assert messages[0]["text"] == "Votre code est 482913"
    assert messages[0]["sent_at"].endswith("Z")
    assert "482913" in messages[0]["text"]


def test_outbox_is_per_number_and_oldest_first(sandbox):
    for text in ("premier", "deuxième", "troisième"):
        assert send(sandbox, to=AWA, text=text).status_code == 202
    assert send(sandbox, to=CARLOS, text="Hola Carlos").status_code == 202

    assert [m["text"] for m in outbox(sandbox, AWA)] == ["premier", "deuxième", "troisième"]
    assert [m["text"] for m in outbox(sandbox, CARLOS)] == ["Hola Carlos"]
    assert outbox(sandbox, MARIA) == []
    # The url-encoded "+" of the README, and a raw query string, reach the same number.
    raw = requests.get(f"{sandbox}/_sandbox/sms?to=%2B50255500002", timeout=10).json()
    assert [m["text"] for m in raw] == ["Hola Carlos"]


def test_kannel_aliases_user_and_pass(sandbox):
    response = requests.get(
        f"{sandbox}/cgi-bin/sendsms",
        params={"user": "assistant", "pass": "sandbox-sms", "from": "OPERATOR", "to": MARIA, "text": "Hola"},
        timeout=10,
    )
    assert (response.status_code, response.text) == (202, "0: Accepted for delivery")
    assert [m["text"] for m in outbox(sandbox, MARIA)] == ["Hola"]


def test_several_receivers_separated_by_space_or_plus(sandbox):
    # An unencoded "+" is a space in a query string: Kannel splits `to` on it.
    url = (
        f"{sandbox}/cgi-bin/sendsms?username=assistant&password=sandbox-sms&from=OPERATOR"
        f"&to=%2B50255500002+%2B50235500003+002290197000001&text=Aviso+de+corte"
    )
    response = requests.get(url, timeout=10)
    assert response.status_code == 202
    for number in (CARLOS, MARIA, AWA):
        assert [m["text"] for m in outbox(sandbox, number)] == ["Aviso de corte"]


def test_text_in_ucs2(sandbox):
    # "Código" in UTF-16BE, url-encoded byte by byte, as a UCS-2 client sends it.
    text = "Código ñ".encode("utf-16-be")
    encoded = "".join(f"%{byte:02X}" for byte in text)
    url = (
        f"{sandbox}/cgi-bin/sendsms?username=assistant&password=sandbox-sms&from=X&to=%2B50255500002"
        f"&charset=UTF-16BE&coding=2&text={encoded}"
    )
    assert requests.get(url, timeout=10).status_code == 202
    assert outbox(sandbox, CARLOS)[0]["text"] == "Código ñ"


@pytest.mark.parametrize(
    "params, status, body",
    [
        ({"password": "wrong"}, 403, "Authorization failed for sendsms"),
        ({"username": "someone"}, 403, "Authorization failed for sendsms"),
        ({"to": None}, 400, "Missing receiver number, rejected"),
        ({"to": ""}, 400, "Empty receiver number not allowed, rejected"),
        ({"to": "awa"}, 400, "Number(s) has/have been denied by white- and/or black-lists."),
        ({"from": None}, 400, "Sender missing and no global set, rejected"),
        ({"dlr-url": "ftp://x", "dlr-mask": "1"}, 400, "DLR-URL field misformed, rejected"),
        ({"dlr-mask": "64"}, 400, "DLR-Mask field misformed, rejected"),
        ({"coding": "3"}, 400, "Coding field misformed, rejected"),
        ({"text": None, "charset": "UTF-8", "raw_text": "%FF%FE"}, 400, "Charset or body misformed, rejected"),
    ],
)
def test_kannel_rejections(sandbox, params, status, body):
    query = {**CREDENTIALS, "from": "OPERATOR", "to": AWA, "text": "code 1234"}
    raw_text = params.pop("raw_text", None)
    query.update(params)
    query = {key: value for key, value in query.items() if value is not None}
    url = f"{sandbox}/cgi-bin/sendsms"
    if raw_text:
        url += f"?text={raw_text}"
    response = requests.get(url, params=query, timeout=10)
    assert (response.status_code, response.text) == (status, body)
    assert outbox(sandbox, AWA) == []


def test_delivery_reports_are_called_back(sandbox, dlr_receiver):
    dlr_url = f"{dlr_receiver.url}/dlr?id=42&status=%d&to=%P&from=%p&answer=%A"
    response = send(sandbox, to=AWA, text="code 777", **{"dlr-mask": "9", "dlr-url": dlr_url})
    assert response.status_code == 202

    calls = dlr_receiver.wait_for(2)
    assert len(calls) == 2
    reports = [parse_qs(urlsplit(call).query) for call in calls]
    assert [r["status"][0] for r in reports] == ["8", "1"]  # delivered to SMSC, then to the phone
    assert all(r["id"] == ["42"] and r["to"] == [AWA] and r["from"] == ["OPERATOR"] for r in reports)
    assert "stat:DELIVRD" in reports[1]["answer"][0]


def test_delivery_report_only_for_bits_in_the_mask(sandbox, dlr_receiver):
    send(sandbox, to=AWA, text="x", **{"dlr-mask": "1", "dlr-url": f"{dlr_receiver.url}/dlr?s=%d"})
    calls = dlr_receiver.wait_for(1)
    time.sleep(0.3)
    assert calls == ["/dlr?s=1"]


def test_no_delivery_report_without_mask(sandbox, dlr_receiver):
    send(sandbox, to=AWA, text="x", **{"dlr-url": f"{dlr_receiver.url}/dlr?s=%d"})
    time.sleep(0.4)
    assert dlr_receiver.calls == []


def test_reset_empties_the_outbox(sandbox):
    send(sandbox, to=AWA, text="avant")
    requests.post(f"{sandbox}/_sandbox/reset", timeout=10).raise_for_status()
    assert outbox(sandbox, AWA) == []


def test_injected_fault_answers_like_kannel_and_sends_nothing(sandbox):
    fault = requests.post(
        f"{sandbox}/_sandbox/faults", json={"service": "sms", "status": 503, "count": 1, "retry_after": 2}, timeout=10
    )
    assert fault.status_code == 201

    failed = send(sandbox, to=AWA, text="code 1111")
    assert (failed.status_code, failed.text) == (503, "Temporal failure, try again later.")
    assert failed.headers["Retry-After"] == "2"
    assert outbox(sandbox, AWA) == []

    retried = send(sandbox, to=AWA, text="code 1111")
    assert retried.status_code == 202
    assert [m["text"] for m in outbox(sandbox, AWA)] == ["code 1111"]
