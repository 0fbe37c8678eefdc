"""request_loan against the sandbox: loan packs within the limit, the fee, the yes, the debt; refusals explained."""

from tests.actions.chat import AWA, CARLOS, MARIA, buckets, chat_as


async def test_request_a_loan_within_the_limit(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    text = await chat.say("je veux une avance", "request_loan")
    assert "jusqu'à 1 000 FCFA" in text
    await chat.tap("Avance Crédit 500 F")
    assert "frais 50 FCFA : vous devrez 550 FCFA" in chat.text
    text = await chat.say("oui", "affirm")
    assert "accordée" in text and "Dette à rembourser : 550 FCFA" in text
    assert buckets(operator, AWA, "main") == 3000


async def test_loan_refused_explains_the_debt(operator, domain):
    chat = chat_as(domain, f"line:{CARLOS}", "es")
    text = await chat.say("préstame megas", "request_loan", {"pack": "megas"})
    assert "¿Qué préstamo" in text or "Todavía debe" in text
    text = await chat.say("préstame Q20", "request_loan", {"amount": "Q20"})
    assert "Q15.00" in text  # what is still available


async def test_loans_are_for_prepaid_lines(operator, domain):
    chat = chat_as(domain, f"line:{MARIA}", "en")
    assert "only for prepaid lines" in await chat.say("lend me credit", "request_loan")
