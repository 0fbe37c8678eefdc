"""pay_invoice against the sandbox: by card on the hosted page (one page per bill), or from the wallet after a yes."""

from tests.actions.chat import AWA, HOGAR, MARIA, chat_as


async def test_pay_the_only_unpaid_invoice_by_card(operator, domain):
    chat = chat_as(domain, f"line:{MARIA}", "es")
    text = await chat.say("quiero pagar mi factura", "pay_invoice")
    assert "Q150.00" in text and "/pay/cs_" in text and "Nunca escriba su número de tarjeta" in text
    again = await chat.say("quiero pagar mi factura", "pay_invoice")
    assert again.split("/pay/")[1].split()[0] == text.split("/pay/")[1].split()[0]  # one page per bill


async def test_home_contract_chooses_which_invoice(operator, domain):
    chat = chat_as(domain, f"contract:{HOGAR}", "es")
    text = await chat.say("pagar factura", "pay_invoice")
    assert "¿Qué factura" in text and len(chat.buttons) == 2
    text = await chat.say("1", "inform")
    assert "Q299.00" in text and "/pay/cs_" in text


async def test_pay_an_invoice_from_the_wallet_marks_it_paid(operator, domain):
    chat = chat_as(domain, f"line:{MARIA}", "en")
    await chat.say("pay my bill", "pay_invoice")
    text = await chat.tap("Mobile wallet")
    assert "Pay invoice" in text and "Shall I go ahead?" in text
    text = await chat.say("yes", "affirm")
    assert "paid: Q150.00" in text
    text = await chat.say("pay my bill", "pay_invoice")
    assert "All your invoices are paid" in text


async def test_prepaid_lines_have_no_invoice_to_pay(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    text = await chat.say("payer ma facture", "pay_invoice")
    assert "prépay" in text
