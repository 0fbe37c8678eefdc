"""A card number typed in the chat is never an answer to anything.

Card payments happen on the gateway's hosted page only. When a message holds a card-like number
(13-19 digits passing the Luhn check), this component sets the intent to `share_card_number`
with certainty and drops every entity read from the message, so no journey consumes the digits
(a phone number or an amount inside a card number); the dialogue tells the customer not to do it.
The tracker store redacts the number before anything is written (privacy/tracker_store.py).
"""

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from privacy.redaction import has_card_number

INTENT_NAME = "share_card_number"
KEPT_ENTITIES = {"conversation_language"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class CardNumberGuard(GraphComponent, EntityExtractorMixin):
    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CardNumberGuard":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or not has_card_number(text):
                continue
            intent = {"name": INTENT_NAME, "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
            message.set(
                ENTITIES, [e for e in message.get(ENTITIES, []) if e.get("entity") in KEPT_ENTITIES], add_to_output=True
            )
        return messages
