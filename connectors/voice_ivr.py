"""The IVR: what a call hears and how its keys and words reach the assistant (Twilio's side: connectors/twilio_voice.py).

A call, webhook by webhook (its state between them: common/state/voice_calls.py):
1. It starts: out of business hours (the caller's market, common/opening_hours.py) the closed message, an SMS with
   the WhatsApp and Messenger links (Kannel), and the call ends. Else the language the number chose last time
   (the language memory), or the language menu (one key per language of VOICE_LANGUAGES).
2. The menu is the assistant's journeys: 1 balance, 2 data left, 3 last calls and usage, 4 top-up, 0 an agent (at
   any point), * the menu again. A key becomes the journey's intent (/check_balance), a spoken answer goes to the
   NLU as said, digits typed after a question (the SMS code, an amount) as typed. The assistant's answers are said
   written for the ear (common/speech.py); its buttons become keys ("For Yes, press 1").
3. Account data needs the same proof as in any chat: when the assistant asks for the number (identify_form's
   requested slot), the caller's number is given as the answer (a hint: the code goes by SMS to that line, and only
   its holder can type it back on the keypad).
4. Silence: the last prompt once more, then goodbye. An agent: <Enqueue> to the queue of the caller's segment and
   language (VOICE_QUEUES), with identity, language and journey as the task's attributes.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol, Tuple

import phonenumbers
import pytz
from babel.dates import format_date, format_time
from babel.lists import format_list

from common import clock, config, phone
from common.i18n import render
from common.language import normalise_language_name
from common.opening_hours import is_open
from common.speech import URL
from common.state import care_kpi, remember_language, remembered_language
from common.state import voice_calls as calls
from common.state.db import VerifiedIdentity, session
from connectors import voice_prompts as prompts

logger = logging.getLogger(__name__)
CHANNEL = "voice"  # the input channel name (twilio_voice.NAME) the tracker and the outcomes record

MENU = {"1": "/check_balance", "2": "/check_quota", "3": "/usage_history", "4": "/top_up"}
AGENT_KEY, MENU_KEY = "0", "*"
FINISHED = {"completed", "busy", "failed", "no-answer", "canceled"}
SPOKEN_LOCALES = {"fr": "fr_BJ", "es": "es_GT", "en": "en"}
SPOKEN_DAYS = {"fr": "EEEE d MMMM", "es": "EEEE d 'de' MMMM", "en": "EEEE, MMMM d"}
SPOKEN_TIMES = {"fr": "HH:mm", "es": "H:mm", "en": "h:mm a"}
SERVICES_BY_KIND = {"mobile": {"mobileData", "voice", "sms"}, "home": {"homeInternet"}}
CODE_DIGITS = 6


@dataclass
class Webhook:
    """What Twilio posted about the call."""

    call_sid: str
    caller: str
    called: str
    status: str
    digits: str = ""
    speech: str = ""
    confidence: float = 0.0


@dataclass
class Reply:
    """What the call hears next: things said, then a gather (keys and speech), a transfer or the end."""

    speech: List[Dict[str, Any]] = field(default_factory=list)
    gather: Optional[Dict[str, Any]] = None
    enqueue: Optional[Dict[str, Any]] = None
    hangup: bool = False


class Conversation(Protocol):
    """The call's conversation with the assistant (Rasa), as twilio_voice.py gives it."""

    sender_id: str

    async def tell(self, text: str, language: str) -> List[Dict[str, Any]]: ...

    async def intent_of(self, text: str) -> str: ...

    async def slots(self) -> Dict[str, Any]: ...

    async def session_start(self) -> Optional[float]: ...


def memory_subjects(caller: Optional[str]) -> List[str]:
    """Where the language of a number is remembered: the caller's own, then the line's (chosen in a chat)."""
    return [f"caller:{caller}", f"line:{caller}"] if caller else []


def market_of(caller: Optional[str]) -> str:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(caller or "", None))
    except phonenumbers.NumberParseException:
        region = None
    return region if region in config.MARKET_TIME_ZONES else config.CARE_DEFAULT_MARKET


def market_language(market: str) -> str:
    by_market = {region: language for language, region in config.LANGUAGE_REGIONS.items()}
    return by_market.get(market, config.DEFAULT_LANGUAGE)


def queue_for(segment: str, language: str) -> str:
    """The most specific of VOICE_QUEUES: segment and language, then segment, then language, then any."""
    for key in (f"{segment}:{language}", f"{segment}:*", f"*:{language}", "*:*"):
        if key in config.VOICE_QUEUES:
            return config.VOICE_QUEUES[key]
    return "general"


def verified_subject(conversation_id: str) -> Optional[str]:
    """The line or contract this call proved (an SMS code typed on the keypad), if any: for the agent's context."""
    with session() as s:
        row = s.get(VerifiedIdentity, conversation_id)
        return row.subject if row else None


def outage_speech(incident: Any, city: str, language: str) -> Dict[str, Any]:
    """One incident in the caller's area, with its expected end in the market's time zone, for the ear."""
    spoken = prompts.text_language(language)
    locale = SPOKEN_LOCALES.get(spoken, "en")
    names = [render(f"outage_service_{s}", spoken)["text"] for s in incident.services if s] or [
        render("outage_service_other", spoken)["text"]
    ]
    values = {"city": incident.cities[0] if incident.cities else city, "service": format_list(names, locale=locale)}
    if incident.expected_end is None or incident.expected_end <= clock.now():
        return prompts.say(render("voice_outage_no_estimate", spoken, **values)["text"], spoken)
    end = incident.expected_end.astimezone(pytz.timezone(incident.time_zone or "UTC"))
    day = format_date(end.date(), SPOKEN_DAYS.get(spoken, "EEEE, MMMM d"), locale=locale)
    hour = format_time(end.time(), SPOKEN_TIMES.get(spoken, "h:mm a"), locale=locale)
    return prompts.say(render("voice_outage", spoken, day=day, time=hour, **values)["text"], spoken)


def gather(language: Optional[str], digits: Optional[int] = 1) -> Dict[str, Any]:
    """Keys (`digits` of them, or up to # when None) and, in a language with speech recognition, words."""
    spoken = prompts.text_language(language)
    return {
        "input": "dtmf speech" if language in config.SUPPORTED_LANGUAGES else "dtmf",
        "language": config.VOICE_SAY_LANGUAGES.get(spoken, spoken),
        "num_digits": digits,
    }


def options_of(messages: List[Dict[str, Any]], limit: Optional[int] = 9) -> List[Tuple[str, str]]:
    """The buttons of the assistant's last message that has some: (title, payload), as many as keys (1-9);
    links cannot be pressed."""
    for message in reversed(messages):
        buttons = [b for b in message.get("buttons") or [] if not str(b.get("payload") or "").startswith("http")]
        if buttons:
            return [(str(b.get("title") or ""), str(b.get("payload") or b.get("title") or "")) for b in buttons][:limit]
    return []


def without_speech(prompt: Dict[str, Any]) -> Dict[str, Any]:
    """A remembered prompt's gather and options (to say it again)."""
    return {k: v for k, v in prompt.items() if k != "speech"}


class IVR:
    def __init__(self, bss: Any, sms: Any) -> None:
        self.bss, self.sms = bss, sms

    async def answer(self, hook: Webhook, conversation: Conversation) -> Reply:
        call = await asyncio.to_thread(calls.find, hook.call_sid)
        if hook.status in FINISHED:
            if call is not None:
                call.stage = calls.ENDED
                await asyncio.to_thread(calls.save, call)
            return Reply()
        if call is None:
            return await self.start(hook)
        if call.stage == calls.ENDED:
            return Reply(hangup=True)
        if not hook.digits and not hook.speech:
            return await self.silence(call)
        call.silences = 0
        if call.stage == calls.CHOOSING_LANGUAGE:
            return await self.choose_language(call, hook)
        return await self.talk(call, hook, conversation)

    async def prompting(
        self, call: calls.Call, speech: List[Dict[str, Any]], before: Optional[List[Dict[str, Any]]] = None, **kept: Any
    ) -> Reply:
        """Says `before` (once) and `speech`, and waits for keys or words; remembers `speech`, its gather and
        options to say again on silence or a wrong key."""
        call.last_prompt = {"speech": speech, **kept}
        await asyncio.to_thread(calls.save, call)
        return Reply((before or []) + speech, gather=kept.get("gather"))

    async def again(self, call: calls.Call, language: Optional[str], why: str = "voice_no_such_choice") -> Reply:
        """A key that is not a choice (or words not caught): said so, then the last prompt again."""
        last = call.last_prompt or {}
        sorry = [prompts.prompt(why, language)]
        return await self.prompting(call, last.get("speech") or [], sorry, **without_speech(last))

    async def ending(self, call: calls.Call, speech: List[Dict[str, Any]], **reply: Any) -> Reply:
        call.stage = calls.ENDED
        await asyncio.to_thread(calls.save, call)
        return Reply(speech, **reply)

    async def start(self, hook: Webhook) -> Reply:
        numbers = phone.candidates(hook.caller or "")
        caller = numbers[0] if numbers else None
        remembered = await asyncio.to_thread(remembered_language, *memory_subjects(caller)) if caller else None
        language = remembered if remembered in config.VOICE_LANGUAGES else None
        call = calls.Call(hook.call_sid, caller, language, calls.TALKING if language else calls.CHOOSING_LANGUAGE)
        market = market_of(caller)
        if not is_open(market):
            return await self.closed(call, market)
        welcome = await self.outages(caller, language or market_language(market))
        welcome.append(prompts.prompt("voice_welcome", language or market_language(market)))
        if language:
            return await self.menu(call, welcome)
        choices = [prompts.language_choice(lang, digit) for digit, lang in enumerate(config.VOICE_LANGUAGES, 1)]
        return await self.prompting(call, welcome + choices, gather=gather(market_language(market)))

    async def outages(self, caller: Optional[str], language: str) -> List[Dict[str, Any]]:
        """The incidents in the area of the caller's line (a known line: the caller id as a hint), said first.
        Never stops the call: without the registry, nothing is said."""
        if not caller:
            return []
        try:
            line = await asyncio.to_thread(self.bss.line, caller)
            city = ((line.characteristics or {}).get("city") if line else None) or ""
            incidents = await asyncio.to_thread(self.bss.incidents, city) if city else []
        except Exception:  # noqa: BLE001 - the IVR answers even when the registry does not
            logger.exception("voice: the incidents of the caller's area could not be read")
            return []
        wanted = SERVICES_BY_KIND.get(line.kind if line else "", set())
        concerned = [i for i in incidents if not i.services or wanted & set(i.services)]
        return [outage_speech(incident, city, language) for incident in concerned]

    async def closed(self, call: calls.Call, market: str) -> Reply:
        language = call.language or market_language(market)
        if call.caller:
            text = render(
                "voice_closed_sms",
                prompts.text_language(language),
                whatsapp=config.WHATSAPP_CHAT_LINK,
                messenger=config.MESSENGER_CHAT_LINK,
            )["text"]
            try:
                await asyncio.to_thread(self.sms.send, call.caller, text)
            except Exception:  # noqa: BLE001 - the caller still hears where to go; the call must end cleanly
                logger.exception("voice: the out-of-hours SMS to the caller of %s could not be sent", call.sid)
        return await self.ending(call, [prompts.prompt("voice_closed", language)], hangup=True)

    async def silence(self, call: calls.Call) -> Reply:
        call.silences += 1
        if call.silences >= 2:
            language = call.language or market_language(market_of(call.caller))
            return await self.ending(call, [prompts.prompt("voice_goodbye", language)], hangup=True)
        last = call.last_prompt or {}
        return await self.prompting(call, last.get("speech") or [], **without_speech(last))

    async def choose_language(self, call: calls.Call, hook: Webhook) -> Reply:
        digits, chosen = hook.digits.strip(), None
        if digits.isdigit() and 1 <= int(digits) <= len(config.VOICE_LANGUAGES):
            chosen = config.VOICE_LANGUAGES[int(digits) - 1]
        elif hook.speech:
            named = normalise_language_name(hook.speech)
            chosen = named if named in config.VOICE_LANGUAGES else None
        if chosen is None:
            return await self.again(call, market_language(market_of(call.caller)))
        call.language, call.stage = chosen, calls.TALKING
        if call.caller:
            await asyncio.to_thread(remember_language, f"caller:{call.caller}", chosen)
        return await self.menu(call)

    async def menu(self, call: calls.Call, before: Optional[List[Dict[str, Any]]] = None) -> Reply:
        menu = [prompts.prompt("voice_menu", call.language)]
        return await self.prompting(call, menu, before, gather=gather(call.language), menu=True)

    async def talk(self, call: calls.Call, hook: Webhook, conversation: Conversation) -> Reply:
        digits, last = hook.digits.strip(), call.last_prompt or {}
        options, numbers = last.get("options") or [], last.get("numbers") or []
        if digits == AGENT_KEY and not numbers:  # asked for a number (a score), 0 is one
            return await self.transfer(call, conversation)
        if digits == MENU_KEY:
            return await self.menu(call)
        if digits and numbers:  # a number the assistant offered, typed as itself (a score from 0 to 10)
            if digits not in [title for title, _ in numbers]:
                return await self.again(call, call.language)
            text = dict(numbers)[digits]
        elif digits and options and digits.isdigit() and 1 <= int(digits) <= len(options):
            text = options[int(digits) - 1][1]
        elif digits and (options or last.get("menu")) and len(digits) == 1:
            if digits not in MENU or not last.get("menu"):
                return await self.again(call, call.language)
            text = MENU[digits]
        elif digits:
            text = digits  # what the assistant asked for: the SMS code, a number, an amount
        else:
            text = hook.speech
            if 0 < hook.confidence < config.VOICE_MIN_SPEECH_CONFIDENCE:  # 0: the speech model gave none
                return await self.again(call, call.language, "voice_not_understood")
            if await conversation.intent_of(text) == "human_handoff":
                return await self.transfer(call, conversation)
        language = prompts.text_language(call.language)
        messages = await conversation.tell(text, language)
        slots = await conversation.slots()
        if slots.get("requested_slot") == "phone_number" and call.caller and not call.number_offered:
            call.number_offered = True  # once: a caller whose number is not ours types another one
            messages = await conversation.tell(call.caller, language)
            slots = await conversation.slots()
        return await self.saying(call, messages, slots)

    async def saying(self, call: calls.Call, messages: List[Dict[str, Any]], slots: Dict[str, Any]) -> Reply:
        """The assistant's answer, its choices as keys, then what the caller can do next."""
        switched = slots.get("language")
        if call.language in config.SUPPORTED_LANGUAGES and switched in config.SUPPORTED_LANGUAGES:
            if switched != call.language and call.caller:  # "in English please": the IVR follows, next calls too
                await asyncio.to_thread(remember_language, f"caller:{call.caller}", switched)
            call.language = switched
        speech = [s for s in (prompts.assistant_message(m, call.language) for m in messages) if s]
        options = options_of(messages)
        language = prompts.text_language(call.language)
        if await self.links_by_sms(call, messages):
            speech.append(prompts.say(render("voice_link_sent", language)["text"], language))
        asked = slots.get("requested_slot") or slots.get("awaiting_answer") or slots.get("awaiting_confirmation")
        if options and all(title.isdigit() for title, _ in options):
            numbers = options_of(messages, limit=None)
            speech.append(prompts.say(render("voice_type_number", language)["text"], language))
            return await self.prompting(call, speech, gather=gather(call.language, None), numbers=numbers)
        for digit, (title, _) in enumerate(options, 1):
            speech.append(prompts.say(render("voice_option", language, title=title, digit=digit)["text"], language))
        if slots.get("requested_slot") == "phone_number":  # no caller id to offer, or not one of ours
            speech.append(prompts.say(render("voice_type_number", language)["text"], language))
        if asked:
            code = slots.get("requested_slot") == "otp_code"
            digits = 1 if options else CODE_DIGITS if code else None
            return await self.prompting(call, speech, gather=gather(call.language, digits), options=options)
        speech.append(prompts.prompt("voice_next", call.language))  # the menu's keys work too
        return await self.prompting(call, speech, gather=gather(call.language), options=options, menu=True)

    async def links_by_sms(self, call: calls.Call, messages: List[Dict[str, Any]]) -> bool:
        """A link cannot be said: the messages that hold one (a payment page, an article) go by SMS to the caller."""
        texts = [str(m.get("text") or "") for m in messages if URL.search(str(m.get("text") or ""))]
        if not texts or not call.caller:
            return False
        try:
            await asyncio.to_thread(self.sms.send, call.caller, "\n".join(texts))
        except Exception:  # noqa: BLE001 - the caller still hears the answer
            logger.exception("voice: the link of call %s could not be sent by SMS", call.sid)
            return False
        return True

    async def transfer(self, call: calls.Call, conversation: Conversation) -> Reply:
        subject = await asyncio.to_thread(verified_subject, conversation.sender_id)
        number = subject.split(":", 1)[1] if subject and subject.startswith("line:") else call.caller
        line = None
        if number:
            try:
                line = await asyncio.to_thread(self.bss.line, number)
            except Exception:  # noqa: BLE001 - routing by language alone beats no agent
                logger.exception("voice: the line of call %s could not be read for routing", call.sid)
        if (subject or f"line:{number}") in config.VIP_SUBJECTS:
            segment = "vip"
        elif subject and subject.startswith("contract:"):
            segment = "home"
        elif line is not None:
            segment = line.payment_type if line.kind == "mobile" else "home"
        else:
            segment = "unknown"
        slots = await conversation.slots()
        task = {
            "queue": queue_for(segment, prompts.text_language(call.language)),
            "segment": segment,
            "language": call.language,
            "identity": subject or "",
            "verified": bool(subject),
            "caller": call.caller or "",
            "journey": slots.get("pending_journey") or slots.get("last_journey") or "",
            "call_sid": call.sid,
        }
        outcome = {
            "conversation_id": conversation.sender_id,
            "session_start": await conversation.session_start(),
            "channel": CHANNEL,
            "language": prompts.text_language(call.language),
            "market": line.market if line is not None and line.market else market_of(number),
            "subject": subject or f"sender:{conversation.sender_id}",
            "topic": task["journey"] or "voice_agent",
        }
        await asyncio.to_thread(care_kpi.record_outcome, "handoff", **outcome)  # counted as chats' handoffs are
        return await self.ending(call, [prompts.prompt("voice_transfer", call.language)], enqueue=task)
