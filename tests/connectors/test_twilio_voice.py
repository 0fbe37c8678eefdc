"""The voice channel over real HTTP: the sandbox plays Twilio (signed webhooks, TwiML played back), the channel is
served by Sanic as Rasa mounts it, a stand-in answers for Rasa (the real assistant: tests/e2e/test_voice_over_twilio.py).
Business hours are read from the test's frozen clock: the connector runs in this process."""

import math
import struct
import wave
from datetime import datetime, timezone

import aiohttp
import pytest
import requests
from sanic import Sanic

from clients.bss import BSSClient
from clients.sms import SMSClient
from common import config
from common.speech import for_the_ear
from common.state import remembered_language
from common.state import voice_calls as calls
from common.state.care_kpi import ConversationOutcome, session
from connectors import voice_prompts
from connectors.twilio_voice import RasaConversation, TwilioVoiceInput, last_journey, valid_signature
from connectors.voice_ivr import IVR, queue_for
from sandbox.voice import signature
from tests.clock import WEEK, at_each_instant
from tests.conftest import sms_to
from tests.connectors.meta_helpers import Bot, serve

SATURDAY_AFTERNOON = datetime(2026, 12, 5, 15, 0, tzinfo=timezone.utc)  # Cotonou 16:00 (closed), Guatemala 09:00
CALLER = "+2290197000001"  # prepaid, Cotonou


async def sandbox_post(sandbox: str, path: str, **body):
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{sandbox}/_sandbox/voice/calls{path}", json=body) as answer:
            assert answer.status == 200, await answer.text()
            return await answer.json()


def said(turn) -> str:
    return " ".join(part.get("say") or part.get("play") for part in turn["heard"])


def tone(path, hertz: int = 440, seconds: float = 0.2) -> None:
    """A test recording: a short sine tone, as an operator's WAV would be (8 kHz mono 16-bit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        frames = int(8000 * seconds)
        audio.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hertz * i / 8000))) for i in range(frames))
        )


@pytest.fixture
async def ivr(sandbox, tmp_path, monkeypatch):
    """(sandbox, channel URL, the Rasa stand-in): the channel's IVR reads the sandbox's BSS and sends through its
    Kannel; Fon recordings for every prompt but `voice_next`, none for Bariba."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setattr(config, "VOICE_RECORDINGS_DIR", tmp_path / "voice")
    for prompt in voice_prompts.PROMPTS:
        if prompt != "voice_next":
            tone(tmp_path / "voice" / "fon" / f"{prompt}.wav")
    bot = Scripted()
    channel = TwilioVoiceInput(
        config.TWILIO_AUTH_TOKEN,
        ivr=IVR(
            BSSClient(base_url=f"{sandbox}/tmf-api", token_url=f"{sandbox}/oauth/token"),
            SMSClient(url=f"{sandbox}/cgi-bin/sendsms"),
        ),
        conversations=StandInConversation,
    )
    async with serve(channel, bot) as url:
        yield sandbox, f"{url}/webhook", bot


class Scripted(Bot):
    """The Rasa stand-in, answering each message with the next of `turns` (replies, slots after them), then with
    `replies` and no slots."""

    def __init__(self) -> None:
        super().__init__()
        self.turns, self.slots = [], {}

    async def __call__(self, message) -> None:
        if not self.turns:
            self.slots = {}
            return await super().__call__(message)
        self.received.append(message)
        replies, self.slots = self.turns.pop(0)
        for reply in replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))


class StandInConversation(RasaConversation):
    """The call's conversation with the stand-in: its slots are the ones it was scripted with."""

    async def slots(self):
        return dict(self.on_new_message.slots)


async def call(ivr, caller=CALLER):
    sandbox, url, _ = ivr
    return await sandbox_post(sandbox, "", **{"from": caller, "to": "+22921000000", "url": url})


def test_the_signature_is_twilio_s():
    params = {"CallSid": "CA1", "From": CALLER, "Digits": "1"}
    url = "https://ivr.example/webhooks/voice/webhook"
    good = signature(url, params, "token")
    assert valid_signature("token", url, params, good)
    assert not valid_signature("token", url, {**params, "Digits": "2"}, good)
    assert not valid_signature("token", url + "?x=1", params, good)
    assert not valid_signature("other", url, params, good)
    assert not valid_signature("", url, params, good) and not valid_signature("token", url, params, None)


async def test_an_unsigned_or_wrongly_signed_webhook_is_refused(ivr):
    _, url, bot = ivr
    params = {"CallSid": "CA1", "From": CALLER, "To": "+22921000000", "CallStatus": "ringing"}
    async with aiohttp.ClientSession() as client:
        async with client.post(url, data=params) as answer:
            assert answer.status == 403
        forged = {"X-Twilio-Signature": signature(url, params, "not-the-token")}
        async with client.post(url, data=params, headers=forged) as answer:
            assert answer.status == 403
        signed = {"X-Twilio-Signature": signature(url, params)}
        async with client.post(url, data=params, headers=signed) as answer:
            assert answer.status == 200 and answer.content_type == "text/xml"
    assert bot.received == [] and calls.find("CA1") is not None


async def test_the_first_call_chooses_a_language_by_key_and_the_next_starts_in_it(ivr):
    sandbox, _, bot = ivr
    first = await call(ivr)
    assert "Pour continuer en français, tapez 1." in said(first)
    assert "Para continuar en español, marque 2." in said(first) and "To continue in English, press 3." in said(first)
    assert first["gather"]["numDigits"] == "1" and first["gather"]["input"] == "dtmf speech"
    menu = await sandbox_post(sandbox, f"/{first['sid']}/keys", digits="2")
    assert "Para su saldo, marque 1." in said(menu) and menu["heard"][0]["language"] == "es-MX"
    assert remembered_language(f"caller:{CALLER}") == "es"
    second = await call(ivr)
    assert "Bienvenido" in said(second) and "Para su saldo, marque 1." in said(second)
    assert "Pour continuer en français" not in said(second) and bot.received == []


async def test_keys_become_the_journeys_intents_and_the_answer_is_said_for_the_ear(ivr):
    sandbox, _, bot = ivr
    bot.replies = [
        {"text": "Voici vos soldes :\n• Crédit principal : 2\u202f500 FCFA 💰\nDétails : https://x.example/a"}
    ]
    sid = (await call(ivr))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="1")  # French
    answer = await sandbox_post(sandbox, f"/{sid}/keys", digits="1")  # balance
    assert bot.texts == ["/check_balance"] and bot.received[0].sender_id == f"voice:{sid}"
    assert bot.received[0].input_channel == "voice" and bot.received[0].metadata == {"locale": "fr"}
    assert "Crédit principal : 2500 francs CFA." in said(answer)
    assert "http" not in said(answer) and "💰" not in said(answer) and "•" not in said(answer)
    assert "Autre chose ?" in said(answer)
    await sandbox_post(sandbox, f"/{sid}/keys", digits="3")
    await sandbox_post(sandbox, f"/{sid}/speech", text="combien de data il me reste")
    assert bot.texts[1:] == ["/usage_history", "combien de data il me reste"]


async def test_the_caller_number_answers_the_identification_and_the_code_is_typed(ivr):
    sandbox, _, bot = ivr
    sid = (await call(ivr))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="3")  # English
    ask_number = {"text": "What's your phone number?"}
    ask_code = {"text": "I've just sent a 6-digit code by SMS."}
    bot.turns = [([ask_number], {"requested_slot": "phone_number"}), ([ask_code], {"requested_slot": "otp_code"})]
    answer = await sandbox_post(sandbox, f"/{sid}/keys", digits="1")
    assert bot.texts == ["/check_balance", CALLER]  # the number is a hint: the code goes by SMS to that line
    assert "6-digit code" in said(answer) and "phone number" not in said(answer)
    assert answer["gather"]["numDigits"] == "6"
    bot.turns = [([{"text": "Main balance: 2,500 FCFA"}], {})]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="123456")
    assert bot.texts[-1] == "123456"


async def test_a_caller_without_a_number_types_one(ivr):
    sandbox, _, bot = ivr
    sid = (await call(ivr, "anonymous"))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="3")
    bot.turns = [([{"text": "What's your phone number?"}], {"requested_slot": "phone_number"})]
    asked = await sandbox_post(sandbox, f"/{sid}/keys", digits="1")
    assert said(asked) == "What's your phone number? Type the number, then press hash."
    assert "numDigits" not in asked["gather"] and asked["gather"]["finishOnKey"] == "#"
    bot.turns = [([{"text": "I've just sent a 6-digit code by SMS."}], {"requested_slot": "otp_code"})]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="0197000001#")
    assert bot.texts == ["/check_balance", "0197000001"]


async def test_options_are_said_as_keys_and_a_key_sends_the_payload(ivr):
    sandbox, _, bot = ivr
    bot.replies = [
        {
            "text": "Top up 1,000 FCFA?",
            "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        }
    ]
    sid = (await call(ivr))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="3")
    asked = await sandbox_post(sandbox, f"/{sid}/keys", digits="4")
    assert "Top up 1000 CFA francs? For Yes, press 1. For No, press 2." in said(asked)
    again = await sandbox_post(sandbox, f"/{sid}/keys", digits="7")
    assert said(again).startswith("That isn't one of the choices. Top up 1000 CFA francs?")
    assert said(again).count("That isn't one of the choices.") == 1
    again = await sandbox_post(sandbox, f"/{sid}/keys", digits="8")
    assert said(again).count("That isn't one of the choices.") == 1
    await sandbox_post(sandbox, f"/{sid}/keys", digits="2")
    assert bot.texts == ["/top_up", "/deny"]


async def test_a_score_is_typed_as_itself_even_zero(ivr):
    sandbox, _, bot = ivr
    scores = [{"title": str(n), "payload": f'/give_feedback{{"score": {n}}}'} for n in range(11)]
    bot.turns = [([{"text": "From 0 to 10, how likely are you to recommend us?", "buttons": scores}], {})]
    sid = (await call(ivr))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="3")
    asked = await sandbox_post(sandbox, f"/{sid}/keys", digits="1")
    assert said(asked).endswith("Type the number, then press hash.") and "numDigits" not in asked["gather"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="0")
    assert bot.texts == ["/check_balance", '/give_feedback{"score": 0}']


async def test_words_heard_with_little_confidence_are_asked_again_not_acted_on(ivr):
    sandbox, _, bot = ivr
    sid = (await call(ivr))["sid"]
    menu = await sandbox_post(sandbox, f"/{sid}/keys", digits="2")
    unsure = await sandbox_post(sandbox, f"/{sid}/speech", text="saldo", confidence=0.1)
    assert said(unsure) == "No le escuché bien. " + said(menu) and bot.received == []
    await sandbox_post(sandbox, f"/{sid}/speech", text="mi saldo", confidence=0.8)
    assert bot.texts == ["mi saldo"]


async def test_when_the_conversation_changes_language_the_ivr_follows(ivr):
    sandbox, _, bot = ivr
    sid = (await call(ivr))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="1")  # French
    bot.turns = [([{"text": "Sure, let's continue in English."}], {"language": "en"})]
    answer = await sandbox_post(sandbox, f"/{sid}/speech", text="can we speak English")
    assert answer["heard"] == [
        {"say": "Sure, let's continue in English.", "language": "en-US"},
        {"say": "Anything else? Say it, press star for the menu, or 0 for an agent.", "language": "en-US"},
    ]
    assert answer["gather"]["language"] == "en-US" and remembered_language(f"caller:{CALLER}") == "en"


async def test_silence_repeats_once_then_says_goodbye(ivr):
    sandbox, _, _ = ivr
    first = await call(ivr)
    again = await sandbox_post(sandbox, f"/{first['sid']}/silence")
    assert again["heard"] == first["heard"] and not again["ended"]
    last = await sandbox_post(sandbox, f"/{first['sid']}/silence")
    assert last["ended"] and said(last) == "Merci de votre appel. Au revoir."  # a Benin number: French


@pytest.mark.parametrize(
    "caller, vip, queue, segment",
    [
        (CALLER, "", "prepaid_fr", "prepaid"),
        (CALLER, f"line:{CALLER}", "vip", "vip"),
        ("+2290155000099", "", "general_fr", "unknown"),  # not one of ours: by language only
    ],
)
async def test_zero_transfers_to_the_queue_of_the_segment_and_language(ivr, monkeypatch, caller, vip, queue, segment):
    sandbox, _, bot = ivr
    monkeypatch.setattr(config, "VIP_SUBJECTS", frozenset([vip]) if vip else frozenset())
    sid = (await call(ivr, caller))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="1")
    transfer = await sandbox_post(sandbox, f"/{sid}/keys", digits="0")
    assert "Je vous passe un conseiller" in said(transfer) and transfer["ended"]
    task = transfer["enqueued"]["task"]
    assert transfer["enqueued"]["workflow_sid"] == config.VOICE_WORKFLOW_SID
    assert task["queue"] == queue and task["segment"] == segment and task["language"] == "fr"
    assert task["identity"] == "" and task["verified"] is False and task["caller"] == caller
    assert bot.received == []
    with session() as s:  # a transfer counts as a handoff in make kpi and the dashboard, as in a chat
        [outcome] = s.query(ConversationOutcome).filter_by(conversation_id=f"voice:{sid}").all()
    assert (outcome.outcome, outcome.channel, outcome.language) == ("handoff", "voice", "fr")
    assert outcome.subject == f"sender:voice:{sid}" and outcome.topic == "voice_agent"


def test_queues_come_from_the_configuration_most_specific_first():
    assert queue_for("postpaid", "es") == "postpaid_es"
    assert queue_for("vip", "en") == "vip"
    assert queue_for("home", "fr") == "home"
    assert queue_for("unknown", "es") == "general_es"


@pytest.mark.parametrize("instant", [SATURDAY_AFTERNOON], ids=["Sat 2026-12-05 15:00Z"])
async def test_out_of_hours_the_caller_hears_closed_gets_the_channel_links_by_sms_and_the_call_ends(ivr):
    sandbox, _, bot = ivr
    closed = await call(ivr)
    assert "Notre service client est fermé" in said(closed) and closed["ended"] and closed["gather"] is None
    [sms] = sms_to(sandbox, CALLER)
    assert config.WHATSAPP_CHAT_LINK in sms["text"] and config.MESSENGER_CHAT_LINK in sms["text"]
    assert bot.received == []
    open_market = await call(ivr, "+50255500002")  # Guatemala: 09:00, open
    assert not open_market["ended"] and "Para continuar en español" in said(open_market)


async def test_a_call_in_fon_plays_the_recordings_and_says_a_missing_one_in_french(ivr):
    sandbox, _, bot = ivr
    bot.replies = [{"text": "Crédit principal : 2\u202f500 FCFA"}]
    first = await call(ivr)
    fon_choice = [part for part in first["heard"] if "play" in part]
    assert [p["play"].rsplit("/", 2)[-2:] for p in fon_choice] == [["fon", "voice_language_key.wav"]]
    assert fon_choice[0]["status"] == 200 and fon_choice[0]["bytes"] > 1000  # Twilio could fetch it
    assert "Pour le bariba, tapez 5." in said(first)  # no recording: French, never an invented Bariba text
    menu = await sandbox_post(sandbox, f"/{first['sid']}/keys", digits="4")
    assert menu["heard"][-1]["play"].endswith("/fon/voice_menu.wav") and menu["gather"]["input"] == "dtmf"
    answer = await sandbox_post(sandbox, f"/{first['sid']}/keys", digits="1")
    assert bot.texts == ["/check_balance"] and bot.received[0].metadata == {"locale": "fr"}
    assert answer["heard"][0] == {"say": "Crédit principal : 2500 francs CFA.", "language": "fr-FR"}
    assert answer["heard"][1] == {
        "say": "Autre chose ? Dites-le, tapez étoile pour le menu, ou 0 pour un conseiller.",
        "language": "fr-FR",
    }
    assert remembered_language(f"caller:{CALLER}") == "fon"


def test_missing_recordings_are_reported_at_start_up(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(config, "VOICE_RECORDINGS_DIR", tmp_path)
    for prompt in voice_prompts.PROMPTS[1:]:
        tone(tmp_path / "fon" / f"{prompt}.wav")
    with caplog.at_level("WARNING"):
        TwilioVoiceInput.from_credentials({})
    reported = " ".join(r.getMessage() for r in caplog.records)
    assert "no fon recording for voice_welcome " in reported and "no bba recording for voice_welcome, " in reported


@pytest.mark.parametrize(
    "text, language, spoken",
    [
        ("Crédit principal : 12\u202f500 FCFA", "fr", "Crédit principal : 12500 francs CFA."),
        ("Saldo principal: Q1,234.50", "es", "Saldo principal: 1234.50 quetzales."),
        ("Main balance: 2,500 FCFA\nData: 1.5 GB 🎉", "en", "Main balance: 2500 CFA francs. Data: 1.5 gigabytes."),
        ("Internet : 512 Mo, voir https://op.example/x", "fr", "Internet : 512 mégaoctets, voir."),
        ("Appels : 3 · 11 min 35 s · inclus", "fr", "Appels : 3, 11 minutes 35 secondes, inclus."),
        ("Un code par SMS au +229 •• •• •• 00 05.", "fr", "Un code par SMS au +229, finissant par 00 05."),
        ("I've sent a code to +502 •••• 0002", "en", "I've sent a code to +502, ending in 0002."),
    ],
)
def test_texts_for_the_ear(text, language, spoken):
    assert for_the_ear(text, language) == spoken


def test_the_sandbox_refuses_keys_when_no_gather_waits(sandbox):
    answer = requests.post(f"{sandbox}/_sandbox/voice/calls/CAunknown/keys", json={"digits": "1"}, timeout=5)
    assert answer.status_code == 404


async def test_a_caller_from_an_area_with_an_incident_hears_it_and_its_expected_end_first(ivr):
    first = await call(ivr, "+2290166000006")  # a line in Parakou, where mobile data is down until 19:00Z
    assert first["heard"][0] == {
        "say": "Information : un incident réseau touche Parakou, sur l'internet mobile. Le rétablissement est prévu "
        "mercredi 2 décembre à 20:00. Nos techniciens y travaillent.",
        "language": "fr-FR",
    }
    assert "Bienvenue" in first["heard"][1]["say"]
    elsewhere = await call(ivr, CALLER)  # Cotonou: nothing to announce
    assert elsewhere["heard"][0]["say"] == "Bienvenue au service client."


def test_the_agent_hears_of_the_journey_the_call_was_last_in():
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    def said(intent):
        return UserUttered("x", {"name": intent, "confidence": 1.0})

    events = [said("check_balance"), SlotSet("pending_journey", "check_balance"), ActionExecuted("identify_form")]
    events += [said("inform"), ActionExecuted("action_check_balance"), SlotSet("pending_journey", None)]
    assert last_journey(events) == "check_balance"
    events += [said("check_quota"), ActionExecuted("action_check_quota"), said("affirm"), ActionExecuted("action_yes")]
    assert last_journey(events) == "check_quota"
    assert last_journey([said("greet"), ActionExecuted("utter_greet")]) is None


async def test_a_link_the_assistant_gives_goes_by_sms_to_the_caller(ivr):
    sandbox, _, bot = ivr
    link = "https://pay.example/c/cs_123"
    bot.replies = [{"text": f"Pay your 1,000 FCFA top-up on this secure page: {link}"}]
    sid = (await call(ivr))["sid"]
    await sandbox_post(sandbox, f"/{sid}/keys", digits="3")
    answer = await sandbox_post(sandbox, f"/{sid}/keys", digits="4")
    assert link not in said(answer) and "I've sent you the link by text message." in said(answer)
    [sms] = sms_to(sandbox, CALLER)
    assert link in sms["text"]


@at_each_instant()
async def test_a_benin_caller_is_served_in_the_market_s_hours_and_closed_otherwise(ivr, instant):
    sandbox, _, _ = ivr
    answered = await call(ivr)
    weekday_afternoon = instant in WEEK[:5]  # 16:00 in Cotonou, Monday to Friday: open (08:00-18:00)
    assert answered["ended"] is not weekday_afternoon
    assert ("Notre service client est fermé" in said(answered)) is not weekday_afternoon
    assert len(sms_to(sandbox, CALLER)) == (0 if weekday_afternoon else 1)
