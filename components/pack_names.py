"""A pack's name is one entity even when it joins two sizes with "+" ("Combo 5 GB + 200 min").

The tokenizer drops the "+", so the CRF sees "... 5 GB 200 min" and often cuts it in two packs. Two pack
entities with only a "+" between them are one pack, named from the first word of the first to the last of the second.
"""

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

ENTITY = "pack"
PLUS = re.compile(r"\s*\+\s*")


def joined(text: str, entities: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """The entities, with each run of packs joined by "+" made one pack."""
    out: List[Dict[Text, Any]] = []
    for entity in sorted(entities, key=lambda e: e.get("start", -1)):
        last = out[-1] if out else None
        if (
            last is not None
            and last.get("entity") == ENTITY == entity.get("entity")
            and "end" in last
            and "start" in entity
            and PLUS.fullmatch(text[last["end"] : entity["start"]])
        ):
            out[-1] = {**last, "end": entity["end"], "value": text[last["start"] : entity["end"]]}
        else:
            out.append(entity)
    return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PackNameJoiner(GraphComponent, EntityExtractorMixin):
    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PackNameJoiner":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES, [])
            if sum(e.get("entity") == ENTITY for e in entities) > 1:
                message.set(ENTITIES, joined(message.get(TEXT) or "", entities), add_to_output=True)
        return messages
