"""Twilio Programmable Voice as a Rasa channel: the IVR of the contact centre (what it says: connectors/voice_ivr.py).

credentials.yml:  connectors.twilio_voice.TwilioVoiceInput:   (keys left empty are read from common/config.py)
routes:           POST /webhooks/voice/webhook                 the number's "A call comes in" webhook and every
                                                               <Gather>'s action (also as its status callback)
                  GET  /webhooks/voice/recordings/<lang>/<prompt>.wav   the operator's recordings, for <Play>
                  GET  /webhooks/voice/                        health

Every webhook must carry `X-Twilio-Signature` (Twilio's HMAC-SHA1 of the URL and the sorted form parameters with
the account's auth token), checked with the `twilio` library's RequestValidator against VOICE_WEBHOOK_URL (the URL
as configured at Twilio; empty: the URL the request came to); unsigned or wrongly signed requests get 403.
Read: CallSid, From, To, CallStatus, Digits, SpeechResult, Confidence. Answered in TwiML: <Say language=...>,
<Play>, <Gather input="dtmf speech" actionOnEmptyResult="true">, <Enqueue workflowSid=...><Task>, <Hangup>.

One conversation per call: the Rasa sender id is `voice:<CallSid>`. The caller's number (From) is a hint, never an
identity: the assistant serves account data only to a call that typed the SMS code (actions/dialogue/account.py).
Rasa's own `twilio_voice` channel reads no keypad input and keys the conversation by the caller's number; this one
reads both keys and speech.
"""

import inspect
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from clients.bss import BSSClient
from clients.sms import SMSClient
from common import config
from connectors import voice_prompts
from connectors.voice_ivr import CHANNEL, IVR, Reply, Webhook

logger = logging.getLogger(__name__)
NAME = CHANNEL
SIGNATURE_HEADER = "X-Twilio-Signature"
RECORDING_NAME = re.compile(r"^[a-z0-9_]+\.wav$")
INTENT_CONFIDENCE = 0.6  # a spoken request for an agent is transferred at once above this


def valid_signature(auth_token: str, url: str, params: Dict[str, str], signature: Optional[str]) -> bool:
    """Twilio's X-Twilio-Signature, compared in constant time by the twilio library. No token: nothing is valid."""
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)


def twiml(reply: Reply, action_url: str, recordings_url: str) -> str:
    """The reply as TwiML: what is said inside the <Gather> (so a key interrupts it), then a transfer or the end."""
    answer = VoiceResponse()
    where = answer
    if reply.gather is not None:
        attributes = {
            "input": reply.gather["input"],
            "action": action_url,
            "method": "POST",
            "language": reply.gather["language"],
            "timeout": 6,
            "finish_on_key": "#",
            "action_on_empty_result": True,
        }
        if reply.gather.get("num_digits"):
            attributes["num_digits"] = reply.gather["num_digits"]
        if "speech" in reply.gather["input"]:
            attributes["speech_timeout"] = "auto"
        where = answer.gather(**attributes)
    for part in reply.speech:
        if "play" in part:
            where.play(f"{recordings_url}/{part['play']}")
        else:
            where.say(part["say"], language=config.VOICE_SAY_LANGUAGES.get(part["language"], part["language"]))
    if reply.enqueue is not None:
        queue = answer.enqueue(workflow_sid=config.VOICE_WORKFLOW_SID)
        queue.task(json.dumps(reply.enqueue, ensure_ascii=False))
    if reply.hangup:
        answer.hangup()
    return str(answer)


def last_journey(events: List[Any]) -> Optional[str]:
    """The journey the call was last in, for the agent's context: one whose action (named after its intent,
    `action_<journey>`) answered the caller's message, or the one identification was resuming."""
    journey, intent = None, None
    for event in events:
        kind = getattr(event, "type_name", "")
        if kind == "user":
            intent = (event.intent or {}).get("name")
        elif kind == "action" and intent and event.action_name == f"action_{intent}":
            journey = intent
        elif kind == "slot" and event.key == "pending_journey" and event.value:
            journey = event.value
    return journey


class VoiceCollector(OutputChannel):
    """Keeps the assistant's messages whole, buttons and all."""

    @classmethod
    def name(cls) -> Text:
        return NAME

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.messages.append(dict(message))


class RasaConversation:
    """One call's conversation in Rasa: messages in, the assistant's answers and slots out."""

    def __init__(self, sender_id: str, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any) -> None:
        self.sender_id, self.on_new_message, self.agent = sender_id, on_new_message, agent

    async def tell(self, text: str, language: str) -> List[Dict[str, Any]]:
        collector = VoiceCollector()
        # The locale starts a new conversation in the call's language (actions/language.py ActionSessionStart).
        await self.on_new_message(
            UserMessage(text, collector, self.sender_id, input_channel=NAME, metadata={"locale": language})
        )
        return collector.messages

    async def intent_of(self, text: str) -> str:
        if self.agent is None:
            return ""
        parsed = await self.agent.parse_message(text)
        intent = parsed.get("intent") or {}
        return str(intent.get("name") or "") if (intent.get("confidence") or 0) >= INTENT_CONFIDENCE else ""

    async def tracker(self) -> Any:
        if self.agent is None or self.agent.tracker_store is None:
            return None
        tracker = self.agent.tracker_store.retrieve(self.sender_id)
        return await tracker if inspect.isawaitable(tracker) else tracker

    async def slots(self) -> Dict[str, Any]:
        tracker = await self.tracker()
        if tracker is None:
            return {}
        return {**tracker.current_slot_values(), "last_journey": last_journey(tracker.events)}

    async def session_start(self) -> Optional[float]:
        tracker = await self.tracker()
        starts = [e.timestamp for e in (tracker.events if tracker else []) if e.type_name == "session_started"]
        return starts[-1] if starts else None


class TwilioVoiceInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TwilioVoiceInput":
        given = credentials or {}
        channel = cls(
            auth_token=given.get("auth_token") or config.TWILIO_AUTH_TOKEN,
            webhook_url=given.get("webhook_url") or config.VOICE_WEBHOOK_URL,
        )
        voice_prompts.report_missing()  # at start-up: which Fon or Bariba prompts will be said in French
        return channel

    def __init__(
        self, auth_token: str, webhook_url: str = "", ivr: Optional[IVR] = None, conversations: Any = None
    ) -> None:
        self.auth_token, self.webhook_url = auth_token, webhook_url
        self.ivr = ivr or IVR(BSSClient(), SMSClient())
        self.conversations = conversations or RasaConversation  # (sender id, on_new_message, agent) -> Conversation

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{NAME}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/recordings/<language>/<prompt>", methods=["GET"])
        async def recording(request: Request, language: str, prompt: str) -> HTTPResponse:
            path = None
            if language in voice_prompts.recorded_languages() and RECORDING_NAME.match(prompt):
                path = voice_prompts.recording(language, prompt[: -len(".wav")])
            if path is None:
                return response.text("not found", status=404)
            return await response.file(str(path), mime_type="audio/wav")

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return hook

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        url = self.webhook_url or request.url
        params = {key: request.form.get(key) for key in request.form.keys()}
        if not valid_signature(self.auth_token, url, params, request.headers.get(SIGNATURE_HEADER)):
            logger.warning("voice webhook refused: missing or wrong %s", SIGNATURE_HEADER)
            return response.text("invalid signature", status=403)
        if not params.get("CallSid"):
            return response.text("not a call", status=400)
        hook = Webhook(
            call_sid=params["CallSid"],
            caller=params.get("From") or "",
            called=params.get("To") or "",
            status=params.get("CallStatus") or "",
            digits=params.get("Digits") or "",
            speech=(params.get("SpeechResult") or "").strip(),
            confidence=float(params.get("Confidence") or 0),
        )
        agent = getattr(request.app.ctx, "agent", None)
        conversation = self.conversations(f"{NAME}:{hook.call_sid}", on_new_message, agent)
        reply = await self.ivr.answer(hook, conversation)
        base = url.split("?", 1)[0].rsplit("/", 1)[0]
        return response.text(twiml(reply, url, f"{base}/recordings"), content_type="text/xml; charset=utf-8")
