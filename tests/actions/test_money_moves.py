"""Top-up, packs, add-ons, loans, offers and invoice payment against the sandbox, turn by turn:
choices, the explicit yes, exactly-once execution, and the unhappy paths."""
import pytest
import requests

from actions.identity import sessions
from tests.actions.chat import Chat

AWA, CARLOS, MARIA, JOHN, SUSPENDED = "+2290197000001", "+50255500002", "+50235500003", "+2290196000005", "+50255500007"
HOGAR = "HG-100004"


def chat_as(domain, subject: str, language: str = "en") -> Chat:
    sessions.verify("test-user", subject, "otp")
    return Chat(domain, language)


def buckets(sandbox, msisdn, kind):
    found = requests.get(f"{sandbox}/tmf-api/prepayBalanceManagement/v4/bucket",
                         params={"logicalResource.id": msisdn}, headers=token(sandbox), timeout=5).json()
    return sum(b["remainingValue"]["amount"] for b in found if b["bucketType"] == kind and b["status"] == "active")


def token(sandbox):
    reply = requests.post(f"{sandbox}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("assistant", "sandbox-secret"), timeout=5).json()
    return {"Authorization": f"Bearer {reply['access_token']}"}


# --- top-up --------------------------------------------------------------------------------------
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
    text = await chat.say("top up 500 for 96 00 00 05 with my wallet", "top_up",
                          {"amount": "500", "phone_number": "96 00 00 05", "payment_method": "wallet"})
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
    session = requests.get(f"{operator}/v1/checkout/sessions/{session_id}",
                           headers={"Authorization": "Bearer sk_test_sandbox"}, timeout=5).json()
    assert session["client_reference_id"] == f"topup:{AWA}" and session["amount_total"] == 2000
    assert session["metadata"]["conversation_id"] == "test-user"


async def test_top_up_of_a_postpaid_line_asks_for_a_prepaid_number(operator, domain):
    chat = chat_as(domain, f"line:{MARIA}", "es")
    text = await chat.say("quiero recargar", "top_up")
    assert "Las recargas son para líneas prepago" in text and "¿Qué número" in text


async def test_no_answers_no_money_moves(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    await chat.say("recharge 1000 avec mobile money", "top_up", {"amount": "1000", "payment_method": "wallet"})
    text = await chat.say("non", "deny")
    assert "rien n'a été changé ni débité" in text
    await chat.say("oui", "affirm")  # nothing pending any more: "what else can I do?"
    assert [r["response"] for r in chat.replies] == ["utter_anything_else"]
    assert buckets(operator, AWA, "wallet") == 15000


async def test_a_forged_confirmation_for_another_identity_is_refused(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 1000 from wallet", "top_up", {"amount": "1000", "payment_method": "wallet"})
    sessions.verify("test-user", f"line:{JOHN}", "otp")  # the conversation now holds another line
    text = await chat.say("yes", "affirm")
    assert "nothing waiting" in text
    assert buckets(operator, AWA, "wallet") == 15000


async def test_backend_down_at_the_yes_keeps_the_operation_for_a_retry(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 1000 from wallet", "top_up", {"amount": "1000", "payment_method": "wallet"})
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 50}, timeout=5)
    text = await chat.say("yes", "affirm")
    assert "aren't responding" in text
    requests.delete(f"{operator}/_sandbox/faults", timeout=5)
    text = await chat.say("yes", "affirm")
    assert "topped up" in text
    assert buckets(operator, AWA, "wallet") == 14000


# --- packs and add-ons -----------------------------------------------------------------------------
async def test_buy_a_pack_lowers_the_balance_and_shows_in_the_quota(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    text = await chat.say("je veux un pass", "buy_pack")
    assert "Quel pass" in text and any("Pass Internet 1 Go · 500 FCFA" == b["title"] for b in chat.buttons)
    text = await chat.tap("Pass Internet 1 Go")
    assert "Pass Internet 1 Go (1 GB, valable 7 j) à 500 FCFA, payé avec : Crédit (2 500 FCFA)" in text
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


async def test_subscribe_then_cancel_an_add_on(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    text = await chat.say("subscribe me to roaming", "buy_subscription", {"pack": "roaming"})
    assert "Roaming Afrique de l'Ouest add-on for 2,500 FCFA a month" in text
    await chat.say("yes", "affirm")
    assert "Roaming Afrique de l'Ouest is active" in chat.text
    text = await chat.say("stop my roaming", "cancel_subscription", {"pack": "roaming"})
    assert "Cancel Roaming Afrique de l'Ouest" in text
    text = await chat.say("yes", "affirm")
    assert "is cancelled" in text
    text = await chat.say("subscribe me to roaming", "buy_subscription", {"pack": "roaming"})
    assert "add-on for 2,500 FCFA" in text  # available again


async def test_suspended_line_is_refused_with_a_way_to_an_agent(operator, domain):
    chat = chat_as(domain, f"line:{SUSPENDED}", "es")
    text = await chat.say("quiero un paquete", "buy_pack")
    assert "suspendida" in text and any(b["payload"] == "/human_handoff" for b in chat.buttons)


# --- loans ---------------------------------------------------------------------------------------
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


# --- invoices ------------------------------------------------------------------------------------
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


# --- offers --------------------------------------------------------------------------------------
async def test_offers_are_buyable_in_one_tap(operator, domain):
    chat = chat_as(domain, f"line:{JOHN}", "en")
    text = await chat.say("any offers for me", "show_offers")
    assert "My suggestions for you" in text and 1 <= len(chat.buttons) <= 3
    first = chat.buttons[0]
    await chat.tap(first["title"])
    assert "Shall I go ahead?" in chat.text or "isn't enough" in chat.text


async def test_a_journey_needs_an_identity_first(operator, domain):
    chat = Chat(domain, "en")
    chat.slots["identified"] = False
    events_text = await chat.say("top up 1000", "top_up", {"amount": "1000"})
    assert events_text == ""
    assert chat.slots["pending_journey"] == "top_up"
    assert chat.slots["journey_draft"]["values"] == {"amount": "1000"}


async def test_a_timeout_while_moving_money_is_retried_with_the_same_key(operator, domain, monkeypatch):
    from actions.dialogue import operations
    from clients import BackendUnavailable

    real, keys = operations.EXECUTORS["top_up_wallet"], []

    def flaky(dispatcher, tracker, line, params, key):
        keys.append(key)
        if len(keys) == 1:
            real(dispatcher, tracker, line, params, key)  # the money moved, but the answer was lost
            raise BackendUnavailable("read timeout")
        return real(dispatcher, tracker, line, params, key)

    monkeypatch.setitem(operations.EXECUTORS, "top_up_wallet", flaky)
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 1000 from wallet", "top_up", {"amount": "1000", "payment_method": "wallet"})
    assert "Nothing will be charged twice" in await chat.say("yes", "affirm")
    assert "topped up" in await chat.say("yes", "affirm")
    assert keys[0] == keys[1]
    assert buckets(operator, AWA, "wallet") == 14000  # once, thanks to the idempotency key


async def test_what_was_asked_before_identification_is_kept_for_after_it(operator, domain):
    from actions.identity.dialogue import ActionStartIdentification
    from actions.journeys.buy_pack import ActionBuyPack

    chat = Chat(domain, "en")
    chat.slots["identified"] = False
    await chat.say("buy the 5 GB data pack", "buy_pack", {"pack": "5 GB"}, action=ActionStartIdentification)
    assert chat.slots["pending_journey"] == "buy_pack"
    assert chat.slots["journey_draft"]["values"] == {"pack": "5 GB"}
    sessions.verify("test-user", f"line:{JOHN}", "otp")
    chat.latest_action = "identify_form"  # resumed by action_identification_done, after the code
    text = await chat.say("123456", "inform", action=ActionBuyPack)
    assert "Pass Internet 5 Go costs 2,500 FCFA" in text
