"""The dialer's call outcomes over real HTTP: the sandbox plays the dialer (signed webhooks), the channel is served
by Sanic as Rasa mounts it; a missed call queues the day's follow-up, an answered one the survey, once each."""

import json

import aiohttp
import pytest
import requests
from sanic import Sanic

from common import signed_webhooks
from common.state import campaigns
from connectors.dialer_webhook import DialerWebhookInput, follow_up_for
from tests.conftest import running_sandbox
from tests.connectors.meta_helpers import Bot, serve


async def end_call(sandbox, **call):
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{sandbox}/_sandbox/dialer/calls", json=call) as answer:
            return await answer.json()


@pytest.fixture
async def dialer(tmp_path, instant, monkeypatch):
    """(the sandbox, playing the dialer, its webhooks going to the channel)"""
    monkeypatch.setattr(Sanic, "test_mode", True)  # one Sanic app per test
    async with serve(DialerWebhookInput(), Bot()) as url:
        with running_sandbox(tmp_path, SANDBOX_DIALER_WEBHOOK_URL=f"{url}/webhook") as sandbox:
            requests.post(f"{sandbox}/_sandbox/clock", json={"at": instant.isoformat(), "frozen": True}, timeout=10)
            yield sandbox, url


@pytest.mark.parametrize(
    "status, disposition, kind",
    [
        ("no_answer", "", "missed_call"),
        ("voicemail", "", "missed_call"),
        ("busy", "", "missed_call"),
        ("answered", "resolved", "post_call_survey"),
        ("answered", "callback", None),
        ("failed", "", None),
    ],
)
def test_what_each_outcome_calls_for(status, disposition, kind):
    assert follow_up_for(status, disposition) == kind


async def test_a_missed_call_queues_one_follow_up_a_day_whatever_the_redeliveries(dialer):
    sandbox, _ = dialer
    first = await end_call(sandbox, number="+229 01 97 00 00 01", status="no_answer", language="fr")
    assert first["delivery"]["status"] == 200 and "missed_call queued" in first["delivery"]["body"]
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{sandbox}/_sandbox/dialer/calls/{first['id']}/redeliver") as answer:
            assert "duplicate" in (await answer.json())["delivery"]["body"]
    second = await end_call(sandbox, number="+2290197000001", status="voicemail")  # another call, same day
    assert "already sent today" in second["delivery"]["body"]
    [row_id] = campaigns.due(10)
    row = campaigns.recipient(str(row_id))
    campaign = campaigns.get(row.campaign_id)
    assert (row.msisdn, row.language, campaign.kind) == ("+2290197000001", "fr", "missed_call")
    assert set(campaign.messages) == {"fr", "es", "en"}


async def test_an_answered_and_resolved_call_queues_the_survey(dialer):
    sandbox, _ = dialer
    await end_call(sandbox, number="+502 5512 3456", status="answered", disposition="resolved")
    [row_id] = campaigns.due(10)
    assert campaigns.get(campaigns.recipient(str(row_id)).campaign_id).kind == "post_call_survey"


async def test_an_unsigned_or_forged_call_is_refused(dialer):
    _, url = dialer
    body = json.dumps({"id": "call_x", "number": "+2290197000001", "status": "no_answer"}).encode()
    async with aiohttp.ClientSession() as client:
        for header in ("", signed_webhooks.sign(body, 1, "not-the-secret")):
            async with client.post(f"{url}/webhook", data=body, headers={"Dialer-Signature": header}) as answer:
                assert answer.status == 401
    assert campaigns.due(10) == []
