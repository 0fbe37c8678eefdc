"""A manager's view: the dashboard in a real headless Chromium (Debian's), signed in, over the conversations of
seed.py; the figures on the page are the ones worked out by hand there. Without JavaScript errors, offline."""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.console.conftest import PASSWORD
from tests.console.seed import EXPECTED, FIRST, LAST
from tests.e2e.test_webchat_page import CHROMIUM_ARGS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RESULTS = Path(__file__).resolve().parent.parent.parent / "results"


@pytest.fixture
def console_env():
    return {}  # secure cookies, as in production: Chromium takes them from http://localhost


@pytest.fixture
def browser_page(console):
    if not CHROMIUM:
        pytest.fail("Debian's chromium is missing: make browser-deps")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page, errors, console.replace("127.0.0.1", "localhost")
        browser.close()


def sign_in(page, url: str, name: str = "vic") -> None:
    page.goto(f"{url}/")
    expect(page.locator("h1")).to_have_text("Sign in")  # anonymous: the login page
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("KPI dashboard")


def test_the_dashboard_shows_the_hand_counted_figures(browser_page):
    page, errors, url = browser_page
    sign_in(page, url)
    cookie = next(c for c in page.context.cookies() if c["name"] == "console_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.fill("input[name=from]", FIRST)
    page.fill("input[name=to]", LAST)
    page.click("form.filters button[type=submit]")
    for figure, value in EXPECTED.items():
        expect(page.locator(f"[data-figure={figure}]")).to_have_text(value)
    # every chart drawn by Chart.js, with its table
    for chart_id in ("active_users", "outcomes", "rates", "nps", "fallback", "intents", "journeys"):
        drawn = page.evaluate(f"Chart.getChart(document.getElementById('canvas-{chart_id}')) !== undefined")
        assert drawn, chart_id
    users = page.locator("#active_users table tbody tr")
    expect(users).to_have_count(3)
    expect(users.nth(2)).to_contain_text("2026-12-02")
    journeys = page.locator("#journeys table tbody tr", has_text="top_up").locator("td")
    assert journeys.all_text_contents() == ["top_up", "2", "2"]
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "console-dashboard.png"), full_page=True)
    # a filter: WhatsApp only
    page.select_option("select[name=channel]", "whatsapp")
    page.click("form.filters button[type=submit]")
    expect(page.locator("[data-figure=conversations]")).to_have_text("2")
    expect(page.locator("[data-figure=deflection_rate]")).to_have_text("100.0 %")
    # the CSV behind a chart
    with page.expect_download() as download:
        page.click("#outcomes a[download]")
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0] == ",self served,help centre,ticket,handoff,abandoned,in progress"
    assert rows[1:] == ["2026-11-30,0,1,0,0,0,0", "2026-12-01,0,0,0,0,0,0", "2026-12-02,0,0,0,0,1,0"]
    assert errors == []


def test_an_anonymous_visitor_gets_the_login_page(browser_page):
    page, errors, url = browser_page
    for path in ("/", "/campaigns", "/users"):
        page.goto(f"{url}{path}")
        expect(page.locator("h1")).to_have_text("Sign in")
        assert page.url == f"{url}/login"
    page.fill("input[name=name]", "vic")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Wrong name or password")
    assert errors == [] or all("401" in e for e in errors)
