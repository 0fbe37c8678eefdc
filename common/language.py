"""Which of fr / es / en a customer message is written in, decided offline.

Short messages ("ok", "no", "1", a phone number) say nothing about the language, so the
detector answers None for them and the conversation keeps its language (the slot is sticky).
Longer messages go to langid (its model ships inside the PyPI package), restricted to our
three languages, backed by a small lexicon of words that only one of them uses; the lexicon
alone decides greetings such as "hola" or "bjr" that langid gets wrong.
"""

import re
import threading
from typing import Dict, Optional

from common.text import without_accents

SUPPORTED = ("fr", "es", "en")

# Words typical of one language only. Words shared by two of them (no, si, ok, menu, plan,
# internet, me, la, de, que, mes, con, a) are left out on purpose.
LEXICON: Dict[str, set] = {
    "fr": set(
        """bonjour bjr bonsoir bsr salut slt coucou cc merci mrc mci svp stp sil vous plait
        oui ouais ouai voila daccord dacc je j jai veux voudrais voulais suis mon ma mes moi nous
        vous est cest quoi comment pourquoi combien quand avec pour pas rien aussi encore deja
        credit solde forfait recharger recharge rechargement aidez aide aurevoir revoir bien tres
        beaucoup bcp francais anglais espagnol parler parle peux pouvez sont mais trop reseau
        appel appels facture factures agence boutique rendez vous voulez faire dois jusqu tonton
        bonne journee soiree ya na kessia merciii""".split()
    ),
    "es": set(
        """hola holi ola buenas buenos buen dia dias tardes noches gracias grasias porfa
        xfa porfavor favor quiero quisiera tengo tiene mi mis cuanto cuanta cuantos como esta
        estoy necesito ayuda ayudame adios chao chau hasta luego claro dale vale bueno saldo
        recarga recargar paquete paquetigo megas llamadas factura facturas tienda cita hablar
        habla espanol ingles frances puedo puede quiero usted vos tu pues ahorita nada tambien
        ya nel simon sale listo donde porque para pero muy yo soy mande pisto chip celu cel
        prestamo presta queja reclamo""".split()
    ),
    "en": set(
        """hello hi hey hiya thanks thank thx thanx ty yes yeah yep yup please pls plz my i
        im want wanna need how what whats where when why is are the this that you your can could
        would will do does dont didnt balance help bye goodbye morning evening afternoon good
        great awesome english french spanish speak talk credit airtime bundle recharge topup top
        up buy check show lend borrow bill bills store shop book appointment agent person human
        abeg sorry ok okay fine with and of for have has got left much many""".split()
    ),
}
# "ok", "okay", "credit", "recharge" and "agent" also read as French: drop them from the English list.
LEXICON["en"] -= {"ok", "okay", "credit", "recharge", "agent", "fine", "bundle"}

LANGUAGE_NAMES = {
    "fr": {"fr", "french", "francais", "frances", "francés", "français", "francaise", "française"},
    "es": {"es", "spanish", "espanol", "español", "espagnol", "castellano", "spanol"},
    "en": {"en", "english", "anglais", "ingles", "inglés", "englais", "inglich"},
}

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_identifier = None
_identifier_lock = threading.Lock()


def _words(text: str):
    return [w for w in _WORD.findall(without_accents(text.lower().replace("'", " ")))]


def normalise_language_name(value: Optional[str]) -> Optional[str]:
    """'Español', 'anglais', 'en' -> the code we use, else None."""
    if not value:
        return None
    word = without_accents(str(value).strip().lower())
    for code, names in LANGUAGE_NAMES.items():
        if word in {without_accents(n) for n in names}:
            return code
    return None


def _langid():
    global _identifier
    with _identifier_lock:  # a thread must never see it before set_languages (97 languages against 3 crashes)
        if _identifier is None:
            from langid.langid import LanguageIdentifier, model

            identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
            identifier.set_languages(list(SUPPORTED))
            _identifier = identifier
    return _identifier


def lexicon_votes(words) -> Dict[str, int]:
    return {lang: sum(1 for w in words if w in vocab) for lang, vocab in LEXICON.items()}


def detect_language(text: str, min_words_for_model: int = 3, min_probability: float = 0.9) -> Optional[str]:
    """The language of `text`, or None when the message is too short or too mixed to be sure."""
    words = _words(text or "")
    if not words:
        return None
    votes = lexicon_votes(words)
    ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    (best, best_votes), (_, second_votes) = ranked[0], ranked[1]
    lexicon_pick = best if best_votes > second_votes else None
    if len(words) < min_words_for_model:
        return lexicon_pick
    lang, probability = _langid().classify(" ".join(words))
    if lexicon_pick and best_votes >= 2 and best_votes >= 2 * second_votes and lexicon_pick != lang:
        return lexicon_pick
    if probability >= min_probability:
        return lang
    return lexicon_pick
