"""Self-service journeys over the REST channel, whole conversations against the sandbox's fixture
customers, in each language: what the sandbox holds appears in the answers, and state really changes."""

import re

import pytest
import requests

from tests.e2e.conftest import language_of, stored_bytes


def plain(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies).replace("\u202f", " ").replace("\xa0", " ")


def payloads(replies):
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


@pytest.fixture(autouse=True)
def fresh_sandbox(assistant):
    requests.post(f"{assistant['sandbox']}/_sandbox/reset", timeout=10).raise_for_status()


def identify(send, assistant, first_message, number, msisdn):
    send(first_message)
    send(number)
    sent = requests.get(f"{assistant['sandbox']}/_sandbox/sms", params={"to": msisdn}, timeout=5).json()
    return send(re.search(r"\d{6}", sent[-1]["text"]).group(0))


def test_awa_tops_up_from_her_wallet_in_french(chat, assistant):
    send = chat()
    asked = identify(send, assistant, "je veux recharger mon crédit", "97 00 00 01", "+2290197000001")
    assert "Quel montant" in plain(asked), asked
    method = send("1000")
    assert "Comment voulez-vous payer" in plain(method), method
    summary = send('/top_up{"payment_method": "wallet"}')
    assert "Recharge de 1 000 FCFA" in plain(summary) and "/affirm" in payloads(summary)
    done = plain(send("oui"))
    assert "Nouveau solde principal : 3 500 FCFA" in done and "14 000 FCFA" in done, done
    assert "déjà fait" in plain(send("oui"))  # a second yes moves nothing
    assert "3 500 FCFA" in plain(send("quel est mon solde"))


def test_carlos_buys_a_pack_in_spanish_and_sees_it_in_his_quota(chat, assistant):
    send = chat()
    catalogue = identify(send, assistant, "quiero comprar un paquete de internet", "5550 0002", "+50255500002")
    assert language_of(catalogue) == "es"
    options = [p for p in payloads(catalogue) if p.startswith("/buy_pack")]
    assert options, catalogue
    summary = plain(send(options[0]))
    assert "¿Confirmamos?" in summary, summary
    done = plain(send("sí, confirmo"))
    assert "✅" in done and "Saldo principal restante" in done, done
    quota = plain(send("cuántos megas me quedan"))
    name = re.search(r"✅ (.+?) activado", done).group(1)
    assert name in quota, quota


def test_john_is_short_of_funds_then_borrows_in_english(chat, assistant):
    send = chat()
    refused = identify(send, assistant, "buy the 5 GB data pack", "+229 01 96 00 00 05", "+2290196000005")
    assert "isn't enough" in plain(refused) and "/request_loan" in payloads(refused), refused
    offer = send("/request_loan")
    assert "You can borrow up to 500 FCFA" in plain(offer), offer
    loan = [p for p in payloads(offer) if p.startswith("/request_loan")][0]
    summary = plain(send(loan))
    assert "repaid automatically from your next top-up" in summary
    done = plain(send("yes"))
    assert "granted" in done and "Debt to repay" in done, done
    assert "Debt to repay" in plain(send("how much do I owe on my loan"))


def test_maria_gets_a_payment_link_for_her_bill_never_a_card_question(chat, assistant):
    send = chat()
    answer = plain(identify(send, assistant, "quiero pagar mi factura", "3550 0003", "+50235500003"))
    assert "Q150.00" in answer and "/pay/cs_" in answer, answer
    warned = plain(send("mi tarjeta es 4242 4242 4242 4242"))
    assert "Nunca escriba su número de tarjeta" in warned
    assert b"4242 4242 4242 4242" not in stored_bytes(assistant["tracker_db"])


def test_a_suspended_line_is_refused_politely(chat, assistant):
    send = chat()
    answer = identify(send, assistant, "quiero recargar 20", "5550 0007", "+50255500007")
    assert "suspendida" in plain(answer) and "/human_handoff" in payloads(answer), answer


def test_sandbox_down_gets_a_clear_answer(chat, assistant):
    send = chat()
    identify(send, assistant, "how much credit do I have", "+229 01 96 00 00 05", "+2290196000005")
    requests.post(
        f"{assistant['sandbox']}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 100}, timeout=5
    )
    try:
        answer = send("buy a data pack")
        assert "aren't responding" in plain(answer) and "/human_handoff" in payloads(answer), answer
    finally:
        requests.delete(f"{assistant['sandbox']}/_sandbox/faults", timeout=5)
