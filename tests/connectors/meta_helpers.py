"""What the WhatsApp and Messenger connector tests share: the channel's blueprint served for real by Sanic,
a stand-in for Rasa's agent, Meta's signature, and what the sandbox recorded of the outbound messages."""

import asyncio
import copy
import hashlib
import hmac
import uuid
from contextlib import asynccontextmanager
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
import requests
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from tests.conftest import free_port


class Bot:
    """Rasa's `on_new_message` stand-in: records each message and answers it with `replies` (Rasa response
    dicts, sent through the message's output channel as Rasa does), or fails when told to."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.replies: List[Dict[str, Any]] = []
        self.fail, self.delay = False, 0.0

    async def __call__(self, message: UserMessage) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the model crashed")
        self.received.append(message)
        for reply in self.replies or [{"text": f"echo: {message.text}"}]:
            await message.output_channel.send_response(message.sender_id, copy.deepcopy(reply))

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.received]


@asynccontextmanager
async def serve(channel: InputChannel, bot: Bot):
    """The channel's blueprint at /webhooks/<name>, as Rasa mounts it, on a free port; yields the base URL."""
    app = Sanic(f"meta_{channel.name()}_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}"
    finally:
        server.close()
        await server.wait_closed()


def sign(body: bytes, secret: str, algorithm=hashlib.sha256) -> str:
    prefix = "sha256" if algorithm is hashlib.sha256 else "sha1"
    return f"{prefix}=" + hmac.new(secret.encode(), body, algorithm).hexdigest()


async def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    async with aiohttp.ClientSession() as client:
        async with client.post(
            f"{url}/webhook", data=body, headers={"Content-Type": "application/json", **(headers or {})}
        ) as answer:
            return answer.status, await answer.json(content_type=None)


async def get(url: str, **params: str) -> Tuple[int, str]:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{url}/webhook", params=params) as answer:
            return answer.status, await answer.text()


def recorded(sandbox: str, **filters: str) -> List[Dict[str, Any]]:
    """What the sandbox's Graph API accepted, oldest first."""
    answer = requests.get(f"{sandbox}/_sandbox/meta/messages", params=filters, timeout=10)
    answer.raise_for_status()
    return answer.json()


def inject_fault(sandbox: str, status: int, count: int = 1) -> None:
    requests.post(
        f"{sandbox}/_sandbox/faults", json={"service": "meta", "status": status, "count": count}, timeout=5
    ).raise_for_status()


def pending_faults(sandbox: str) -> Dict[str, Any]:
    return requests.get(f"{sandbox}/_sandbox/faults", timeout=5).json()
