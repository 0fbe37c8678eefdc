"""last_invoices against the sandbox: the last three bills, newest first, status, due date, PDF link."""

import re
from dataclasses import replace
from datetime import timedelta

import pytest
import requests

from actions.formatting import date
from actions.identity import sessions
from actions.journeys.last_invoices import ActionLastInvoices
from clients.bss import BSSClient
from tests.conftest import make_tracker
from tests.sandbox.test_bss_helpers import BSS, PAYMENT

MARIA, CARLOS, HOME = "line:+50235500003", "line:+50255500002", "contract:HG-100004"
PAY_TITLE = {"fr": "Payer une facture", "es": "Pagar una factura", "en": "Pay an invoice"}
UNPAID = {"fr": "à payer", "es": "pendiente de pago", "en": "unpaid"}
PAID = {"fr": "payée", "es": "pagada", "en": "paid"}
OVERDUE = {"fr": "en retard", "es": "vencida", "en": "overdue"}


async def last_invoices(dispatcher, domain, subject, language):
    sessions.verify("test-user", subject, "otp")
    await ActionLastInvoices().run(dispatcher, make_tracker([], slots={"language": language}), domain)
    return dispatcher.messages


def bullets(message) -> list:
    return [row for row in message["text"].split("\n") if row.startswith("• ")]


def pay_card(operator, bill_id, amount, account):
    body = {
        "account": {"id": account},
        "paymentMethod": {"id": "card"},
        "totalAmount": {"unit": "GTQ", "value": amount},
        "paymentItem": [{"item": {"id": bill_id}, "totalAmount": {"unit": "GTQ", "value": amount}}],
        "correlatorId": f"test-{bill_id}-{amount}",
    }
    answer = BSS(operator).post(PAYMENT, body, key=None)
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("language", ["es", "fr", "en"])
async def test_maria_sees_her_three_invoices_newest_first(operator, dispatcher, domain, language):
    messages = await last_invoices(dispatcher, domain, MARIA, language)
    listing, pay = messages
    rows = bullets(listing)
    assert len(rows) == 3 and all("Q150.00" in row for row in rows)
    assert UNPAID[language] in rows[0] and PAID[language] in rows[1] and PAID[language] in rows[2]
    newest = BSSClient().bills("BA-0003")[0]
    assert newest.id == "CB-0003-003"
    assert date(newest.due_date, "America/Guatemala", language) in rows[0]
    assert re.findall(r"PDF ?: \S+/bills/(CB-[\d-]+)\.pdf\?sig=", listing["text"]) == [
        "CB-0003-003",
        "CB-0003-002",
        "CB-0003-001",
    ]
    assert {
        "es": "Total por pagar: Q150.00 (1 factura).",
        "fr": "Reste à payer : Q150.00 (1 facture).",
        "en": "Left to pay: Q150.00 (1 invoice).",
    }[language] == pay["text"]
    assert pay["buttons"] == [{"title": PAY_TITLE[language], "payload": "/pay_invoice"}]


async def test_the_pdf_links_are_absolute_and_open_without_a_token(operator, dispatcher, domain):
    listing = (await last_invoices(dispatcher, domain, MARIA, "en"))[0]
    urls = [row.split("PDF: ", 1)[1] for row in listing["text"].split("\n") if "PDF: " in row]
    assert len(urls) == 3 and all(url.startswith(f"{operator}/bss/documents/bills/") for url in urls)
    document = requests.get(urls[0], timeout=10)
    assert document.status_code == 200 and document.headers["Content-Type"].startswith("application/pdf")


@pytest.mark.parametrize("language", ["es", "fr", "en"])
async def test_the_home_contract_has_an_overdue_and_an_unpaid_invoice(operator, dispatcher, domain, language):
    listing, pay = await last_invoices(dispatcher, domain, HOME, language)
    rows = bullets(listing)
    assert len(rows) == 2 and all("Q299.00" in row for row in rows)
    assert UNPAID[language] in rows[0] and OVERDUE[language] in rows[1]
    assert "CB-0004-002" in listing["text"].split("\n")[2] and "CB-0004-001" in listing["text"].split("\n")[4]
    assert "Q598.00" in pay["text"] and "2" in pay["text"]
    assert pay["buttons"][0] == {"title": PAY_TITLE[language], "payload": "/pay_invoice"}


async def test_a_partly_paid_invoice_shows_what_is_left(operator, dispatcher, domain):
    pay_card(operator, "CB-0004-001", 50.0, "BA-0004")
    listing, pay = await last_invoices(dispatcher, domain, HOME, "es")
    assert "vencida ⚠️, quedan Q249.00 por pagar" in bullets(listing)[1]
    assert pay["text"] == "Total por pagar: Q548.00 (2 facturas)."


async def test_once_everything_is_paid_there_is_no_pay_button(operator, dispatcher, domain):
    pay_card(operator, "CB-0003-003", 150.0, "BA-0003")
    messages = await last_invoices(dispatcher, domain, MARIA, "fr")
    assert len(messages) == 1 and not messages[0]["buttons"]
    assert all("payée" in row for row in bullets(messages[0]))


@pytest.mark.parametrize(
    "language, expected",
    [("es", "Su línea es prepago"), ("fr", "Votre ligne est prépayée"), ("en", "Your line is prepaid")],
)
async def test_a_prepaid_line_has_no_invoices_and_is_offered_its_balance(
    operator, dispatcher, domain, language, expected
):
    (message,) = await last_invoices(dispatcher, domain, CARLOS, language)
    assert message["text"].startswith(expected)
    assert message["buttons"][0]["payload"] == "/check_balance"


async def test_nothing_billed_yet(operator, dispatcher, domain, monkeypatch):
    monkeypatch.setattr(BSSClient, "bills", lambda self, account_id, limit=None: [])
    (message,) = await last_invoices(dispatcher, domain, MARIA, "en")
    assert message["text"] == "You don't have any invoices yet." and not message["buttons"]


async def test_at_most_three_invoices_are_listed(operator, dispatcher, domain, monkeypatch):
    real = BSSClient.bills

    def with_older(self, account_id, limit=None):
        bills = real(self, account_id, limit)
        older = [
            replace(
                b,
                id=f"{b.id}-OLD",
                bill_date=b.bill_date - timedelta(days=90),
                document_url=b.document_url.replace(".pdf", "-OLD.pdf"),
            )
            for b in bills
        ]
        return bills + older

    monkeypatch.setattr(BSSClient, "bills", with_older)
    listing, _ = await last_invoices(dispatcher, domain, HOME, "en")
    assert len(bullets(listing)) == 3
    assert re.findall(r"/bills/(CB-[\w-]+)\.pdf", listing["text"]) == ["CB-0004-002", "CB-0004-001", "CB-0004-002-OLD"]


@pytest.mark.parametrize(
    "link, expected",
    [
        ("/bss/documents/bills/CB-1.pdf?sig=abc", "https://gw.example.com/bss/documents/bills/CB-1.pdf?sig=abc"),
        ("bss/documents/bills/CB-1.pdf", "https://gw.example.com/bss/documents/bills/CB-1.pdf"),
        ("http://docs.example.com/CB-1.pdf", "http://docs.example.com/CB-1.pdf"),
    ],
)
def test_relative_document_links_take_the_gateways_scheme_and_host(link, expected):
    assert BSSClient(base_url="https://gw.example.com/tmf-api").absolute_url(link) == expected


async def test_a_bss_outage_gives_a_clear_answer(operator, dispatcher, domain):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    (message,) = await last_invoices(dispatcher, domain, MARIA, "es")
    assert "Nuestros sistemas no responden" in message["text"] and "Q150.00" not in message["text"]
