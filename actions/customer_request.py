"""What a customer's request for a person is about, read from the conversation: the issue in their words, its
topic (the journey it came from), whether it is a complaint. Shared by create_ticket and human_handoff."""

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from common.text import fold

ISSUE_SLOT = "ticket_issue"
MAX_ISSUE = 1000
# Intents that say nothing about what the customer needs.
GENERIC_INTENTS = {
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank",
    "bot_challenge",
    "help",
    "out_of_scope",
    "change_language",
    "inform",
    "login",
    "logout",
    "create_ticket",
    "human_handoff",
    "nlu_fallback",
    "give_feedback",
    "share_card_number",
}
# Words of a request for a ticket itself ("I want to file a complaint"): what is left says what it is about.
REQUEST_WORDS = set(
    """
    je j veux voudrais aimerais faire une un des de d la le les l pour ouvrir creer deposer porter signaler
    ticket tickets reclamation reclamations reclamer plainte plaintes svp stp merci bonjour bonsoir probleme
    demande suivi s il vous plait ma mon
    quiero quisiera hacer poner abrir crear levantar presentar una el los las del por favor reclamo reclamos
    reclamar queja quejas problema solicitud hola gracias buenas mi
    i want would like to a an the make file open create raise lodge submit complaint complaints please hi
    hello problem request support case my
""".split()
)
# An explicit complaint: it is tagged, and on Zendesk messaging in business hours it goes to an agent now.
COMPLAINT_STEMS = (
    "reclam",
    "plainte",
    "plaindre",
    "mecontent",
    "inadmissible",
    "inacceptable",
    "scandal",
    "queja",
    "quejar",
    "inaceptable",
    "pesimo",
    "complain",
    "unacceptable",
    "disgrace",
)


def folded_words(text: str) -> List[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def is_payload(text: Optional[str]) -> bool:
    return (text or "").strip().startswith("/")


def says_what_about(text: str) -> bool:
    """Does this request for a ticket also say what it is about (three words beyond the request)?"""
    return not is_payload(text) and len([w for w in folded_words(text) if w not in REQUEST_WORDS and len(w) > 1]) >= 3


def is_complaint(text: str) -> bool:
    return any(w.startswith(COMPLAINT_STEMS) for w in folded_words(text))


def user_turns(tracker: Tracker) -> List[Dict[str, Any]]:
    return [e for e in tracker.events or [] if e.get("event") == "user"]


def intent_of(event: Dict[str, Any]) -> str:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""


def recent_question(tracker: Tracker, turns: int = 4) -> Optional[str]:
    """The help-centre question (or not-understood message) just before a tap on "Create a ticket"."""
    for event in reversed(user_turns(tracker)[-turns:-1]):
        if intent_of(event) in ("ask_faq", "nlu_fallback") and not is_payload(event.get("text")):
            return (event.get("text") or "").strip() or None
    return None


def described_issue(tracker: Tracker) -> Optional[str]:
    """What the message that asked for a ticket already says the ticket is about, if it does."""
    text = (tracker.latest_message or {}).get("text") or ""
    if says_what_about(text):
        return text.strip()[:MAX_ISSUE]
    return recent_question(tracker) if is_payload(text) else None


def topic_of(tracker: Tracker) -> str:
    """The journey the conversation was about: the latest meaningful intent of the last few messages."""
    turns = user_turns(tracker)
    for event in reversed(turns[-8:]):
        intent = intent_of(event)
        if intent and intent not in GENERIC_INTENTS and not intent.startswith("EXTERNAL_"):
            return intent
    latest = intent_of(turns[-1]) if turns else ""
    return "not_understood" if latest == "nlu_fallback" else "general"
