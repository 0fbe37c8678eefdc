import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import SentenceIntentClassifier

EXAMPLES = {
    "check_balance": ["how much credit do I have", "mi saldo por favor", "quel est mon crédit", "balance"],
    "top_up": ["recharge 1000", "quiero recargar", "top up my phone", "je veux recharger"],
    "greet": ["hello", "hola", "bonjour", "slt"],
    "goodbye": ["bye", "adios", "au revoir", "ciao"],
}


class Storage:
    """Enough of Rasa's ModelStorage for train(): a folder per resource."""

    def __init__(self, folder):
        self.folder = folder

    def write_to(self, resource):
        from contextlib import contextmanager

        @contextmanager
        def opened():
            yield self.folder

        return opened()


def message(text, intent=None, scale=0.0):
    """A message as the sentence encoder leaves it; its vector a stand-in (a fixed one per text, times scale)."""
    found = Message(data={"text": text, **({"intent": intent} if intent else {})})
    seed = sum(ord(c) for c in text)
    vector = (scale * np.random.default_rng(seed).normal(size=(1, 8))).astype(np.float32)
    from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
    from rasa.shared.nlu.training_data.features import Features

    found.add_features(Features(vector, FEATURE_TYPE_SENTENCE, TEXT, "encoder"))
    return found


@pytest.fixture
def classifier(tmp_path):
    examples = [message(text, intent) for intent, texts in EXAMPLES.items() for text in texts]
    trained = SentenceIntentClassifier({"min_df": 1}, Storage(tmp_path), resource=None)
    trained.train(TrainingData(training_examples=examples))
    return trained


def test_the_probabilities_are_scikit_learns(classifier):
    texts = ["what is my balance", "recargar 500", "hi there", "byeee", "xyz"]
    messages = [message(t, scale=1.0) for t in texts]
    ours = classifier.probabilities(messages)
    features = classifier.features(messages)
    np.testing.assert_allclose(ours, classifier.classifier.predict_proba(features), rtol=1e-9, atol=1e-12)
    assert ours.shape == (5, 4)


def test_a_message_gets_the_intent_and_a_ranking(classifier):
    [processed] = classifier.process([message("how much credit do I have please")])
    assert processed.get("intent")["name"] == "check_balance"
    ranking = processed.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "check_balance" and len(ranking) == 4
    assert abs(sum(r["confidence"] for r in ranking) - 1) < 1e-9
