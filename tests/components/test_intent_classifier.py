import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import SentenceIntentClassifier, skeleton, skeletons

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
    assert classifier.skeletons is not None  # every block, the word skeletons' included
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


def test_a_word_without_its_vowels_has_the_words_skeleton():
    assert skeleton("bonjour") == skeleton("bnjr") == "bnjr"
    assert skeleton("gracias") == skeleton("grcs") == "grcs"
    assert skeleton("recharger") == skeleton("rechargeer") == "rchrgr"
    # digits and one-letter skeletons ("a", "toi") are no words to read
    assert skeletons("Gud MORNIIING, 2000 a toi") == ["gd", "mrng"]


def trained(folder, **config):
    folder.mkdir()
    examples = [message(text, intent) for intent, texts in EXAMPLES.items() for text in texts]
    found = SentenceIntentClassifier({"min_df": 1, **config}, Storage(folder), resource=None)
    found.train(TrainingData(training_examples=examples))
    return found


@pytest.mark.parametrize("text, intent", [("bnjr", "greet"), ("blnc", "check_balance"), ("rchrg", "top_up")])
def test_the_skeleton_block_reads_sms_spellings_without_vowels(tmp_path, text, intent):
    with_skeletons, without = trained(tmp_path / "with"), trained(tmp_path / "without", skeleton_weight=0)
    assert without.skeletons is None
    assert with_skeletons.features([message(text)]).shape[1] > without.features([message(text)]).shape[1]
    [ours] = with_skeletons.process([message(text)])
    assert ours.get("intent")["name"] == intent
    index = list(without.classifier.classes_).index(intent)
    before = without.probabilities([message(text)])[0, index]
    assert with_skeletons.probabilities([message(text)])[0, index] > before
