"""Rasa's REST channel, with the client's sender kept apart from every other channel's conversation ids.

credentials.yml:   connectors.rest.RestInput:
routes:            POST /webhooks/rest/webhook {"sender", "message"}, GET /webhooks/rest/ (as Rasa's)

Rasa's RestInput lets the client choose the conversation id (`sender`) and the channel name (`input_channel`).
Other channels' ids are guessable (a WhatsApp conversation's is the customer's phone number) and verified
identities are kept per conversation id (actions/identity/sessions.py), so here the conversation is always
`rest:<sender>` and the channel always `rest`: a REST client reaches only REST conversations, and can never
pass for WhatsApp, whose channel proves the customer's number (actions/dialogue/account.py channel_identity).
"""

from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels import rest
from rasa.core.channels.channel import UserMessage
from rasa.shared.constants import DEFAULT_SENDER_ID
from sanic import Blueprint
from sanic.request import Request

from connectors import rasa_runtime, try_again

PREFIX = "rest:"


def conversation_id(sender: Optional[object]) -> Text:
    """The conversation a REST client's `sender` names (Rasa's default sender when it names none)."""
    return PREFIX + str(DEFAULT_SENDER_ID if sender is None else sender)


class RestInput(rest.RestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rasa_runtime.install()  # once per Rasa process, when it builds its channels
        blueprint = super().blueprint(try_again.answering_failures(on_new_message))
        blueprint.after_server_stop(rasa_runtime.close_kept_sessions)
        return blueprint

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return conversation_id(await super()._extract_sender(req))

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()
