"""The Sunshine Conversations v2 API as the bot uses it: post a message into a conversation, pass control of
it to another switchboard integration (HTTP Basic with the app's API key)."""

import asyncio
import logging
from typing import Any, Dict, Tuple

import aiohttp

from common import config

logger = logging.getLogger(__name__)


class SunshineConversations:
    """The two calls the bot makes: post a message, pass control."""

    def __init__(self, base_url: str = None, app_id: str = None, key_id: str = None, key_secret: str = None):
        self.base_url = (base_url or config.SUNCO_BASE_URL).rstrip("/")
        self.app_id = app_id or config.SUNCO_APP_ID
        self.auth = aiohttp.BasicAuth(key_id or config.SUNCO_KEY_ID, key_secret or config.SUNCO_KEY_SECRET)

    def url(self, conversation_id: str, operation: str) -> str:
        return f"{self.base_url}/v2/apps/{self.app_id}/conversations/{conversation_id}/{operation}"

    async def _post(self, url: str, body: Dict[str, Any], retry_on_no_answer: bool) -> Tuple[int, Any]:
        timeout = aiohttp.ClientTimeout(sock_connect=config.HTTP_CONNECT_TIMEOUT, sock_read=config.HTTP_READ_TIMEOUT)
        for attempt in (1, 2):
            try:
                async with aiohttp.ClientSession(timeout=timeout) as client:
                    async with client.post(url, json=body, auth=self.auth) as answer:
                        status = answer.status
                        found = await answer.json(content_type=None) if answer.content_length != 0 else None
                        if attempt == 1 and status in (429, 502, 503, 504):
                            # SunCo did not take it: once more, after what it asks (within reason)
                            await asyncio.sleep(min(float(answer.headers.get("Retry-After") or 1), 5))
                            continue
                        return status, found
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                if attempt == 1 and retry_on_no_answer:
                    continue
                logger.warning("sunco: POST %s failed: %s", url.rsplit("/", 1)[-1], type(error).__name__)
                return 0, None
        return 0, None

    async def post_message(self, conversation_id: str, content: Dict[str, Any]) -> bool:
        # A message is not idempotent: no retry when the answer is lost (it may have been posted).
        status, found = await self._post(
            self.url(conversation_id, "messages"), {"author": {"type": "business"}, "content": content}, False
        )
        if status != 201:
            logger.error("sunco: message to conversation %s refused: %s %s", conversation_id, status, found)
        return status == 201

    async def pass_control(self, conversation_id: str, integration: str, metadata: Dict[str, str]) -> bool:
        # passControl to the integration already in control changes nothing: safe to retry.
        status, found = await self._post(
            self.url(conversation_id, "passControl"),
            {"switchboardIntegration": integration, "metadata": metadata},
            True,
        )
        if status != 200:
            logger.error("sunco: passControl of conversation %s refused: %s %s", conversation_id, status, found)
        return status == 200
