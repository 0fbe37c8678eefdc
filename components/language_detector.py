"""Tells Rasa which language the conversation should continue in, message by message.

Emits the entity `conversation_language` (fr / es / en), which fills the `language` slot:
- the language the customer asked for, when they ask to switch ("can we speak Spanish");
- otherwise the language the message is written in, when the detector is sure;
- nothing at all for "ok", "1", a phone number...: the slot keeps its value (sticky).
"""

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from common.language import detect_language, normalise_language_name

ENTITY = "conversation_language"
SWITCH_INTENTS = {"change_language", "inform"}


def requested_language(message: Message):
    """The language named in a request to switch, if there is one."""
    intent = (message.get(INTENT) or {}).get("name")
    if intent not in SWITCH_INTENTS:
        return None
    for entity in message.get(ENTITIES, []):
        if entity.get("entity") == "language":
            code = normalise_language_name(entity.get("value"))
            if code:
                return code
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_words_for_model": 3, "min_probability": 0.9}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls(config)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["langid"]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload says nothing about the language
            code = requested_language(message) or detect_language(
                text, self._config["min_words_for_model"], self._config["min_probability"]
            )
            if code:
                entity = {
                    "entity": ENTITY,
                    "value": code,
                    "start": 0,
                    "end": len(text),
                    "confidence": 1.0,
                    "extractor": self.__class__.__name__,
                }
                message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages
