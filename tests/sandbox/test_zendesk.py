"""Zendesk Support and Help Center: zenpy works against the sandbox unchanged, and raw HTTP sees
Zendesk's shapes, status codes and errors."""

import time
from urllib.parse import urlsplit

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, CustomField, Ticket, User
from zenpy.lib.api_objects.help_centre_objects import Article
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

EMAIL, TOKEN = "bot@operator.example", "sandbox-zendesk-token"
AUTH = (f"{EMAIL}/token", TOKEN)
APN_ARTICLE, PUK_ARTICLE, ROAMING_ARTICLE = 360010001, 360010003, 360010002


def zenpy_for(sandbox_url, monkeypatch, **options):
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", urlsplit(sandbox_url).netloc)
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    return Zenpy(subdomain="operator", email=EMAIL, token=TOKEN, **options)


@pytest.fixture
def zenpy(sandbox, monkeypatch):
    return zenpy_for(sandbox, monkeypatch)


@pytest.fixture
def site(sandbox_url):
    """The sandbox without a reset: the Help Center is read-only."""
    return sandbox_url


@pytest.fixture
def zenpy_reader(site, monkeypatch):
    return zenpy_for(site, monkeypatch)


def handoff_ticket(**overrides):
    fields = dict(
        subject="Fallo de datos móviles",
        comment=Comment(body="Resumen del bot: sin datos desde ayer", public=False),
        requester=User(name="Carlos Pérez", email="carlos@example.com"),
        tags=["chatbot", "mobile_data"],
        priority="normal",
        type="incident",
        external_id="rasa-conv-abc",
        custom_fields=[CustomField(id=360001234567, value="+50255500002")],
    )
    fields.update(overrides)
    return Ticket(**fields)


def all_tickets(sandbox):
    return requests.get(f"{sandbox}/_sandbox/zendesk/tickets", timeout=10).json()


def fault(sandbox, **body):
    requests.post(f"{sandbox}/_sandbox/faults", json={"service": "zendesk", **body}, timeout=10).raise_for_status()


# --- tickets -----------------------------------------------------------------------------------------


def test_zenpy_creates_a_ticket_and_gets_a_ticket_audit(sandbox, zenpy):
    audit = zenpy.tickets.create(handoff_ticket())
    assert type(audit).__name__ == "TicketAudit"
    ticket = audit.ticket
    assert ticket.id > 0
    assert ticket.status == "new"
    assert ticket.subject == "Fallo de datos móviles"
    assert ticket.description == "Resumen del bot: sin datos desde ayer"
    assert ticket.tags == ["chatbot", "mobile_data"]
    assert ticket.external_id == "rasa-conv-abc"
    assert (ticket.priority, ticket.type) == ("normal", "incident")
    assert ticket.custom_fields == [{"id": 360001234567, "value": "+50255500002"}]
    assert audit.audit.ticket_id == ticket.id
    assert audit.audit.events[0]["type"] == "Comment" and audit.audit.events[0]["public"] is False

    stored = all_tickets(sandbox)
    assert len(stored) == 1
    assert stored[0]["requester"]["name"] == "Carlos Pérez"
    assert stored[0]["requester"]["email"] == "carlos@example.com"
    assert stored[0]["requester_id"] == stored[0]["requester"]["id"] != stored[0]["submitter_id"]
    assert [(c["body"], c["public"]) for c in stored[0]["comments"]] == [
        ("Resumen del bot: sin datos desde ayer", False)
    ]
    assert stored[0]["is_public"] is False


def test_zenpy_reads_the_ticket_back_and_finds_it_by_external_id(sandbox, zenpy):
    created = zenpy.tickets.create(handoff_ticket()).ticket
    zenpy.tickets.create(handoff_ticket(external_id="other-conversation"))

    ticket = zenpy.tickets(id=created.id)
    assert ticket.subject == "Fallo de datos móviles"
    assert ticket.requester.email == "carlos@example.com"  # zenpy follows requester_id to /users/<id>.json
    assert [t.id for t in zenpy.tickets(external_id="rasa-conv-abc")] == [created.id]
    with pytest.raises(RecordNotFoundException):
        zenpy.tickets(id=999999)


def test_known_requester_is_reused(sandbox, zenpy):
    first = zenpy.tickets.create(handoff_ticket()).ticket
    second = zenpy.tickets.create(handoff_ticket(requester=User(name="C. Pérez", email="CARLOS@example.com"))).ticket
    assert first.requester_id == second.requester_id


def test_requester_by_phone_and_public_comment(sandbox):
    body = {
        "ticket": {
            "subject": "Problème de réseau",
            "comment": {"body": "Pas de réseau à Parakou", "public": True},
            "requester": {"name": "Koffi", "phone": "+2290166000006"},
            "group_id": 42,
        }
    }
    response = requests.post(f"{sandbox}/api/v2/tickets", json=body, auth=AUTH, timeout=10)
    assert response.status_code == 201
    payload = response.json()
    assert set(payload) == {"ticket", "audit"}
    assert payload["ticket"]["group_id"] == 42
    assert payload["ticket"]["status"] == "new"
    assert response.headers["Location"] == payload["ticket"]["url"]
    assert payload["ticket"]["created_at"].endswith("Z")
    stored = all_tickets(sandbox)[0]
    assert stored["requester"]["phone"] == "+2290166000006"
    assert stored["comments"][0]["public"] is True

    listed = requests.get(f"{sandbox}/api/v2/tickets.json", params={"external_id": "nope"}, auth=AUTH, timeout=10)
    assert listed.json() == {"tickets": [], "next_page": None, "previous_page": None, "count": 0}


def test_idempotency_key_never_makes_a_second_ticket(sandbox):
    body = {"ticket": {"subject": "Handoff", "comment": {"body": "resumen"}, "external_id": "conv-1"}}
    headers = {"Idempotency-Key": "handoff-conv-1"}
    first = requests.post(f"{sandbox}/api/v2/tickets.json", json=body, auth=AUTH, headers=headers, timeout=10)
    again = requests.post(f"{sandbox}/api/v2/tickets.json", json=body, auth=AUTH, headers=headers, timeout=10)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.headers["x-idempotency-lookup"] == "miss" and again.headers["x-idempotency-lookup"] == "hit"
    assert again.json()["ticket"]["id"] == first.json()["ticket"]["id"]
    assert len(all_tickets(sandbox)) == 1

    changed = {"ticket": {**body["ticket"], "subject": "Other"}}
    conflict = requests.post(f"{sandbox}/api/v2/tickets.json", json=changed, auth=AUTH, headers=headers, timeout=10)
    assert conflict.status_code == 400
    assert conflict.json()["error"] == "IdempotentRequestError"
    assert len(all_tickets(sandbox)) == 1


@pytest.mark.parametrize("auth", [None, (f"{EMAIL}/token", "wrong"), ("someone@else/token", TOKEN), (EMAIL, TOKEN)])
def test_bad_credentials_are_refused(sandbox, auth):
    body = {"ticket": {"subject": "x", "comment": {"body": "y"}}}
    response = requests.post(f"{sandbox}/api/v2/tickets.json", json=body, auth=auth, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}
    assert requests.get(f"{sandbox}/api/v2/tickets/1.json", auth=auth, timeout=10).status_code == 401
    assert all_tickets(sandbox) == []


@pytest.mark.parametrize(
    "ticket, field",
    [
        ({"subject": "no comment"}, "base"),
        ({"subject": "x", "comment": {"body": "y"}, "priority": "asap"}, "priority"),
        ({"subject": "x", "comment": {"body": "y"}, "type": "bug"}, "type"),
        ({"subject": "x", "comment": {"body": "y"}, "requester_id": 424242}, "requester"),
    ],
)
def test_invalid_tickets_get_422(sandbox, ticket, field):
    response = requests.post(f"{sandbox}/api/v2/tickets.json", json={"ticket": ticket}, auth=AUTH, timeout=10)
    assert response.status_code == 422
    assert response.json()["error"] == "RecordInvalid"
    assert field in response.json()["details"]
    assert all_tickets(sandbox) == []


def test_body_without_ticket_is_a_400(sandbox):
    response = requests.post(f"{sandbox}/api/v2/tickets.json", json={"subject": "x"}, auth=AUTH, timeout=10)
    assert response.status_code == 400


def test_get_unknown_ticket_is_record_not_found(sandbox):
    response = requests.get(f"{sandbox}/api/v2/tickets/4242.json", auth=AUTH, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"] == "RecordNotFound"


# --- Help Center ---------------------------------------------------------------------------------------


def search(base, **params):
    response = requests.get(f"{base}/api/v2/help_center/articles/search.json", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_zenpy_search_returns_articles_with_snippets(site, zenpy_reader):
    results = list(zenpy_reader.help_center.articles.search(query="roaming", locale="es"))
    assert results and all(isinstance(article, Article) for article in results)
    best = results[0]
    assert best.id == ROAMING_ARTICLE
    assert best.locale == "es"
    assert "<em>" in best.snippet and "roaming" in best.snippet.lower()
    assert best.html_url.endswith(
        f"/hc/es/articles/{ROAMING_ARTICLE}-Roaming-Activar-Tu-Linea-En-El-Extranjero-Y-Tarifas"
    )
    assert "<table>" in best.body


def test_search_result_shape_and_pagination(site, zenpy_reader):
    everything = search(site, query="internet", locale="fr", per_page=100)
    assert everything["count"] >= 4
    page = search(site, query="internet", locale="fr", per_page=2)
    assert (page["page"], page["per_page"], page["previous_page"]) == (1, 2, None)
    assert page["count"] == everything["count"]
    assert page["page_count"] == -(-everything["count"] // 2)
    assert page["next_page"] and "page=2" in page["next_page"]
    result = page["results"][0]
    assert result["result_type"] == "article"
    for field in ("id", "title", "body", "html_url", "locale", "label_names", "section_id", "snippet", "url"):
        assert field in result
    second = requests.get(page["next_page"], timeout=10).json()
    assert second["page"] == 2 and second["previous_page"]
    assert [r["id"] for r in page["results"] + second["results"]] == [r["id"] for r in everything["results"][:4]]
    # zenpy follows next_page until the end.
    assert (
        len(list(zenpy_reader.help_center.articles.search(query="internet", locale="fr", per_page=2)))
        == everything["count"]
    )


@pytest.mark.parametrize(
    "locale, query, expected",
    [
        ("fr", "configurer internet", APN_ARTICLE),
        ("fr", "comment parametrer les donnees sur mon telephone", APN_ARTICLE),
        ("fr", "itinérance", ROAMING_ARTICLE),
        ("fr", "ma puce est bloquée", PUK_ARTICLE),
        ("fr", "frais de retrait mobile money", 360010006),
        ("fr", "j'ai oublié mon code secret mobile money", 360010007),
        ("fr", "rembourser mon prêt", 360010009),
        ("fr", "mot de passe wifi de la box", 360010013),
        ("es", "configurar internet", APN_ARTICLE),
        ("es", "olvidé el pin de mi billetera", 360010007),
        ("es", "no tengo señal", 360010012),
        ("es", "reclamar un cobro de mi factura", 360010010),
        ("es", "portabilidad", 360010005),
        ("en-us", "how do I set up internet on my phone", APN_ARTICLE),
        ("en-us", "roaming rates", ROAMING_ARTICLE),
        ("en-us", "someone stole my sim", 360010004),
        ("en-us", "store opening hours", 360010016),
        ("en-us", "pack validity", 360010008),
    ],
)
def test_relevance(site, locale, query, expected):
    results = search(site, query=query, locale=locale)["results"]
    assert results and results[0]["id"] == expected, [r["title"] for r in results[:3]]
    assert all(r["locale"] == locale for r in results)


def test_accents_do_not_matter(site):
    with_accents = search(site, query="itinérance à l'étranger", locale="fr")
    without = search(site, query="itinerance a l etranger", locale="fr")
    assert [r["id"] for r in with_accents["results"]] == [r["id"] for r in without["results"]]


def test_unknown_words_find_nothing_and_unknown_locale_is_empty(site):
    assert search(site, query="xylophone", locale="fr")["results"] == []
    assert search(site, query="roaming", locale="de")["count"] == 0
    everywhere = search(site, query="roaming", locale="*")
    assert {r["locale"] for r in everywhere["results"] if r["id"] == ROAMING_ARTICLE} == {"fr", "es", "en-us"}


def test_search_needs_a_query(site):
    response = requests.get(f"{site}/api/v2/help_center/articles/search.json", params={"locale": "fr"}, timeout=10)
    assert response.status_code == 400
    by_label = search(site, label_names="puk", locale="es")
    assert [r["id"] for r in by_label["results"]] == [PUK_ARTICLE]


def test_every_locale_has_the_same_articles(site):
    ids = {}
    for locale in ("fr", "es", "en-us"):
        listed = requests.get(f"{site}/api/v2/help_center/{locale}/articles.json", params={"per_page": 100}, timeout=10)
        assert listed.status_code == 200
        articles = listed.json()["articles"]
        assert len(articles) >= 16
        assert all(a["locale"] == locale and a["body"].strip() and a["title"] for a in articles)
        ids[locale] = [a["id"] for a in articles]
    assert ids["fr"] == ids["es"] == ids["en-us"]


def test_article_json_and_html_page(site):
    response = requests.get(f"{site}/api/v2/help_center/fr/articles/{APN_ARTICLE}.json", timeout=10)
    assert response.status_code == 200
    article = response.json()["article"]
    assert article["title"] == "Configurer internet (APN) sur Android et iPhone"
    assert article["locale"] == "fr" and article["section_id"] == 360001001

    page = requests.get(article["html_url"], timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Configurer internet (APN) sur Android et iPhone" in page.text
    assert "Noms des points d'accès" in page.text
    assert requests.get(f"{site}/hc/fr/articles/{APN_ARTICLE}", timeout=10).status_code == 200
    assert requests.get(f"{site}/hc/fr/articles/1-nothing", timeout=10).status_code == 404
    missing = requests.get(f"{site}/api/v2/help_center/fr/articles/1.json", timeout=10)
    assert (missing.status_code, missing.json()["error"]) == (404, "RecordNotFound")


# --- failures ----------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(sandbox):
    fault(sandbox, status=429, count=1, retry_after=7)
    limited = requests.get(f"{sandbox}/api/v2/help_center/articles/search.json", params={"query": "puk"}, timeout=10)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["error"] == "APIRateLimitExceeded"
    assert requests.get(f"{sandbox}/api/v2/help_center/articles/search.json", params={"query": "puk"}, timeout=10).ok


def test_zenpy_waits_out_a_rate_limit_then_succeeds(sandbox, zenpy):
    fault(sandbox, status=429, count=1, retry_after=1)
    started = time.monotonic()
    audit = zenpy.tickets.create(handoff_ticket())
    assert time.monotonic() - started >= 1
    assert audit.ticket.id and len(all_tickets(sandbox)) == 1


def test_zenpy_raises_when_the_rate_limit_exceeds_its_budget(sandbox, monkeypatch):
    # zenpy 2.0.57 has no raise_on_ratelimit; a ratelimit_budget is how a caller refuses to wait.
    zenpy = zenpy_for(sandbox, monkeypatch, ratelimit_budget=1)
    fault(sandbox, status=429, count=1, retry_after=30)
    started = time.monotonic()
    with pytest.raises(RatelimitBudgetExceeded):
        zenpy.tickets.create(handoff_ticket())
    assert time.monotonic() - started < 5
    assert all_tickets(sandbox) == []


def test_zenpy_raises_on_an_outage(sandbox, zenpy):
    fault(sandbox, status=503, count=1)
    with pytest.raises(APIException) as raised:
        zenpy.tickets.create(handoff_ticket())
    assert raised.value.response.status_code == 503
    assert "ServiceUnavailable" in str(raised.value)
    assert all_tickets(sandbox) == []
