"""How the intent features survive what customers do to words: capitals, missing accents, stretched letters."""

import numpy as np

from components.intent_classifier import normalise
from components.sentence_encoder import SentenceEncoderFeaturizer


def featurizer(**config):
    return SentenceEncoderFeaturizer("sentence_encoder", {**SentenceEncoderFeaturizer.get_default_config(), **config})


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_ngram_text_ignores_case_accents_stretched_letters_and_which_digits():
    assert normalise("NOOON, mon Crédit 5000") == normalise("non, mon credit 2000") == "non, mon credit 0000"


def test_capitals_and_stretched_letters_give_the_same_sentence_vector():
    vectors = featurizer().vectors(["MA DETTE SVP", "ma dette svp", "nooon merciii", "non merci"])
    assert np.allclose(vectors[0], vectors[1], atol=1e-5) and np.allclose(vectors[2], vectors[3], atol=1e-5)


def test_a_message_without_accents_lands_nearer_its_accented_twin_than_the_encoder_alone_puts_it():
    texts = ["crédit épuisé, je veux un forfait", "credit epuise, je veux un forfait"]
    mean = featurizer().vectors(texts)
    plain = featurizer(accent_free_mean=False).vectors(texts)
    assert cosine(*mean) > cosine(*plain)
