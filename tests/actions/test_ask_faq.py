"""Help Center answers against the sandbox's Zendesk: the right article in the customer's locale, the
yes / no follow-up, nothing found, Zendesk down, and messages the assistant did not understand."""

import pytest

from actions.journeys.ask_faq import gist, relevant
from clients.zendesk import Article
from tests.actions.care_chat import CareChat, clear_faults, fault, outcomes_recorded, zendesk  # noqa: F401

APN, ROAMING, PUK, PORTING, COVERAGE = 360010001, 360010002, 360010003, 360010005, 360010020


@pytest.mark.parametrize(
    "language, question, article, locale, words",
    [
        (
            "fr",
            "comment configurer internet sur mon téléphone",
            APN,
            "fr",
            ["Configurer internet (APN)", "Est-ce que cela répond"],
        ),
        ("es", "cómo activo el roaming", ROAMING, "es", ["Roaming: activar tu línea", "¿Esto responde a su pregunta?"]),
        ("en", "how do I get my PUK", PUK, "en-us", ["SIM card blocked: getting your PUK code", "Did this answer"]),
        ("en", "can I keep my number if I switch operator", PORTING, "en-us", ["Number porting"]),
        ("fr", "est-ce qu'il y a la 4G dans mon village", COVERAGE, "fr", ["Couverture réseau"]),
        ("es", "hay cobertura en mi aldea", COVERAGE, "es", ["Cobertura: dónde hay 4G"]),
        ("en", "is there network coverage in my village", COVERAGE, "en-us", ["Network coverage"]),
    ],
)
async def test_the_best_article_in_the_customer_locale_with_its_gist_and_link(
    zendesk, domain, language, question, article, locale, words
):
    chat = CareChat(domain, language)
    text = await chat.say(question, "ask_faq")
    assert f"/hc/{locale}/articles/{article}-" in text
    for word in words:
        assert word in text
    assert [b["payload"] for b in chat.buttons] == ["/affirm", "/deny"]
    assert chat.slots["pending_journey"] == "ask_faq" and chat.slots["awaiting_answer"] is True


async def test_the_gist_is_the_article_opening_in_plain_text(zendesk, domain):
    chat = CareChat(domain, "fr")
    text = await chat.say("comment configurer internet sur mon téléphone", "ask_faq")
    assert "votre téléphone n'a peut-être pas les bons paramètres internet (APN)." in text
    assert "<p>" not in text and "<strong>" not in text


async def test_yes_thanks_and_counts_a_help_centre_answer(zendesk, domain):
    chat = CareChat(domain, "es")
    await chat.say("cómo activo el roaming", "ask_faq")
    text = await chat.say("sí", "affirm")
    assert "me alegra haberle ayudado" in text
    assert chat.slots["pending_journey"] is None and chat.slots["awaiting_answer"] is False
    assert outcomes_recorded() == [("help_centre", f"ask_faq:{ROAMING}")]


async def test_no_offers_a_ticket_or_an_agent(zendesk, domain):
    chat = CareChat(domain, "en")
    await chat.say("how do I get my PUK", "ask_faq")
    text = await chat.say("no", "deny")
    assert "I can pass your request to our team or put you through to an agent" in text
    assert [b["payload"] for b in chat.buttons] == ["/create_ticket", "/human_handoff"]
    assert chat.slots["awaiting_answer"] is False and outcomes_recorded() == []


@pytest.mark.parametrize(
    "language, question, expected",
    [
        ("fr", "je veux commander une pizza", "Je n'ai trouvé aucun article"),
        ("es", "quién ganó el partido de ayer", "No encontré ningún artículo"),
        ("en", "what's the weather tomorrow", "I couldn't find an article"),
    ],
)
async def test_nothing_relevant_says_so_and_offers_ticket_or_agent(zendesk, domain, language, question, expected):
    chat = CareChat(domain, language)
    text = await chat.say(question, "ask_faq")
    assert expected in text
    assert [b["payload"] for b in chat.buttons] == ["/create_ticket", "/human_handoff"]
    assert chat.slots.get("pending_journey") is None


async def test_zendesk_down_says_so_and_offers_an_agent(zendesk, domain):
    fault(zendesk, 503, 5)
    chat = CareChat(domain, "fr")
    text = await chat.say("comment avoir mon code PUK", "ask_faq")
    assert "Notre centre d'aide ne répond pas" in text
    assert [b["payload"] for b in chat.buttons] == ["/human_handoff"]
    clear_faults(zendesk)


async def test_rate_limited_zendesk_is_not_waited_for(zendesk, domain):
    fault(zendesk, 429, 5, retry_after=30)
    chat = CareChat(domain, "en")
    text = await chat.say("how do I get my PUK", "ask_faq")
    assert "help centre isn't responding" in text
    clear_faults(zendesk)


async def test_a_tap_on_ask_faq_asks_for_the_question(zendesk, domain):
    chat = CareChat(domain, "es")
    text = await chat.say("/ask_faq", "ask_faq")
    assert "¿Cuál es su pregunta?" in text


# --- messages the assistant did not understand ------------------------------------------------------
async def test_a_not_understood_question_the_help_centre_knows_gets_the_article(zendesk, domain):
    chat = CareChat(domain, "fr")
    text = await chat.say("la portabilité de mon numéro ça marche comment", "nlu_fallback")
    assert text.startswith("Je ne suis pas sûr d'avoir bien compris")
    assert f"/hc/fr/articles/{PORTING}-" in text
    assert chat.slots["pending_journey"] == "ask_faq"


@pytest.mark.parametrize(
    "language, message", [("fr", "mon chat est malade"), ("es", "el perro come mucho"), ("en", "tell me a joke")]
)
async def test_a_not_understood_message_the_help_centre_does_not_know_asks_to_rephrase(
    zendesk, domain, language, message
):
    chat = CareChat(domain, language)
    text = await chat.say(message, "nlu_fallback")
    assert (
        text
        == {
            "fr": "Je n'ai pas bien compris 🤔 Pouvez-vous le dire autrement ?",
            "es": "No le entendí bien 🤔 ¿Me lo puede decir de otra forma?",
            "en": "I didn't quite get that 🤔 Could you say it another way?",
        }[language]
    )
    assert chat.returned == []


async def test_a_not_understood_message_with_zendesk_down_asks_to_rephrase(zendesk, domain):
    fault(zendesk, 503, 5)
    chat = CareChat(domain, "en")
    assert (
        await chat.say("puk code blocked sim", "nlu_fallback")
        == "I didn't quite get that 🤔 Could you say it another way?"
    )
    clear_faults(zendesk)


# --- the pieces -------------------------------------------------------------------------------------------
def test_gist_keeps_two_sentences_within_300_characters():
    body = "<p>First sentence here. Second <strong>one</strong>. Third one is left out.</p><p>Other paragraph.</p>"
    assert gist(body) == "First sentence here. Second one."
    long_body = "<p>" + "word " * 100 + "end.</p>"
    assert len(gist(long_body)) <= 300 and gist(long_body).endswith("…")


def test_relevance_needs_a_title_word_and_half_of_the_question():
    article = Article(
        id=1,
        title="Roaming: using your line abroad",
        snippet="",
        url="u",
        body="<p>Activate roaming before you travel.</p>",
        labels=("roaming",),
    )
    assert relevant("how do I activate roaming", article, "en")
    assert not relevant("activate my new credit card", article, "en")
    assert not relevant("how do I", article, "en")
