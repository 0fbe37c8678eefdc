"""The sandbox's Sunshine Conversations v2: posting messages, passing control, what tests read back."""

import pytest
import requests

AUTH = ("app_sandbox", "sandbox-sunco-secret")
CONVERSATION = "c93bb9c14dde8ffb94564eae"


def url(sandbox, operation, conversation=CONVERSATION, app="sandbox-app"):
    return f"{sandbox}/sunco/v2/apps/{app}/conversations/{conversation}/{operation}"


def post_text(sandbox, content, auth=AUTH, author=None, **kwargs):
    body = {"author": author or {"type": "business"}, "content": content}
    return requests.post(url(sandbox, "messages", **kwargs), json=body, auth=auth, timeout=5)


def recorded(sandbox, what="messages", conversation=CONVERSATION):
    return requests.get(f"{sandbox}/_sandbox/sunco/{what}", params={"conversation": conversation}, timeout=5).json()


def test_a_text_message_is_accepted_answered_as_sunco_does_and_recorded(sandbox):
    answer = post_text(sandbox, {"type": "text", "text": "Hola 👋"})
    assert answer.status_code == 201
    (message,) = answer.json()["messages"]
    assert message["author"] == {"type": "business"} and message["content"] == {"type": "text", "text": "Hola 👋"}
    assert message["id"] and message["received"].endswith("Z")
    (kept,) = recorded(sandbox)
    assert kept["id"] == message["id"] and kept["content"]["text"] == "Hola 👋"
    assert recorded(sandbox, conversation="another") == []


def test_reply_actions_within_the_limits_are_accepted(sandbox):
    actions = [{"type": "reply", "text": f"Option {n}", "payload": f'/inform{{"option": "{n}"}}'} for n in range(10)]
    actions.append({"type": "link", "text": "Site", "uri": "https://example.com"})
    assert post_text(sandbox, {"type": "text", "text": "Choose", "actions": actions}).status_code == 201
    assert len(recorded(sandbox)[0]["content"]["actions"]) == 11


@pytest.mark.parametrize(
    "content, problem",
    [
        ({"type": "text", "text": "x" * 4097}, "4096"),
        ({"type": "text"}, "text"),
        ({"type": "carousel", "items": []}, "content.type"),
        ({"type": "text", "text": "t", "actions": [{"type": "reply", "text": "x" * 41, "payload": "/a"}]}, "40"),
        (
            {
                "type": "text",
                "text": "t",
                "actions": [{"type": "reply", "text": f"{n}", "payload": "/a"} for n in range(11)],
            },
            "at most 10",
        ),
        ({"type": "text", "text": "t", "actions": [{"type": "reply", "text": "Yes"}]}, "payload"),
        ({"type": "text", "text": "t", "actions": [{"type": "teleport", "text": "Go"}]}, "type"),
        ({"type": "image", "mediaUrl": "not a url"}, "mediaUrl"),
    ],
)
def test_messages_beyond_the_limits_are_refused_and_not_recorded(sandbox, content, problem):
    answer = post_text(sandbox, content)
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["code"] == "bad_request" and problem in error["title"]
    assert recorded(sandbox) == []


def test_exactly_4096_characters_is_fine(sandbox):
    assert post_text(sandbox, {"type": "text", "text": "é" * 4096}).status_code == 201


@pytest.mark.parametrize("auth", [None, ("app_sandbox", "wrong"), ("someone", "sandbox-sunco-secret")])
def test_calls_without_the_api_key_are_refused(sandbox, auth):
    answer = post_text(sandbox, {"type": "text", "text": "Hi"}, auth=auth)
    assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == "unauthorized"
    answer = requests.post(url(sandbox, "passControl"), json={"switchboardIntegration": "next"}, auth=auth, timeout=5)
    assert answer.status_code == 401
    assert recorded(sandbox) == [] and recorded(sandbox, "switchboard") == []


def test_another_apps_conversations_are_out_of_reach(sandbox):
    assert post_text(sandbox, {"type": "text", "text": "Hi"}, app="other-app").status_code == 403


def test_pass_control_is_recorded_with_its_metadata(sandbox):
    metadata = {"segment": "prepaid", "language": "es", "summary": "Quiere un préstamo", "vip": False, "score": 3}
    answer = requests.post(
        url(sandbox, "passControl"),
        auth=AUTH,
        timeout=5,
        json={"switchboardIntegration": "zd:agentWorkspace", "metadata": metadata},
    )
    assert (answer.status_code, answer.json()) == (200, {})
    (action,) = recorded(sandbox, "switchboard")
    assert action["action"] == "passControl" and action["switchboardIntegration"] == "zd:agentWorkspace"
    assert action["metadata"] == metadata and action["conversation"] == CONVERSATION


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"switchboardIntegration": ""},
        {"switchboardIntegration": "next", "metadata": {"identity": {"line": "+229"}}},  # not flat
        {"switchboardIntegration": "next", "metadata": {"tags": ["a", "b"]}},
        {"switchboardIntegration": "next", "metadata": {"summary": "x" * 4100}},  # over 4 KB
    ],
)
def test_pass_control_refuses_what_sunco_refuses(sandbox, body):
    answer = requests.post(url(sandbox, "passControl"), json=body, auth=AUTH, timeout=5)
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "bad_request"
    assert recorded(sandbox, "switchboard") == []


def test_injected_faults_hit_one_operation_count_times_and_reset_clears_them(sandbox):
    assert (
        requests.post(
            f"{sandbox}/_sandbox/sunco/faults", json={"operation": "passControl", "status": 503, "count": 2}, timeout=5
        ).status_code
        == 201
    )
    assert post_text(sandbox, {"type": "text", "text": "Hi"}).status_code == 201  # messages still work
    for _ in range(2):
        answer = requests.post(
            url(sandbox, "passControl"), json={"switchboardIntegration": "next"}, auth=AUTH, timeout=5
        )
        assert answer.status_code == 503
    assert (
        requests.post(
            url(sandbox, "passControl"), json={"switchboardIntegration": "next"}, auth=AUTH, timeout=5
        ).status_code
        == 200
    )
    requests.post(f"{sandbox}/_sandbox/sunco/faults", json={"operation": "messages", "count": 5}, timeout=5)
    requests.post(f"{sandbox}/_sandbox/reset", timeout=10).raise_for_status()
    assert post_text(sandbox, {"type": "text", "text": "Hi"}).status_code == 201
    assert len(recorded(sandbox)) == 1 and recorded(sandbox, "switchboard") == []  # reset cleared both
