"""A campaign manager creates a campaign, uploads its list, previews it, starts and pauses it through the console's
pages (real HTTP, the CSRF token of the session in every form); the rows land where `python -m campaigns` puts them."""

import re

from common.state import campaigns
from tests.console.conftest import csrf_of, signed_in

LIST = (
    "numéro,nom,langue\n+229 97 00 00 01,Awa,fr\nnot a number,Bad,fr\n+50255500002,Luis,es\n+22997000001,Awa again,fr\n"
).encode()


def test_create_upload_preview_start_pause_and_report(console):
    manager = signed_in(console, "max")
    token = csrf_of(manager.get(f"{console}/campaigns", timeout=10).text)
    created = manager.post(
        f"{console}/campaigns",
        data={
            "csrf": token,
            "name": "Pass week-end",
            "kind": "offer",
            "fr": "Bonjour {name}, le pass week-end est là.",
            "es": "Hola {name}, llegó el pase de fin de semana.",
            "en": "Hi {name}, the weekend pass is here.",
            "starts_at": "2026-12-02T16:00+01:00",
            "rate": "30",
        },
        timeout=10,
    )
    campaign_id = re.search(r"/campaigns/(K-[0-9A-F]+)$", created.url).group(1)
    # the preview: each language as written and with a name
    assert "Bonjour Awa, le pass week-end est là." in created.text
    assert "Hola Awa, llegó el pase de fin de semana." in created.text
    assert "Hi {name}, the weekend pass is here." in created.text

    uploaded = manager.post(
        f"{console}/campaigns/{campaign_id}/upload",
        data={"csrf": token},
        files={"file": ("list.csv", LIST, "text/csv")},
        timeout=30,
    )
    summary = re.sub(r"<[^>]+>|\s+", " ", re.search(r'id="upload-summary">(.*?)</p>', uploaded.text, re.S).group(1))
    assert summary.split() == "2 numbers added, 1 duplicates, 1 rows rejected.".split()
    assert "not a number" in uploaded.text and "not a valid mobile number" in uploaded.text
    assert campaigns.report(campaign_id)["targeted"] == 2

    assert (
        manager.post(f"{console}/campaigns/{campaign_id}/start", data={"csrf": "stale"}, timeout=10).status_code == 403
    )
    assert campaigns.get(campaign_id).status == campaigns.DRAFT
    started = manager.post(f"{console}/campaigns/{campaign_id}/start", data={"csrf": token}, timeout=10)
    assert campaigns.get(campaign_id).status == campaigns.RUNNING and 'id="status">running' in started.text
    paused = manager.post(f"{console}/campaigns/{campaign_id}/pause", data={"csrf": token}, timeout=10)
    assert campaigns.get(campaign_id).status == campaigns.PAUSED and 'id="status">paused' in paused.text

    # the report shows every key report() gives, whatever they are
    for key in campaigns.report(campaign_id):
        assert f"<th>{key.replace('_', ' ')}</th>" in paused.text
    listing = manager.get(f"{console}/campaigns", timeout=10).text
    assert campaign_id in listing and "Pass week-end" in listing


def test_a_bad_campaign_is_refused_with_the_reason(console):
    manager = signed_in(console, "max")
    token = csrf_of(manager.get(f"{console}/campaigns", timeout=10).text)
    refused = manager.post(
        f"{console}/campaigns",
        data={"csrf": token, "name": "x", "kind": "offer", "fr": "Bonjour", "es": "", "en": "Hi", "rate": "10"},
        timeout=10,
    )
    assert refused.status_code == 400 and "missing: es" in refused.text
    assert campaigns.listing() == []
