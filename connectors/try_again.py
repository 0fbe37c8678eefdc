"""A turn that fails inside Rasa (the tracker store or the lock store away for longer than their retries) ends with
a clear "please send it again" in the customer's language, instead of silence (REST: an empty list; socket.io:
nothing).

The conversation's language slot cannot be read when the tracker store is what failed, so the language is the
message's own when it says (common/language.py), else the last one this process saw in that conversation, else the
default. Nothing of the failed turn was stored, so sending the message again is safe.
"""

import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage

from common import config
from common.i18n import render
from common.language import detect_language

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
    return _languages.get(message.sender_id, config.DEFAULT_LANGUAGE)


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
