import numpy as np

from components.sentence_encoder import SentenceEncoderFeaturizer, encoder


def featurizer(accent_free_mean=True):
    return SentenceEncoderFeaturizer(
        "encoder", {**SentenceEncoderFeaturizer.get_default_config(), "accent_free_mean": accent_free_mean}
    )


def test_a_text_with_accents_is_the_mean_of_both_spellings_and_one_without_is_itself():
    texts = ["Quel est mon crédit ?", "how much credit do I have", "¿Cuánto saldo tengo?", "saldo de mi cel"]
    vectors = featurizer().vectors(texts)
    alone = [encoder().encode([text]).astype(np.float32)[0] for text in (t.lower() for t in texts)]
    bare = [
        encoder().encode([text]).astype(np.float32)[0] for text in ("quel est mon credit ?", "¿cuanto saldo tengo?")
    ]
    expected = [(alone[0] + bare[0]) / 2, alone[1], (alone[2] + bare[1]) / 2, alone[3]]
    assert vectors.shape == (4, 512)
    np.testing.assert_allclose(vectors, np.stack(expected), atol=1e-5)


def test_without_the_accent_free_mean_each_text_is_encoded_once():
    texts = ["Quel est mon crédit ?", "hola"]
    expected = encoder().encode([t.lower() for t in texts]).astype(np.float32)
    np.testing.assert_allclose(featurizer(accent_free_mean=False).vectors(texts), expected, atol=1e-5)
