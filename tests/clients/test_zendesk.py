"""The Zendesk adapter (zenpy) against the sandbox, over real HTTP."""

import pytest
import requests

from clients import BackendUnavailable
from clients.zendesk import ZendeskClient
from common import config


@pytest.fixture
def zendesk(operator, monkeypatch):
    return ZendeskClient(url=operator)


def test_a_ticket_is_created_once_per_reference(zendesk, operator):
    number = zendesk.create_ticket(
        subject="Internet coupé",
        body="Transcript: ...",
        external_id="conv-1:1",
        requester_phone="+2290197000001",
        tags=["chatbot", "fr"],
        priority="high",
    )
    assert number > 0
    assert zendesk.ticket_by_external_id("conv-1:1") == number
    assert zendesk.ticket_by_external_id("conv-unknown") is None
    tickets = requests.get(f"{operator}/_sandbox/zendesk/tickets", timeout=5).json()
    created = next(
        t for t in (tickets.get("tickets", tickets) if isinstance(tickets, dict) else tickets) if t["id"] == number
    )
    assert created["priority"] == "high" and "chatbot" in created["tags"]


@pytest.mark.parametrize(
    "query, language, word",
    [("configurer internet", "fr", "APN"), ("roaming", "es", "oaming"), ("PUK code", "en", "PUK")],
)
def test_help_center_search_in_the_customer_locale(zendesk, query, language, word):
    articles = zendesk.search_articles(query, language)
    assert articles and word in (articles[0].title + articles[0].snippet)
    assert articles[0].url.startswith("http")


def test_rate_limited_zendesk_is_unavailable_not_waited_for(zendesk, operator):
    requests.post(
        f"{operator}/_sandbox/faults",
        json={"service": "zendesk", "status": 429, "count": 5, "retry_after": 30},
        timeout=5,
    )
    with pytest.raises(BackendUnavailable):
        zendesk.search_articles("roaming", "en")


def test_config_points_at_the_sandbox_by_default():
    assert config.ZENDESK_URL.startswith("http://127.0.0.1")


def test_a_search_asks_one_page_of_the_results_it_keeps(zendesk, monkeypatch):
    """A query that matches many articles: one request for `limit` results, not every page of them."""
    urls, send = [], requests.Session.send

    def recorded(session, request, **kwargs):
        urls.append(request.url)
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", recorded)
    articles = zendesk.search_articles("internet", "fr", limit=2)
    assert len(articles) == 2 and len(urls) == 1 and "per_page=2" in urls[0]
    assert len(zendesk.search_articles("internet", "fr", limit=100)) > 2  # there were more to page through
