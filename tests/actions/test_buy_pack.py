"""buy_pack against the sandbox: choosing a pack, what pays, the yes, the order; short on funds, a suspended line."""

from tests.actions.chat import AWA, CARLOS, JOHN, SUSPENDED, buckets, chat_as


async def test_buy_a_pack_lowers_the_balance_and_shows_in_the_quota(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    text = await chat.say("je veux un pass", "buy_pack")
    assert "Quel pass" in text and any("Pass Internet 1 Go · 500 FCFA" == b["title"] for b in chat.buttons)
    text = await chat.tap("Pass Internet 1 Go")
    assert "Pass Internet 1 Go (1 Go, valable 7 j) à 500 FCFA, payé avec : Crédit (2 500 FCFA)" in text
    data_before = buckets(operator, AWA, "data")
    text = await chat.say("oui", "affirm")
    assert "Pass Internet 1 Go activé" in text and "Solde principal restant : 2 000 FCFA" in text
    assert buckets(operator, AWA, "main") == 2000 and buckets(operator, AWA, "data") == data_before + 1024


async def test_a_pack_named_by_size_and_paid_from_the_wallet(operator, domain):
    chat = chat_as(domain, f"line:{CARLOS}", "es")
    text = await chat.say("quiero un paquete de 3 GB", "buy_pack", {"pack": "3 GB"})
    assert "¿Confirmamos?" in text, text
    text = await chat.tap("Billetera")
    assert "pagado con: Billetera" in text
    text = await chat.say("sí", "affirm")
    assert "Saldo restante en su billetera" in text


async def test_short_on_funds_offers_a_top_up_or_a_loan(operator, domain):
    chat = chat_as(domain, f"line:{JOHN}", "en")
    text = await chat.say("buy the 5 GB pack", "buy_pack", {"pack": "5 GB"})
    assert "isn't enough" in text
    assert {b["payload"] for b in chat.buttons} >= {"/top_up", "/request_loan"}


async def test_suspended_line_is_refused_with_a_way_to_an_agent(operator, domain):
    chat = chat_as(domain, f"line:{SUSPENDED}", "es")
    text = await chat.say("quiero un paquete", "buy_pack")
    assert "suspendida" in text and any(b["payload"] == "/human_handoff" for b in chat.buttons)
