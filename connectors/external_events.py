"""What the connectors that speak for the operator's systems share (connectors/payment_webhook.py: a payment went
through; connectors/zendesk_messaging.py: an agent handed the conversation back).

`tell_conversation` is what Rasa's `POST /conversations/<id>/trigger_intent?output_channel=latest` does, done
inside the Rasa process: an external intent (`EXTERNAL_...`) in the conversation, under its lock, answered on
the conversation's latest channel, with proof that the bot answered (so a webhook that could not be acted on
is answered 5xx and delivered again, never lost).
"""

from typing import Any, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.shared.core.events import BotUttered
from sanic import response
from sanic.response import HTTPResponse


def webhook_answer(status: int, outcome: str, **extra: Any) -> HTTPResponse:
    """A webhook's JSON answer: {"status": outcome, ...}, with the HTTP status the platform acts on."""
    return response.json({"status": outcome, **extra}, status=status)


def output_channel_for(app: Any, tracker: Any) -> OutputChannel:
    """As rasa.server._get_output_channel with `output_channel=latest`: the conversation's latest input channel
    among the registered ones, if it can make an output channel; else a CollectingOutputChannel."""
    latest = tracker.get_latest_input_channel()
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == latest:
            output = channel.get_output_channel()
            if output is not None:
                return output
    return CollectingOutputChannel()


async def tell_conversation(
    app: Any, agent: Any, conversation_id: str, intent: str, entities: List[Dict[str, Any]]
) -> bool:
    """Triggers an external intent in the conversation; True once the bot has answered it."""
    async with agent.lock_store.lock(conversation_id):
        if intent not in agent.domain.intents:
            raise RuntimeError(f"the loaded model's domain has no intent {intent}")
        output = output_channel_for(app, await agent.processor.get_tracker(conversation_id))
        # a new session starts first if the last one expired (its start may speak: on the same channel)
        tracker = await agent.processor.fetch_tracker_and_update_session(conversation_id, output)
        before = len(tracker.events)
        await agent.trigger_intent(intent_name=intent, entities=entities, output_channel=output, tracker=tracker)
        # A failing action server does not raise here (Rasa logs it and carries on): the proof that the
        # customer was told is a bot message after our event.
        return any(isinstance(event, BotUttered) for event in list(tracker.events)[before:])
