"""top_up against the sandbox, turn by turn: amount, number and payment method, the explicit yes,
the wallet moved once, the card's hosted page, and the unhappy paths."""

import requests

from tests.actions.chat import AWA, CARLOS, JOHN, MARIA, buckets, chat_as


async def test_top_up_from_the_wallet_asks_amount_then_method_then_yes(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    text = await chat.say("je veux recharger", "top_up")
    assert "Quel montant" in text and "100 FCFA" in text and "100 000 FCFA" in text
    assert chat.slots["awaiting_answer"] is True
    text = await chat.say("1000", "inform")
    assert "Comment voulez-vous payer" in text and any("Mobile Money (15 000 FCFA)" in b["title"] for b in chat.buttons)
    text = await chat.tap("Mobile Money")
    assert "Recharge de 1 000 FCFA pour votre ligne" in text and "On valide ?" in text
    assert chat.slots["awaiting_confirmation"] is True
    assert buckets(operator, AWA, "wallet") == 15000  # nothing moved before the yes
    text = await chat.say("oui", "affirm")
    assert "Recharge de 1 000 FCFA effectuée" in text and "Nouveau solde principal : 3 500 FCFA" in text
    assert "Solde Mobile Money : 14 000 FCFA" in text
    assert buckets(operator, AWA, "main") == 3500 and buckets(operator, AWA, "wallet") == 14000
    # the customer (or the channel) says yes again: the money does not move twice
    text = await chat.say("oui", "affirm")
    assert "déjà fait" in text
    assert buckets(operator, AWA, "main") == 3500 and chat.slots["awaiting_confirmation"] is False


async def test_top_up_another_number_in_one_message_hides_their_balance(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    text = await chat.say(
        "top up 500 for 96 00 00 05 with my wallet",
        "top_up",
        {"amount": "500", "phone_number": "96 00 00 05", "payment_method": "wallet"},
    )
    assert "Top-up of 500 FCFA for +229 01 96 00 00 05" in text
    text = await chat.say("yes", "affirm")
    assert "500 FCFA topped up on +229 •• •• •• 00 05" in text and "New main balance" not in text
    assert buckets(operator, JOHN, "main") == 1300


async def test_out_of_range_amount_and_unknown_number_are_explained(operator, domain):
    chat = chat_as(domain, f"line:{CARLOS}", "es")
    text = await chat.say("recarga de 5000", "top_up", {"amount": "5000"})
    assert "entre Q5.00 y Q1,000.00" in text and "¿De cuánto" in text
    text = await chat.say("recarga al 5550 9999", "top_up", {"phone_number": "5550 9999", "amount": "Q25"})
    assert "No encuentro una línea prepago" in text


async def test_card_top_up_sends_the_hosted_page_link_never_asks_for_the_card(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 2000 by card", "top_up", {"amount": "2000", "payment_method": "card"})
    text = await chat.say("yes", "affirm")
    assert "/pay/cs_" in text and "Never type your card number" in text
    session_id = text.split("/pay/")[1].split()[0]
    session = requests.get(
        f"{operator}/v1/checkout/sessions/{session_id}", headers={"Authorization": "Bearer sk_test_sandbox"}, timeout=5
    ).json()
    assert session["client_reference_id"] == f"topup:{AWA}" and session["amount_total"] == 2000
    assert session["metadata"]["conversation_id"] == "test-user"


async def test_top_up_of_a_postpaid_line_asks_for_a_prepaid_number(operator, domain):
    chat = chat_as(domain, f"line:{MARIA}", "es")
    text = await chat.say("quiero recargar", "top_up")
    assert "Las recargas son para líneas prepago" in text and "¿Qué número" in text
