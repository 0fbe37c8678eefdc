"""Rasa's HTTP API in `make run`'s configuration (`--enable-api --auth-token`): closed without the token, open with
it; and a REST client naming a WhatsApp conversation's id (the customer's number) lands in its own conversation."""

import uuid

import pytest
import requests

from common.i18n import catalogue

AWA = "2290197000001"  # her WhatsApp conversation's id


def call(assistant, method, path, token=None, **kwargs):
    params = {"token": token} if token is not None else {}
    return requests.request(method, f"{assistant['rasa']}{path}", params=params, timeout=60, **kwargs)


def endpoints(conversation):
    """(method, path, a valid body): the endpoints that read, write or drive a conversation, or the server."""
    return [
        ("GET", f"/conversations/{conversation}/tracker", None),
        ("POST", f"/conversations/{conversation}/tracker/events", {"event": "slot", "name": "language", "value": "fr"}),
        ("POST", f"/conversations/{conversation}/trigger_intent", {"name": "greet"}),
        ("GET", "/status", None),
    ]


@pytest.mark.parametrize("token", [None, "", "guess"])
@pytest.mark.parametrize("index", range(4))
def test_without_the_token_every_endpoint_is_refused(assistant, token, index):
    method, path, body = endpoints(AWA)[index]
    answer = call(assistant, method, path, token, json=body)
    assert answer.status_code in (401, 403), answer.text


@pytest.mark.parametrize("token", [None, "guess"])
def test_without_the_token_the_model_cannot_be_replaced(assistant, token):
    answer = call(assistant, "PUT", "/model", token, json={"model_file": "/tmp/evil.tar.gz"})
    assert answer.status_code in (401, 403), answer.text


@pytest.mark.parametrize("index", range(4))
def test_with_the_token_every_endpoint_works(assistant, index):
    method, path, body = endpoints(f"rest:e2e-api-{uuid.uuid4().hex[:12]}")[index]
    answer = call(assistant, method, path, assistant["token"], json=body)
    assert answer.status_code == 200, answer.text


def test_with_the_token_the_model_endpoint_is_reached(assistant):
    """Past authentication: an empty body is a bad request (a real one would replace the running model)."""
    answer = call(assistant, "PUT", "/model", assistant["token"])
    assert answer.status_code == 400, answer.text


def test_a_rest_client_naming_a_whatsapp_conversation_gets_its_own(assistant):
    body = {"sender": AWA, "message": "mon solde", "input_channel": "whatsapp"}
    reply = requests.post(f"{assistant['rasa']}/webhooks/rest/webhook", json=body, timeout=60)
    assert reply.status_code == 200 and reply.json(), reply.text

    def said(conversation):
        tracker = call(assistant, "GET", f"/conversations/{conversation}/tracker", assistant["token"]).json()
        return [(e["text"], e["input_channel"]) for e in tracker["events"] if e["event"] == "user"]

    assert ("mon solde", "rest") in said(f"rest:{AWA}")
    # her WhatsApp conversation (other tests of this stack write there) holds nothing the REST client sent
    assert all(channel == "whatsapp" for _, channel in said(AWA)) and "mon solde" not in dict(said(AWA))
    # not taken for WhatsApp, whose channel proves the number: she is asked who she is, no balance
    assert [m.get("text") for m in reply.json()] == [catalogue()["ask_phone_number"]["text"]["fr"]]
