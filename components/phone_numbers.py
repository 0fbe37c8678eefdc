"""Phone numbers in free text, found by phonenumbers rather than guessed word by word.

The CRF reads a number token by token and misses the ways people write one ("97.45.12.03", "+502 5123-4567",
"numero 42158796"). phonenumbers knows every market's lengths and separators: a number it finds replaces
whatever the CRF read over the same characters. The value stays as typed; the actions turn it into E.164
(common/phone.py) with the customer's market.
"""

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from common.phone import spans

ENTITY = "phone_number"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PhoneNumberExtractor(GraphComponent, EntityExtractorMixin):
    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PhoneNumberExtractor":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = spans(text) if not text.startswith("/") else []
            if not found:
                continue
            kept = [
                e
                for e in message.get(ENTITIES, [])
                if "start" not in e or all(e["end"] <= a or e["start"] >= b for a, b in found)
            ]
            numbers = [
                {"entity": ENTITY, "start": a, "end": b, "value": text[a:b], "extractor": self.__class__.__name__}
                for a, b in found
            ]
            message.set(ENTITIES, sorted(kept + numbers, key=lambda e: e.get("start", -1)), add_to_output=True)
        return messages
