"""Intent classifier: a linear model over character n-grams, word n-grams, word skeletons and sentence embeddings.

Measured on our data (make eval), it beats DIET on unseen wordings in all three languages and
trains in well under a minute on two cores: character n-grams catch typos and SMS spellings
("slt", "bjr", "xfa"), word n-grams the key words, word skeletons (a word without its vowels) the SMS spellings
that drop vowels ("bnjr", "grcs", "pls"), and the multilingual sentence embedding
(SentenceEncoderFeaturizer) the meaning of paraphrases it has never seen.
"""

import logging
import math
import re
from collections import Counter
from typing import Any, Dict, List, Text

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.extmath import softmax

from common.text import fold, squash_repeats

logger = logging.getLogger(__name__)
FILE = "intent_classifier.joblib"
WORD = re.compile(r"(?u)\b\w+\b")


def normalise(text: str) -> str:
    """Lower case, no accents, no letter three times in a row, every digit a 0: 'Crédit 5000' and
    'crediiit 2000' look alike."""
    return re.sub(r"\d", "0", squash_repeats(fold(text)))


def skeleton(token: str) -> str:
    """A word without its vowels after the first letter, doubled letters once: SMS spellings drop vowels, so
    "bnjr" and "bonjour" are both "bnjr", "grcs" and "gracias" both "grcs", "pls" and "please" both "pls"."""
    return re.sub(r"(.)\1+", r"\1", token[:1] + re.sub(r"[aeiouy]", "", token[1:]))


def skeletons(text: str) -> List[str]:
    """The skeletons of a text's words (analyzer of the skeleton block); digits and one-letter skeletons are left out."""
    found = (skeleton(token) for token in WORD.findall(normalise(text)) if token.isalpha())
    return [s for s in found if len(s) > 1]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "char_ngram_range": [2, 5],
            "word_ngram_range": [1, 2],
            "min_df": 2,
            # how much the sentence embedding counts against the n-grams (tuned with make eval)
            "sentence_weight": 2.0,
            "C": 50.0,
            "max_iter": 2000,
            "ranking_length": 10,
            # weight of the block of word skeletons ("grcs", "gracias": "grcs"; tuned with make eval); 0: no such block
            "skeleton_weight": 0.7,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, model=None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        model = model or {}
        if isinstance(model, tuple):  # a model saved before the skeleton block
            model = dict(zip(("chars", "words", "classifier"), model))
        self.chars, self.words, self.classifier = model.get("chars"), model.get("words"), model.get("classifier")
        self.skeletons = model.get("skeletons")
        self._weights = None  # the classifier's coefficients, transposed once (see probabilities)
        self._skeleton_idf = None  # the skeleton block's idf, read once (see _skeleton_scores)

    @classmethod
    def create(cls, config, model_storage, resource, execution_context: ExecutionContext) -> "SentenceIntentClassifier":
        return cls(config, model_storage, resource)

    def _sentence_vectors(self, messages: List[Message]) -> np.ndarray:
        rows = []
        for message in messages:
            _, sentence = message.get_dense_features(TEXT)
            if sentence is None:
                raise ValueError("SentenceIntentClassifier needs SentenceEncoderFeaturizer before it in the pipeline")
            rows.append(sentence.features.reshape(-1))
        return np.vstack(rows) * self.config["sentence_weight"]

    def _sparse_blocks(self, texts: List[str]) -> list:
        """The sparse feature blocks: character n-grams, word n-grams and, when configured, word skeletons."""
        blocks = [self.chars.transform(texts), self.words.transform(texts)]
        if self.skeletons is not None:
            blocks.append(self.skeletons.transform(texts) * self.config["skeleton_weight"])
        return blocks

    def features(self, messages: List[Message]):
        """The matrix the classifier is trained on: the sparse blocks and the sentence vector."""
        texts = [m.get(TEXT) for m in messages]
        return hstack([*self._sparse_blocks(texts), csr_matrix(self._sentence_vectors(messages))]).tocsr()

    def probabilities(self, messages: List[Message]) -> np.ndarray:
        """The classifier's predict_proba over `features(messages)`, without its cost per message. scikit-learn
        multiplies the features by `coef_.T`, a Fortran-ordered view that scipy copies whole (36 x 41 000 floats)
        on every call: 4.5 ms of the Rasa process's CPU per message. Here the coefficients are split by feature
        block (character n-grams, word n-grams, word skeletons, sentence vector) and transposed once, and each block
        is multiplied as it comes, without stacking them into one sparse matrix; the word skeletons' scores are summed
        straight from their rows of coefficients (`_skeleton_scores`); the softmax is the one predict_proba applies
        to a multinomial model (tests/components/test_intent_classifier.py checks they agree). Any other kind of
        model is asked directly."""
        classifier = self.classifier
        multinomial = classifier.multi_class in ("auto", "multinomial") and classifier.solver != "liblinear"
        if not multinomial or len(classifier.classes_) <= 2:
            return classifier.predict_proba(self.features(messages))
        if self._weights is None:
            weights = np.ascontiguousarray(classifier.coef_.T)
            sizes = [len(self.chars.vocabulary_), len(self.words.vocabulary_)]
            sizes += [len(self.skeletons.vocabulary_)] if self.skeletons is not None else []
            self._weights = np.split(weights, np.cumsum(sizes))
        texts = [m.get(TEXT) for m in messages]
        scores = self.chars.transform(texts) @ self._weights[0] + self.words.transform(texts) @ self._weights[1]
        scores = np.asarray(scores)
        if self.skeletons is not None:
            scores += self._skeleton_scores(texts, self._weights[2])
        # einsum, not @: a BLAS product would wake OpenBLAS's threads, which then spin on the second core
        scores += np.einsum("ij,jk->ik", self._sentence_vectors(messages), self._weights[-1])
        scores += classifier.intercept_
        return softmax(scores, copy=False)

    def _skeleton_scores(self, texts: List[str], weights: np.ndarray) -> np.ndarray:
        """`self.skeletons.transform(texts) * skeleton_weight @ weights`, computed as the vectorizer does (sublinear
        term frequency times idf, each row of unit length) but without building a sparse matrix: a message has a few
        words, and the vectorizer's own transform costs about 350 us per call."""
        if self._skeleton_idf is None:  # the vectorizer computes idf_ anew at every read (about 90 us)
            self._skeleton_idf = self.skeletons.idf_.tolist()
        vocabulary, idf = self.skeletons.vocabulary_, self._skeleton_idf
        scores = np.zeros((len(texts), weights.shape[1]))
        for row, text in enumerate(texts):
            counts = Counter(vocabulary[s] for s in skeletons(text) if s in vocabulary)
            if counts:
                columns = list(counts)
                values = [(1 + math.log(n)) * idf[column] for column, n in counts.items()]
                scale = self.config["skeleton_weight"] / math.sqrt(sum(v * v for v in values))
                scores[row] = np.dot(np.array(values) * scale, weights[columns])
        return scores

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if not examples:
            return self._resource
        texts = [m.get(TEXT) for m in examples]
        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(self.config["char_ngram_range"]),
            min_df=self.config["min_df"],
            sublinear_tf=True,
            preprocessor=normalise,
        )
        self.words = TfidfVectorizer(
            analyzer="word",
            ngram_range=tuple(self.config["word_ngram_range"]),
            sublinear_tf=True,
            preprocessor=normalise,
            token_pattern=r"(?u)\b\w+\b",
        )
        self.chars.fit(texts)
        self.words.fit(texts)
        self.skeletons = None
        if self.config["skeleton_weight"]:
            self.skeletons = TfidfVectorizer(analyzer=skeletons, min_df=self.config["min_df"], sublinear_tf=True)
            self.skeletons.fit(texts)
        self.classifier = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"], random_state=42)
        self.classifier.fit(self.features(examples), [m.get(INTENT) for m in examples])
        self._weights = self._skeleton_idf = None
        with self._model_storage.write_to(self._resource) as directory:
            model = {"chars": self.chars, "words": self.words, "classifier": self.classifier}
            joblib.dump({**model, "skeletons": self.skeletons}, directory / FILE)
        return self._resource

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs) -> "SentenceIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                # our own training output, inside our own model archive
                return cls(config, model_storage, resource, joblib.load(directory / FILE))
        except (ValueError, FileNotFoundError):
            logger.debug("No trained intent classifier found; messages get no intent.")
            return cls(config, model_storage, resource)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if self.classifier is None or not message.get(TEXT):
                # an empty message (some widgets send one on open) has no intent; the fallback decides
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        todo = [m for m in messages if m.get(TEXT)] if self.classifier is not None else []
        if not todo:
            return messages
        probabilities = self.probabilities(todo)
        for message, row in zip(todo, probabilities):
            order = np.argsort(-row)[: self.config["ranking_length"]]
            ranking = [{"name": str(self.classifier.classes_[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
