"""A turn that fails inside Rasa (the tracker store or the lock store away for longer than their retries) ends with
a clear "please send it again" in the customer's language, instead of silence (REST: an empty list; socket.io:
nothing). So does a custom action that fails (no action server answered, or it failed: its database away): Rasa
drops the action's events and carries on without a word; here the customer is told, in the conversation's language.

The conversation's language slot cannot be read when the tracker store is what failed, so the language is the
message's own when it says (common/language.py), else the last one this process saw in that conversation, else the
one the action server remembered for it (the other replica may have served it), else the default. Nothing of the failed turn was stored, so sending the message again is safe.
"""

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.shared.exceptions import RasaException

from common import config
from common.i18n import render
from common.language import detect_language
from common.state import db

logger = logging.getLogger(__name__)
REMEMBERED_CONVERSATIONS = 10_000
_languages: "OrderedDict[Text, Text]" = OrderedDict()  # conversation id -> last language seen, most recent last


def language_for(message: UserMessage) -> Text:
    found = detect_language(message.text or "") if message.text and not message.text.startswith("/") else None
    if found:
        _languages[message.sender_id] = found
        _languages.move_to_end(message.sender_id)
        while len(_languages) > REMEMBERED_CONVERSATIONS:
            _languages.popitem(last=False)
        return found
    return _languages.get(message.sender_id) or remembered(message.sender_id) or config.DEFAULT_LANGUAGE


def remembered(conversation_id: Text) -> Optional[Text]:
    """The language the action server remembered for this conversation (another replica may have served it)."""
    try:
        return db.remembered_language(f"sender:{conversation_id}")
    except Exception:  # noqa: BLE001 - the database may be what failed
        return None


def answering_failures(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable]:
    async def handle(message: UserMessage) -> None:
        language = language_for(message)
        try:
            await on_new_message(message)
        except Exception:  # noqa: BLE001 - whatever failed, the customer must hear back
            logger.exception("turn of %s failed: the customer is asked to send the message again", message.sender_id)
            await message.output_channel.send_text_message(
                message.sender_id, render("channel_try_again", language)["text"]
            )

    return handle


def answering_action_failures(run: Callable[..., Awaitable[List]]) -> Callable[..., Awaitable[List]]:
    """Wraps RemoteAction.run: an action server that is unreachable or fails answers "please send it again"."""
    from rasa.core.actions.action import ActionExecutionRejection, create_bot_utterance

    async def run_or_apologise(self, output_channel, nlg, tracker, domain) -> List:
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise  # a form's "not this slot": Rasa's own control flow
        except (RasaException, asyncio.TimeoutError) as error:
            logger.error("action %s failed, the customer is asked to send the message again: %s", self.name(), error)
            language = tracker.get_slot("language")
            language = language if language in config.SUPPORTED_LANGUAGES else config.DEFAULT_LANGUAGE
            return [create_bot_utterance(render("channel_try_again", language))]

    run_or_apologise.apologises = True
    return run_or_apologise
