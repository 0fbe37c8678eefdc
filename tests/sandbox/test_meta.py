"""The sandbox's Graph API: WhatsApp Cloud API and Messenger Send API calls checked against the platforms'
limits (Graph errors when violated), recorded for tests at /_sandbox/meta/messages, cleared by a reset."""

import pytest
import requests

PHONE_NUMBER_ID = "100000000000001"
WA_TOKEN = {"Authorization": "Bearer sandbox-whatsapp-token"}
PAGE_TOKEN = {"access_token": "sandbox-page-token"}
AWA = "2290197000001"


def whatsapp(base, message, version="v19.0", phone_number_id=PHONE_NUMBER_ID, headers=None):
    path = f"{version}/{phone_number_id}" if version else phone_number_id
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": AWA, **message}
    return requests.post(
        f"{base}/graph/{path}/messages", json=body, headers=WA_TOKEN if headers is None else headers, timeout=10
    )


def messenger(base, message, messaging_type="RESPONSE", params=None, **extra):
    body = {"recipient": {"id": "6754123498765432"}, "messaging_type": messaging_type, "message": message, **extra}
    return requests.post(
        f"{base}/graph/v19.0/me/messages", json=body, params=PAGE_TOKEN if params is None else params, timeout=10
    )


def recorded(base, **filters):
    return requests.get(f"{base}/_sandbox/meta/messages", params=filters, timeout=10).json()


def buttons(*titles):
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Choisissez"},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": f"/b{n}", "title": t}} for n, t in enumerate(titles)]
            },
        },
    }


def list_message(rows, button="Choisir"):
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Menu"},
            "action": {"button": button, "sections": [{"rows": rows}]},
        },
    }


def template(parameter):
    return {
        "type": "template",
        "template": {
            "name": "operator_update",
            "language": {"code": "fr"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": parameter}]}],
        },
    }


def test_a_whatsapp_message_is_accepted_like_the_cloud_api_and_recorded(sandbox):
    answer = whatsapp(sandbox, {"type": "text", "text": {"body": "Bonjour"}})
    assert answer.status_code == 200
    body = answer.json()
    assert body["messaging_product"] == "whatsapp" and body["contacts"] == [{"input": AWA, "wa_id": AWA}]
    (message_id,) = [m["id"] for m in body["messages"]]
    assert message_id.startswith("wamid.")
    for to in (AWA, "+" + AWA):
        (record,) = recorded(sandbox, to=to)
        assert record["id"] == message_id and record["channel"] == "whatsapp" and record["from"] == PHONE_NUMBER_ID
        assert record["type"] == "text" and record["message"]["text"]["body"] == "Bonjour"


def test_the_version_in_the_path_is_optional_but_must_look_like_one(sandbox):
    assert whatsapp(sandbox, {"type": "text", "text": {"body": "a"}}, version=None).status_code == 200
    assert whatsapp(sandbox, {"type": "text", "text": {"body": "a"}}, version="latest").status_code == 400


def test_a_wrong_token_or_phone_number_id_is_refused_with_a_graph_error(sandbox):
    answer = whatsapp(sandbox, {"type": "text", "text": {"body": "a"}}, headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == 190
    assert answer.json()["error"]["type"] == "OAuthException" and answer.json()["error"]["fbtrace_id"]
    answer = whatsapp(sandbox, {"type": "text", "text": {"body": "a"}}, phone_number_id="123")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100
    assert recorded(sandbox) == []


@pytest.mark.parametrize(
    "message, what",
    [
        ({"type": "text", "text": {"body": "x" * 4097}}, "Text body"),
        ({"type": "text", "text": {"body": ""}}, "Text body"),
        (buttons("a", "b", "c", "d"), "Buttons count"),
        (buttons("x" * 21), "Button title"),
        (buttons("Oui", "Oui"), "Button titles must be unique"),
        (list_message([{"id": f"/r{n}", "title": f"Row {n}"} for n in range(11)]), "Total row count"),
        (list_message([{"id": "/r", "title": "y" * 25}]), "Row title"),
        (list_message([{"id": "/r", "title": "ok", "description": "d" * 73}]), "Row description"),
        (list_message([{"id": "r" * 201, "title": "ok"}]), "Row id"),
        (list_message([{"id": "/r", "title": "ok"}], button="Choisissez une option"), "List button text"),
        (template("p" * 1025), "Template parameter text"),
    ],
)
def test_whatsapp_limits_are_enforced_with_graph_errors(sandbox, message, what):
    answer = whatsapp(sandbox, message)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == 131009 and what in error["error_data"]["details"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert recorded(sandbox) == []


def test_a_template_parameter_with_a_line_break_is_refused(sandbox):
    answer = whatsapp(sandbox, template("Paiement reçu\nMerci"))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 132018


def test_messages_at_the_limits_are_accepted(sandbox):
    assert whatsapp(sandbox, buttons("a" * 20, "b", "c")).status_code == 200
    rows = [{"id": f"/r{n}", "title": "t" * 24, "description": "d" * 72} for n in range(10)]
    assert whatsapp(sandbox, list_message(rows, button="c" * 20)).status_code == 200
    assert whatsapp(sandbox, template("p" * 1024)).status_code == 200
    assert [r["type"] for r in recorded(sandbox, channel="whatsapp")] == [
        "interactive/button",
        "interactive/list",
        "template",
    ]


def test_a_messenger_message_is_accepted_like_the_send_api_and_recorded(sandbox):
    quick_replies = [{"content_type": "text", "title": f"Option {n}", "payload": f"/p{n}"} for n in range(13)]
    answer = messenger(sandbox, {"text": "Choisissez", "quick_replies": quick_replies})
    assert answer.status_code == 200
    assert answer.json()["recipient_id"] == "6754123498765432" and answer.json()["message_id"].startswith("m_")
    (record,) = recorded(sandbox, to="6754123498765432", channel="messenger")
    assert record["type"] == "quick_replies" and record["from"] == "page"


@pytest.mark.parametrize(
    "message, extra",
    [
        ({"text": "x" * 2001}, {}),
        ({"text": "a", "quick_replies": [{"content_type": "text", "title": "t", "payload": "p"}] * 14}, {}),
        ({"text": "a", "quick_replies": [{"content_type": "text", "title": "t" * 21, "payload": "p"}]}, {}),
        ({"text": "a", "quick_replies": [{"content_type": "text", "title": "t", "payload": "p" * 1001}]}, {}),
        ({"text": "a"}, {"messaging_type": "MESSAGE_TAG"}),  # a tag is required outside the window
        ({"text": "a"}, {"messaging_type": "MESSAGE_TAG", "tag": "PROMOTION"}),
        ({}, {}),
    ],
)
def test_messenger_limits_are_enforced_with_graph_errors(sandbox, message, extra):
    answer = messenger(sandbox, message, **{"messaging_type": "RESPONSE", **extra})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100
    assert recorded(sandbox) == []


def test_messenger_needs_the_page_token(sandbox):
    answer = messenger(sandbox, {"text": "a"}, params={"access_token": "other"})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == 190
    assert messenger(sandbox, {"text": "a"}, "MESSAGE_TAG", tag="ACCOUNT_UPDATE").status_code == 200


def test_injected_faults_answer_graph_errors_and_a_reset_clears_the_record(sandbox):
    assert whatsapp(sandbox, {"type": "text", "text": {"body": "a"}}).status_code == 200
    requests.post(f"{sandbox}/_sandbox/faults", json={"service": "meta", "status": 429, "retry_after": 2}, timeout=5)
    answer = whatsapp(sandbox, {"type": "text", "text": {"body": "b"}})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "2"
    assert answer.json()["error"]["code"] == 130429
    requests.post(f"{sandbox}/_sandbox/faults", json={"service": "meta", "status": 503}, timeout=5)
    answer = messenger(sandbox, {"text": "c"})
    assert answer.status_code == 503 and answer.json()["error"]["code"] == 2
    assert len(recorded(sandbox)) == 1
    requests.post(f"{sandbox}/_sandbox/reset", timeout=10).raise_for_status()
    assert recorded(sandbox) == []
