"""Rasa's socket.io channel (the web chat page), with session ids that only the server chooses.

credentials.yml:   connectors.socketio.SocketIOInput:   (the same keys as Rasa's `socketio:`)
routes:            /socket.io (as Rasa's)

With `session_persistence`, Rasa's SocketIOInput takes the browser's `session_id` as the conversation id, so a
browser could name any conversation, a WhatsApp customer's phone number among them, and its verified identity
(actions/identity/sessions.py). Here:
- `session_request` confirms the browser's id only if it is one the server could have issued (32 lowercase hex,
  `uuid4().hex`: the web chat widget asks with none the first time, then keeps what the server confirmed);
  anything else gets a fresh one;
- a message whose `session_id` is not of that form is dropped;
- the conversation is `web:<session id>`, apart from every other channel's ids. Replies go to the socket.io
  room of that name (Rasa's SocketIOOutput emits to the room named by the conversation id), which the
  browser's socket joins.
"""

import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint

from connectors import rasa_runtime, try_again

logger = logging.getLogger(__name__)

PREFIX = "web:"
ISSUED = re.compile(r"[0-9a-f]{32}")  # uuid.uuid4().hex


def issued(session_id: Any) -> bool:
    return isinstance(session_id, str) and ISSUED.fullmatch(session_id) is not None


def confirmed_session(asked: Any) -> Text:
    """The session id to confirm to a browser that asked for `asked`."""
    return asked if issued(asked) else uuid.uuid4().hex


class SocketIOInput(socketio.SocketIOInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rasa_runtime.install()  # once per Rasa process, when it builds its channels
        on_new_message = try_again.answering_failures(on_new_message)
        webhook = super().blueprint(on_new_message)
        webhook.after_server_stop(rasa_runtime.close_kept_sessions)
        sio = self.sio  # set by Rasa's blueprint; registering our handlers below replaces Rasa's for these events

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = confirmed_session((data or {}).get("session_id"))
            if self.session_persistence:
                sio.enter_room(sid, PREFIX + session_id)  # a reconnected page gets what is sent before it speaks
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            session_id = data.get("session_id") if self.session_persistence else sid
            if self.session_persistence and not issued(session_id):
                logger.warning("socket.io message without a server-issued session_id: dropped")
                return
            sender_id = PREFIX + session_id
            sio.enter_room(sid, sender_id)
            metadata = data.get(self.metadata_key, {})
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            output = socketio.SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(
                UserMessage(data.get("message", ""), output, sender_id, input_channel=self.name(), metadata=metadata)
            )

        return webhook
