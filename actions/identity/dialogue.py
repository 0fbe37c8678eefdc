"""The identification conversation: phone number + SMS code, or home contract + ID document.

identify_form asks the slots; ValidateIdentifyForm checks every answer server-side. The code
itself never becomes a slot value: the form only ever records "verified" (and the tracker store
redacts the message that carried it).
"""

import hmac
import logging
import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss, sms
from actions.dialogue import state
from actions.dialogue.account import IDENTIFICATION_SLOTS as FORM_SLOTS
from actions.dialogue.account import JOURNEYS, start_identification
from actions.i18n import language_of, say
from actions.identity import otp, sessions
from actions.outage_notice import notice_for_current_line
from clients import BackendError, BackendUnavailable
from common import clock, config, phone
from common.i18n import render
from common.state import remember_language, remembered_language

logger = logging.getLogger(__name__)
CONTRACT = re.compile(r"\b([A-Za-z]{2})[\s-]?(\d{6})\b")
CODE = re.compile(r"(?<!\d)(\d{3})\s?(\d{3})(?!\d)")
# An answer that is only digits (and the spaces, dots, dashes, brackets and "+" people type between them): a number or
# a code given in the wrong shape, to be answered with the right shape rather than treated as a change of subject.
DIGITS_ONLY = re.compile(r"[+(]?\d[\d\s.()-]*")
DOCUMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{4,24}[A-Za-z0-9]")


def requested(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


def minutes(seconds: int) -> int:
    return max(1, (seconds + 59) // 60)


def send_code(dispatcher: CollectingDispatcher, tracker: Tracker, msisdn: str) -> Optional[str]:
    """Sends a fresh code; answers None when sent, else the identify_status that ends the form."""
    decision = otp.may_send(msisdn)
    if not decision.allowed:
        if decision.reason == "too_soon":
            say(dispatcher, tracker, "otp_too_soon", seconds=decision.wait_seconds)
            return None if otp.open_challenge(tracker.sender_id) else "failed"
        say(dispatcher, tracker, "otp_locked", minutes=minutes(decision.wait_seconds))
        return "locked"
    code = otp.issue(tracker.sender_id, msisdn)
    try:
        sms().send(msisdn, render("otp_sms", language_of(tracker), code=code)["text"])
    except BackendError as error:
        # why the gateway was unreachable (clients/sms.py keeps the URL, hence the code, out of it); a refusal's
        # text comes from the gateway, so only its code
        logger.warning("could not send a code: %s", error if isinstance(error, BackendUnavailable) else error.code)
        say(dispatcher, tracker, "sms_failed")
        return "failed"
    return None


def identified(tracker: Tracker, subject: str, method: str) -> Dict[str, Any]:
    sessions.verify(tracker.sender_id, subject, method, tracker.get_latest_input_channel())
    slots: Dict[str, Any] = {"identified": True, "identify_status": "verified"}
    known = remembered_language(subject)
    if known and known != language_of(tracker) and not language_shown(tracker):
        # Nothing here said which language (a number, "ok"...): the one this customer uses elsewhere wins.
        slots["language"] = known
    else:
        # From now on the language memory follows the customer, whatever the channel.
        remember_language(subject, language_of(tracker))
    return slots


def language_shown(tracker: Tracker) -> bool:
    """Whether the customer's messages in this conversation said which language (detected or asked for)."""
    return any(
        e.get("entity") in ("conversation_language", "language")
        for event in tracker.events
        if event.get("event") == "user"
        for e in (event.get("parse_data") or {}).get("entities") or []
    )


class ValidateIdentifyForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_identify_form"

    @staticmethod
    def questions(tracker: Tracker) -> List[Text]:
        """What to ask, in order: the mobile path, or the home path once a contract was given."""
        return (
            ["contract_number", "document_number"]
            if tracker.get_slot("contract_number")
            else ["phone_number", "otp_code"]
        )

    async def required_slots(
        self, domain_slots: List[Text], dispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        # Every slot this form may set must be listed, or rasa_sdk drops it from the answer.
        return self.questions(tracker) + ["phone_display", "identified", "identify_status"]

    async def next_requested_slot(self, dispatcher, tracker: Tracker, domain: DomainDict) -> Optional[EventType]:
        if tracker.get_slot("identify_status") in ("verified", "locked", "failed"):
            return SlotSet("requested_slot", None)  # done, one way or the other
        missing = [slot for slot in self.questions(tracker) if tracker.get_slot(slot) is None]
        return SlotSet("requested_slot", missing[0] if missing else None)

    # --- mobile: number, then code ---------------------------------------------------------------
    async def extract_phone_number(self, dispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if not requested(tracker, "phone_number"):
            return {}
        text = tracker.latest_message.get("text") or ""
        contract = CONTRACT.search(text)
        if contract:  # a home customer answering with their contract
            return {"contract_number": f"{contract.group(1).upper()}-{contract.group(2)}"}
        if len(re.sub(r"\D", "", text)) >= 7:
            return {"phone_number": text}
        if DIGITS_ONLY.fullmatch(text.strip()):  # "97 00", "12": too short to be a number
            say(dispatcher, tracker, "phone_invalid")
            return {"phone_number": None}
        return {}

    async def validate_phone_number(
        self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        readings = phone.candidates(str(value), phone.regions_for_language(language_of(tracker)))
        if not readings:
            say(dispatcher, tracker, "phone_invalid")
            return {"phone_number": None}
        try:
            line = next((found for found in (bss().line(n) for n in readings) if found is not None), None)
        except BackendUnavailable:
            say(dispatcher, tracker, "backend_unavailable")
            return {"phone_number": None, "identify_status": "failed"}
        if line is None:
            say(dispatcher, tracker, "phone_unknown", phone=phone.display(readings[0]))
            return {"phone_number": None}
        status = send_code(dispatcher, tracker, line.msisdn)
        if status:
            return {"phone_number": None, "identify_status": status}
        return {"phone_number": line.msisdn, "phone_display": phone.masked(line.msisdn)}

    async def extract_otp_code(self, dispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if not requested(tracker, "otp_code"):
            return {}
        text = tracker.latest_message.get("text") or ""
        match = CODE.search(text)
        if not match:
            if re.search(r"\d", text):
                say(dispatcher, tracker, "otp_format")
            # only digits: a code of the wrong length, asked again; words around them: left to the dialogue
            return {"otp_code": None} if DIGITS_ONLY.fullmatch(text.strip()) else {}
        result = otp.check(tracker.sender_id, match.group(1) + match.group(2))
        if result.ok:
            return {"otp_code": "verified", **identified(tracker, f"line:{tracker.get_slot('phone_number')}", "otp")}
        if result.reason == "wrong":
            say(dispatcher, tracker, "otp_wrong", left=result.attempts_left)
            return {"otp_code": None}
        if result.reason == "locked":
            say(dispatcher, tracker, "otp_locked", minutes=config.OTP_LOCK_MINUTES)
            return {"otp_code": None, "identify_status": "locked"}
        # expired, or no code sent to this conversation: send a new one if we may
        say(dispatcher, tracker, "otp_expired")
        status = send_code(dispatcher, tracker, tracker.get_slot("phone_number") or "")
        return {"otp_code": None, "identify_status": status} if status else {"otp_code": None}

    # --- home: contract, then identity document -------------------------------------------------
    async def extract_contract_number(self, dispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if not requested(tracker, "contract_number"):
            return {}
        contract = CONTRACT.search(tracker.latest_message.get("text") or "")
        return {"contract_number": f"{contract.group(1).upper()}-{contract.group(2)}"} if contract else {}

    async def validate_contract_number(
        self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        until = otp.locked_until(f"home:{value}") or otp.locked_until(f"home-conversation:{tracker.sender_id}")
        if until:
            say(dispatcher, tracker, "home_locked", minutes=minutes(int((until - clock.now()).total_seconds())))
            return {"contract_number": None, "identify_status": "locked"}
        return {"contract_number": value}

    async def extract_document_number(self, dispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if not requested(tracker, "document_number"):
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        match = DOCUMENT.search(text)
        if not match or not re.search(r"\d", match.group(0)):
            if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9\s.-]*", text) and re.search(r"\d", text):  # "123": too short
                say(dispatcher, tracker, "document_format")
                return {"document_number": None}
            return {}
        return self.check_home(dispatcher, tracker, re.sub(r"[\s-]", "", match.group(0)).upper())

    def check_home(self, dispatcher, tracker: Tracker, document: str) -> Dict[Text, Any]:
        contract_number = tracker.get_slot("contract_number")
        try:
            contract = bss().contract(contract_number)
            documents = bss().identity_documents(contract.party_id) if contract and contract.party_id else []
        except BackendUnavailable:
            say(dispatcher, tracker, "backend_unavailable")
            return {"document_number": None, "identify_status": "failed"}
        # Compare every document (constant time) so a wrong contract and a wrong document look the same.
        matches = [hmac.compare_digest(document.encode(), d.replace(" ", "").upper().encode()) for d in documents]
        if contract is not None and any(matches):
            otp.clear_failures(f"home:{contract_number}")
            return {"document_number": "verified", **identified(tracker, f"contract:{contract.product_id}", "home")}
        left = min(
            otp.record_failure(f"home:{contract_number}", config.HOME_MAX_FAILURES, config.HOME_LOCK_MINUTES),
            otp.record_failure(
                f"home-conversation:{tracker.sender_id}", config.HOME_MAX_FAILURES, config.HOME_LOCK_MINUTES
            ),
        )
        if left == 0:
            say(dispatcher, tracker, "home_locked", minutes=config.HOME_LOCK_MINUTES)
            return {"document_number": None, "contract_number": None, "identify_status": "locked"}
        say(dispatcher, tracker, "home_mismatch")
        return {"document_number": None, "contract_number": None}


class ActionStartIdentification(Action):
    """Remembers the journey that needs an identity, and clears what a previous attempt left."""

    def name(self) -> Text:
        return "action_start_identification"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        journey = JOURNEYS.get(intent or "")
        # What the customer already said ("top up 1000") waits for them while they identify.
        kept = journey().before_identification(tracker) if journey else []
        return [SlotSet(s, None) for s in FORM_SLOTS] + kept + state.resuming(intent if journey else None)


class ActionIdentificationDone(Action):
    """After identify_form: resume the interrupted journey, or say what to do next."""

    def name(self) -> Text:
        return "action_identification_done"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [
            *state.resuming(None),
            SlotSet("otp_code", None),
            SlotSet("document_number", None),
        ]
        if tracker.get_slot("identify_status") != "verified":
            if tracker.get_slot("identify_status") != "locked":
                say(dispatcher, tracker, "identification_stopped")
            return events + [SlotSet("identify_status", None)]
        identity = sessions.current(tracker.sender_id)
        if identity is None:
            return events
        who = phone.masked(identity.value) if identity.kind == "line" else identity.value
        say(dispatcher, tracker, "identified", who=who)
        journey = JOURNEYS.get(state.pending(tracker) or "")
        if journey is None:
            # an outage in the customer's area comes first (a resumed journey tells it through AccountAction)
            events += notice_for_current_line(dispatcher, tracker)
            say(dispatcher, tracker, "what_next")
            return events
        return events + await journey().run(dispatcher, tracker, domain)


class ActionLogout(Action):
    def name(self) -> Text:
        return "action_logout"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        subject = sessions.forget(tracker.sender_id)
        say(dispatcher, tracker, "logged_out" if subject else "not_logged_in")
        return [SlotSet(s, None) for s in FORM_SLOTS] + [SlotSet("identified", False)]


class ActionWhoAmI(Action):
    """`login` when already identified: says with which line, and how to use another one."""

    def name(self) -> Text:
        return "action_who_am_i"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        identity = sessions.current(tracker.sender_id)
        if identity is None:
            say(dispatcher, tracker, "identity_expired")
            return start_identification(None)
        who = phone.masked(identity.value) if identity.kind == "line" else identity.value
        say(dispatcher, tracker, "already_identified", who=who)
        return []


class AskSlot(Action, ABC):
    """identify_form's questions, in the conversation's language."""

    @property
    @abstractmethod
    def slot(self) -> Text:
        """The slot this action asks for."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, f"ask_{self.slot}", phone_display=tracker.get_slot("phone_display") or "")
        return []


class AskPhoneNumber(AskSlot):
    slot = "phone_number"


class AskOtpCode(AskSlot):
    slot = "otp_code"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """ "I've just sent a code" only when this turn sent it (the number was accepted in it); else the code is asked
        for again without saying a new one went out."""
        if code_sent_this_turn(tracker):
            return await super().run(dispatcher, tracker, domain)
        say(dispatcher, tracker, "ask_otp_code_again", phone_display=tracker.get_slot("phone_display") or "")
        return []


def code_sent_this_turn(tracker: Tracker) -> bool:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") in ("phone_number", "otp_code") and event.get("value"):
            return event.get("name") == "phone_number"  # the number accepted now (a resend also sets it again)
    return False


class AskContractNumber(AskSlot):
    slot = "contract_number"


class AskDocumentNumber(AskSlot):
    slot = "document_number"
