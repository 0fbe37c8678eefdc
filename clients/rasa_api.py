"""Rasa's own HTTP API, for the workers that speak into a conversation from outside (campaigns/sender.py):
`POST /conversations/<id>/trigger_intent?output_channel=latest`, with the server's token."""

from typing import Any, Dict
from urllib.parse import quote

import requests

from clients import http
from clients.errors import BackendError, BackendUnavailable
from common import config


class RasaClient:
    def __init__(self, url: str = None, token: str = None):
        self.url = (url or config.RASA_URL).rstrip("/")
        self.token = token if token is not None else config.RASA_AUTH_TOKEN
        self._http = http.session(retry_methods=())  # a retried trigger could speak twice

    def trigger_intent(self, conversation_id: str, intent: str, entities: Dict[str, Any]) -> bool:
        """Runs `intent` in the conversation, answered on the channel the customer last wrote on; True when the
        assistant said something (the proof that the customer was told)."""
        try:
            reply = self._http.post(
                f"{self.url}/conversations/{quote(conversation_id, safe='')}/trigger_intent",
                params={"output_channel": "latest", "token": self.token},
                json={"name": intent, "entities": entities},
                timeout=http.timeout(),
            )
        except requests.RequestException as error:
            raise BackendUnavailable(f"rasa: {type(error).__name__}") from None
        if reply.status_code >= 500:
            raise BackendUnavailable(f"rasa: {reply.status_code}")
        if reply.status_code != 200:
            raise BackendError("RASA_REFUSED", reply.text[:200], reply.status_code)
        events = (reply.json().get("tracker") or {}).get("events") or []
        ours = max((i for i, e in enumerate(events) if _is_external(e, intent)), default=-1)
        return ours >= 0 and any(e.get("event") == "bot" for e in events[ours + 1 :])


def _is_external(event: Dict[str, Any], intent: str) -> bool:
    return event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent
