"""What the IVR says in each language: Twilio's text-to-speech in fr, es and en (common/messages/voice.yml, and the
assistant's own messages written for the ear, common/speech.py); operator-supplied recordings in the languages
we have no text for (Fon, Bariba): VOICE_RECORDINGS_DIR/<language>/<prompt>.wav, one per prompt of PROMPTS.

A missing recording is said in French instead (never a text invented in Fon or Bariba), and every missing one is
listed in the log when the channel starts (`report_missing`)."""

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

from common import config
from common.i18n import render
from common.speech import for_the_ear

logger = logging.getLogger(__name__)
FALLBACK_LANGUAGE = "fr"
# The IVR's own prompts, each a message of common/messages/voice.yml and the name of its recording.
PROMPTS = (
    "voice_welcome",
    "voice_language_key",
    "voice_menu",
    "voice_next",
    "voice_no_such_choice",
    "voice_transfer",
    "voice_goodbye",
    "voice_closed",
)


def recorded_languages() -> List[str]:
    return [language for language in config.VOICE_LANGUAGES if language not in config.SUPPORTED_LANGUAGES]


def text_language(language: Optional[str]) -> str:
    """The language the assistant talks in: the caller's, or French for a recorded language."""
    return language if language in config.SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE


def recording(language: str, prompt: str) -> Optional[Path]:
    path = Path(config.VOICE_RECORDINGS_DIR) / language / f"{prompt}.wav"
    return path if path.is_file() else None


def missing_recordings() -> Dict[str, List[str]]:
    return {
        language: [prompt for prompt in PROMPTS if recording(language, prompt) is None]
        for language in recorded_languages()
    }


def report_missing() -> None:
    for language, prompts in missing_recordings().items():
        if prompts:
            logger.warning(
                "voice: no %s recording for %s in %s: said in French instead",
                language,
                ", ".join(prompts),
                Path(config.VOICE_RECORDINGS_DIR) / language,
            )


def say(text: str, language: str) -> Dict[str, Any]:
    return {"say": text, "language": language}


def prompt(key: str, language: Optional[str], **values: Any) -> Dict[str, Any]:
    """One of PROMPTS (or another voice message) in the caller's language: a recording, or text to say."""
    if language not in config.SUPPORTED_LANGUAGES and recording(language or "", key):
        return {"play": f"{language}/{key}.wav"}
    spoken = text_language(language)
    return say(render(key, spoken, **values)["text"], spoken)


def language_choice(language: str, digit: int) -> Dict[str, Any]:
    """ "For English, press 3", said in that language (recorded, or in French naming the recorded language)."""
    if language in config.SUPPORTED_LANGUAGES:
        return say(render("voice_language_key", language, digit=digit)["text"], language)
    if recording(language, "voice_language_key"):
        return {"play": f"{language}/voice_language_key.wav"}
    name = render(f"voice_language_name_{language}", FALLBACK_LANGUAGE)["text"]
    return say(render("voice_language_key_named", FALLBACK_LANGUAGE, name=name, digit=digit)["text"], FALLBACK_LANGUAGE)


def assistant_message(message: Dict[str, Any], language: Optional[str]) -> Optional[Dict[str, Any]]:
    """One of the assistant's messages, written for the ear in the conversation's language."""
    spoken = text_language(language)
    text = for_the_ear(str(message.get("text") or ""), spoken)
    return say(text, spoken) if text else None
