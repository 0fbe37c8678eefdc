"""The campaign pages: list, create, upload the list, preview each language, start, pause, report. They call the
functions `python -m campaigns` calls (common/state/campaigns.py, campaigns/audience.py); viewers only read."""

import tempfile
from datetime import datetime
from pathlib import Path

from sanic.response import HTTPResponse, redirect

from campaigns.audience import read_file
from common import clock, config
from common.state import campaigns
from console.web import render, requires

LANGUAGES = ("fr", "es", "en")
UPLOAD_SUFFIXES = (".csv", ".xlsx")
PREVIEW_NAME = "Awa"  # what {name} becomes in the preview


async def list_page(request, error: str = "", status: int = 200, form=None) -> HTTPResponse:
    return render(
        request,
        "campaigns.html",
        status=status,
        campaigns=campaigns.listing(),
        kinds=campaigns.KINDS,
        languages=LANGUAGES,
        default_rate=config.CAMPAIGN_DEFAULT_RATE,
        error=error,
        form=form or {},
    )


async def create(request) -> HTTPResponse:
    form = request.form
    try:
        starts = datetime.fromisoformat(form.get("starts_at")) if form.get("starts_at") else clock.now()
        if starts.tzinfo is None:
            raise ValueError("the start time needs its UTC offset, e.g. 2026-12-07T09:00+01:00")
        made = campaigns.create(
            (form.get("name") or "").strip()[:120] or "unnamed",
            form.get("kind") or "",
            {language: form.get(language) or "" for language in LANGUAGES},
            starts,
            int(form.get("rate") or config.CAMPAIGN_DEFAULT_RATE),
        )
    except ValueError as error:
        return await list_page(request, str(error), status=400, form=dict((k, form.get(k)) for k in form))
    return redirect(f"/campaigns/{made.id}", status=303)


async def campaign_page(request, campaign_id: str, upload=None, status: int = 200, error: str = "") -> HTTPResponse:
    campaign = campaigns.get(campaign_id)
    if campaign is None:
        return render(request, "message.html", status=404, title="No such campaign", text=campaign_id)
    previews = {
        language: (campaign.messages.get(language, ""), campaigns.text_for(campaign, Sample(PREVIEW_NAME), language))
        for language in LANGUAGES
    }
    return render(
        request,
        "campaign.html",
        status=status,
        campaign=campaign,
        previews=previews,
        preview_name=PREVIEW_NAME,
        report=campaigns.report(campaign.id),
        upload=upload,
        error=error,
        may_manage=request.ctx.visitor.may("campaign_manager"),
    )


class Sample:
    """A recipient for the preview: only the name matters."""

    def __init__(self, name: str):
        self.name = name


async def upload(request, campaign_id: str) -> HTTPResponse:
    campaign = campaigns.get(campaign_id)
    if campaign is None:
        return await campaign_page(request, campaign_id)
    if campaign.status == campaigns.DONE:
        return await campaign_page(request, campaign_id, status=400, error="This campaign is done: create another.")
    sent = request.files.get("file")
    suffix = Path(sent.name or "").suffix.lower() if sent else ""
    if sent is None or suffix not in UPLOAD_SUFFIXES:
        return await campaign_page(request, campaign_id, status=400, error="Choose a .csv or .xlsx file.")
    with tempfile.TemporaryDirectory() as folder:  # read_file reads a path, as the command line does
        path = Path(folder) / f"list{suffix}"
        path.write_bytes(sent.body)
        try:
            audience = read_file(path)
        except Exception as error:  # noqa: BLE001 - a damaged file is the uploader's to fix, shown to them
            return await campaign_page(request, campaign_id, status=400, error=f"Could not read the file: {error}")
    added = campaigns.add_recipients(campaign.id, audience.rows)
    summary = {
        "added": added,
        "duplicates": audience.duplicates + len(audience.rows) - added,
        "rejected": audience.rejected,
    }
    return await campaign_page(request, campaign_id, upload=summary)


def status_change(status: str):
    async def change(request, campaign_id: str) -> HTTPResponse:
        campaign = campaigns.get(campaign_id)
        if campaign is not None and campaign.status != campaigns.DONE:
            campaigns.set_status(campaign.id, status)
        return redirect(f"/campaigns/{campaign_id}", status=303)

    return change


def register(app) -> None:
    app.add_route(requires("viewer")(list_page), "/campaigns", methods=["GET"], name="campaigns")
    app.add_route(requires("campaign_manager")(create), "/campaigns", methods=["POST"], name="create_campaign")
    app.add_route(requires("viewer")(campaign_page), "/campaigns/<campaign_id>", methods=["GET"], name="campaign")
    app.add_route(requires("campaign_manager")(upload), "/campaigns/<campaign_id>/upload", methods=["POST"])
    for action, status in (("start", campaigns.RUNNING), ("pause", campaigns.PAUSED)):
        app.add_route(
            requires("campaign_manager")(status_change(status)),
            f"/campaigns/<campaign_id>/{action}",
            methods=["POST"],
            name=f"{action}_campaign",
        )
