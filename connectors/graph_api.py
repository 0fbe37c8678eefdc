"""What the WhatsApp Cloud API and Messenger connectors share: Meta's webhook and a small Graph API client.

Webhook (both platforms):
- `GET  …/webhook?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers the challenge when the
  verify token is ours (Meta's handshake when the webhook URL is saved), else 403.
- `POST …/webhook` must carry `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app
  secret>`, compared in constant time; unsigned, SHA-1-only (`X-Hub-Signature`) or wrongly signed
  requests are refused with 403 before the body is read.
- Each message id is written first (common/state/meta.py), so Meta's redeliveries are acknowledged
  without a second answer. A message Rasa fails on is released and answered 500: Meta delivers it again.
- The customer's message time is kept: outside the 24-hour window the output channels switch to what the
  platform allows then (a WhatsApp template, a Messenger message tag).
"""

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common import clock, config
from common.i18n import render
from common.language import detect_language
from common.state import claims, remembered_language
from common.state import messaging as store
from connectors.delivery_reports import (
    CampaignMessage,
    DeliveryUpdate,
    apply_updates,
    campaign_refused,
    campaign_sent,
    note_reply,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
ELLIPSIS = "…"


# --- inbound --------------------------------------------------------------------------------------------


def signature_for(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def valid_signature(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """X-Hub-Signature-256 against the raw body, in constant time. No secret configured: nothing is valid."""
    if not app_secret or not header:
        return False
    return hmac.compare_digest(signature_for(app_secret, body).encode(), header.strip().lower().encode())


def verification(request: Request, verify_token: str) -> HTTPResponse:
    """Meta's subscription handshake: echo hub.challenge only for our verify token."""
    mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token") or ""
    challenge = request.args.get("hub.challenge")
    if (
        mode == "subscribe"
        and verify_token
        and challenge
        and hmac.compare_digest(token.encode(), verify_token.encode())
    ):
        return response.text(challenge)
    logger.warning("Meta webhook verification refused: wrong verify token or mode")
    return response.text("forbidden", status=403)


@dataclass
class Inbound:
    """One customer message, as the text Rasa should read."""

    message_id: str
    sender_id: str
    text: str
    sent_at: datetime
    metadata: Dict[str, Any] = field(default_factory=dict)


def sent_time(seconds: Any) -> datetime:
    """The platform's timestamp, never later than now (a wrong clock must not stretch the window)."""
    now = clock.now()
    try:
        return min(datetime.fromtimestamp(float(seconds), timezone.utc), now)
    except (TypeError, ValueError, OverflowError, OSError):
        return now


def location_message(latitude: Any, longitude: Any) -> Optional[str]:
    """A shared location as the find_store intent with its `location` entity ("lat,lon")."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None

    def plain(degrees: float) -> str:  # 6.3654, not 6.365400 nor 1e-05
        return f"{degrees:.6f}".rstrip("0").rstrip(".")

    return "/find_store" + json.dumps({"location": f"{plain(lat)},{plain(lon)}"})


def payload_of(reply_id: Optional[str]) -> Optional[str]:
    """The bot payload a button or row id stands for (itself, or a stored long payload)."""
    if reply_id and reply_id.startswith(store.KEY_PREFIX):
        return store.payload_for(reply_id) or reply_id
    return reply_id


class MetaWebhookInput(InputChannel):
    """The webhook both platforms use; subclasses read their own payloads (`inbound`)."""

    def __init__(self, verify_token: str, app_secret: str) -> None:
        self.verify_token, self.app_secret = verify_token, app_secret

    def inbound(self, payload: Dict[str, Any]) -> List[Inbound]:
        """The customer messages in one webhook body (statuses, echoes, reads... left out)."""
        raise NotImplementedError

    def delivery_updates(self, payload: Dict[str, Any]) -> List[DeliveryUpdate]:
        """What became of the messages we sent, in one webhook body."""
        return []

    def take_in(self, payload: Dict[str, Any]) -> List[Inbound]:
        """Records the delivery updates a body carries; answers its customer messages."""
        apply_updates(self.name(), self.delivery_updates(payload))
        return self.inbound(payload)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return verification(request, self.verify_token)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return hook

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        body = request.body or b""
        if not valid_signature(self.app_secret, body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning("%s webhook refused: missing or wrong %s", self.name(), SIGNATURE_HEADER)
            return response.json({"status": "refused", "error": "invalid signature"}, status=403)
        try:
            messages = await asyncio.to_thread(self.take_in, json.loads(body))
        except (ValueError, TypeError, KeyError, AttributeError):
            return response.json({"status": "refused", "error": "not a webhook body"}, status=400)
        if not messages:
            return response.json({"status": "ignored"})
        agent = getattr(request.app.ctx, "agent", None)
        if agent is not None and not agent.is_ready():  # Rasa would drop the message: Meta retries later
            return response.json({"status": "retry", "error": "no model loaded yet"}, status=503)
        outcomes = []
        for message in messages:
            outcome = await self.handle(message, on_new_message)
            if outcome == "failed":
                return response.json({"status": "retry", "error": "the message could not be handled"}, status=500)
            outcomes.append(outcome)
        return response.json(
            {
                "status": "ok",
                "handled": outcomes.count("claimed"),
                "duplicates": len(outcomes) - outcomes.count("claimed"),
            }
        )

    async def handle(self, message: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> str:
        """ "claimed" once handled, "done"/"busy" for a redelivery, "failed" (released: Meta delivers again)."""
        claim = await asyncio.to_thread(
            claims.claim, self.name(), message.message_id, message.sender_id, config.META_STALE_CLAIM_SECONDS
        )
        if claim != "claimed":
            logger.info("%s message %s delivered again: %s", self.name(), message.message_id, claim)
            return claim
        await asyncio.to_thread(store.note_inbound, self.name(), message.sender_id, message.sent_at)
        await asyncio.to_thread(note_reply, self.name(), message.sender_id, message.sent_at)
        try:
            await on_new_message(
                UserMessage(
                    message.text,
                    self.get_output_channel(),
                    message.sender_id,
                    input_channel=self.name(),
                    message_id=message.message_id,
                    metadata=message.metadata,
                )
            )
        except Exception:  # noqa: BLE001 - whatever it was, Meta must deliver the message again
            logger.exception("%s message %s could not be handled", self.name(), message.message_id)
            await asyncio.to_thread(claims.release, self.name(), message.message_id)
            return "failed"
        await asyncio.to_thread(claims.complete, self.name(), message.message_id)
        return "claimed"


# --- outbound -------------------------------------------------------------------------------------------


class GraphError(Exception):
    def __init__(self, status: int, message: str, retry_after: Optional[str] = None):
        super().__init__(f"Graph API {status}: {message}")
        self.status, self.reason, self.retry_after = status, message, retry_after


def _graph_error(status: int, body: Any, retry_after: Optional[str] = None) -> GraphError:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
        message = f"({error.get('code')}) {error.get('message')}" + (f": {details}" if details else "")
        return GraphError(status, message, retry_after)
    return GraphError(status, "no Graph error in the answer", retry_after)


class GraphClient:
    """POSTs to Meta's Graph API: always with timeouts; tried again only on 429 and 5xx answers (and when
    the connection itself was refused), never after a timeout, when Meta may have sent the message."""

    def __init__(self, base_url: str, attempts: Optional[int] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = max(1, attempts or config.META_GRAPH_ATTEMPTS)

    async def post(
        self,
        path: str,
        payload: Dict[str, Any],
        params: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Dict[str, Any]:
        timeout = aiohttp.ClientTimeout(sock_connect=config.HTTP_CONNECT_TIMEOUT, sock_read=config.HTTP_READ_TIMEOUT)
        for attempt in range(1, self.attempts + 1):
            try:
                async with aiohttp.ClientSession(timeout=timeout) as client:
                    async with client.post(
                        f"{self.base_url}/{path.lstrip('/')}", json=payload, params=params, headers=headers
                    ) as answer:
                        status, retry_after = answer.status, answer.headers.get("Retry-After")
                        try:
                            body = await answer.json(content_type=None)
                        except ValueError:
                            body = None
            except aiohttp.ClientConnectorError as error:  # nothing reached Meta: safe to try again
                if attempt == self.attempts:
                    raise GraphError(0, f"cannot connect ({error.__class__.__name__})") from None
                await asyncio.sleep(self._delay(attempt, None))
                continue
            except (asyncio.TimeoutError, aiohttp.ClientError) as error:
                raise GraphError(0, f"no answer ({error.__class__.__name__})") from None
            if status < 400:
                return body if isinstance(body, dict) else {}
            if (status == 429 or status >= 500) and attempt < self.attempts:
                await asyncio.sleep(self._delay(attempt, retry_after))
                continue
            raise _graph_error(status, body, retry_after)
        raise GraphError(0, "no attempt made")  # unreachable: attempts >= 1

    @staticmethod
    def _delay(attempt: int, retry_after: Optional[str]) -> float:
        try:
            return min(float(retry_after), 5.0)
        except (TypeError, ValueError):
            return 0.3 * 2 ** (attempt - 1)


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the cut shown by "…"."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def button_id(payload: str, limit: int) -> str:
    """The payload itself when the platform's id field takes it, else a stored short key."""
    return payload if len(payload) <= limit and not payload.startswith(store.KEY_PREFIX) else store.key_for(payload)


def choices_and_links(buttons: Sequence[Dict[str, Any]]) -> Tuple[List[Tuple[str, str]], List[str]]:
    """Rasa buttons as (title, payload) choices, and link buttons as "title: url" lines."""
    choices, links = [], []
    for button in buttons or []:
        title = str(button.get("title") or "").strip()
        if button.get("url"):
            links.append(f"{title}: {button['url']}" if title else str(button["url"]))
        elif button.get("payload") or title:
            choices.append((title or str(button["payload"]), str(button.get("payload") or title)))
    return choices, links


def conversation_language(text: str, *subjects: str) -> str:
    """The language the customer last chose (remembered by the action server), else the text's, else the default."""
    remembered = remembered_language(*subjects)
    if remembered in config.SUPPORTED_LANGUAGES:
        return remembered
    detected = detect_language(text or "")
    return detected if detected in config.SUPPORTED_LANGUAGES else config.DEFAULT_LANGUAGE


def numbered_options(text: str, choices: Sequence[Tuple[str, str]], language: str) -> str:
    """Options the platform cannot show as buttons, as a numbered list the assistant understands typed."""
    lines = [text.strip()] if text and text.strip() else []
    if choices:
        lines.append("\n".join(f"{n}. {title}" for n, (title, _) in enumerate(choices, start=1)))
        lines.append(render("channel_reply_with_number", language)["text"])
    return "\n\n".join(lines)


def with_links(text: str, links: Sequence[str]) -> str:
    return "\n".join([text.strip(), *links]).strip() if links else text


def window_open(channel: str, user_id: str) -> bool:
    """Has the customer written within the platform's customer-service window?"""
    last = store.last_inbound(channel, user_id)
    return last is not None and (clock.now() - last).total_seconds() < config.META_WINDOW_HOURS * 3600


class MetaOutput(OutputChannel):
    """Sends through the Graph API; a message Meta refuses is logged (never the token) and not retried."""

    def __init__(self, graph_url: Optional[str] = None) -> None:
        self.graph = GraphClient(graph_url or config.META_GRAPH_URL)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, dict):
            attachment = (attachment.get("payload") or {}).get("url") or attachment.get("url") or ""
        if attachment:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        logger.warning("%s: custom payloads are not sent (no text for the customer)", self.name())

    async def _post(
        self, path: str, payload: Dict[str, Any], campaign: Optional[CampaignMessage] = None, **request: Any
    ) -> Optional[Dict[str, Any]]:
        try:
            answer = await self.graph.post(path, payload, **request)
        except GraphError as error:
            logger.error("%s: message not sent: %s", self.name(), error)
            if campaign is not None:  # the sender must know it did not leave: back off (429) or fail it
                await asyncio.to_thread(
                    campaign_refused, campaign, self.name(), payload, error.status, error.reason, error.retry_after
                )
            return None
        if campaign is not None:
            await asyncio.to_thread(campaign_sent, campaign, self.name(), payload, answer)
        return answer
