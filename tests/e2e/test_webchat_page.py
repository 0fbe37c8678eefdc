"""A person's view: the web chat page in a real headless Chromium (Debian's), over socket.io."""

import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without these flags Chromium keeps trying to reach Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(assistant):
    if not CHROMIUM:
        pytest.fail("Debian's chromium is missing: make browser-deps")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.goto(assistant["webchat"])
        yield page
        browser.close()


def open_chat(page):
    """Opens the widget unless it is already open (it remembers that across reloads)."""
    launcher, box = page.locator(".rw-launcher"), page.locator(".rw-new-message")
    launcher.wait_for(state="visible", timeout=60_000)
    if not box.is_visible():
        launcher.click()
    box.wait_for(state="visible", timeout=30_000)
    return box


def test_opening_the_chat_greets_in_the_browser_language(page):
    open_chat(page)
    expect(page.locator(".rw-response").first).to_contain_text("Hello", timeout=60_000)


def test_a_spanish_greeting_gets_a_spanish_answer_with_buttons(page):
    box = open_chat(page)
    expect(page.locator(".rw-response").first).to_contain_text("Hello", timeout=60_000)
    box.fill("hola, buenas tardes")
    box.press("Enter")
    expect(page.locator(".rw-response").nth(1)).to_contain_text("¡Hola!", timeout=60_000)
    expect(page.locator(".rw-reply", has_text="Hablar con un asesor")).to_be_visible()


def test_the_conversation_survives_a_reload(page):
    box = open_chat(page)
    box.fill("bonjour")
    box.press("Enter")
    expect(page.locator(".rw-response", has_text="Bonjour")).to_be_visible(timeout=60_000)
    page.reload()
    open_chat(page)
    expect(page.locator(".rw-client", has_text="bonjour")).to_be_visible(timeout=30_000)
    expect(page.locator(".rw-response", has_text="Bonjour")).to_be_visible()
