"""The journey step engine (actions/dialogue/steps.py) on a journey of its own: the first step that does not hold
is asked (with its error first), a typed title or number answers it, a Stop ends the journey, a step that does
not apply is skipped, and finish runs once every step holds. The real journeys: tests/actions/test_<journey>.py."""

from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import state
from actions.dialogue.account import JOURNEYS
from actions.dialogue.operations import ActionConfirmOperation
from actions.dialogue.steps import MISSING, Missing, Step, StepJourney, Stop, Turn, asks
from clients.bss import Line
from common import clock
from tests.actions.chat import AWA, buckets, chat_as
from tests.conftest import ROOT, make_tracker, user_event

LINE = Line(
    product_id="P-1",
    kind="mobile",
    msisdn="+2290197000001",
    status="active",
    market="BJ",
    currency="XOF",
    payment_type="prepaid",
    time_zone="Africa/Porto-Novo",
    preferred_language="en",
    billing_account=None,
    customer_name="Awa",
    party_id=None,
    plan_name="Prepaid",
)
FINISHED: List[Dict[str, Any]] = []


def amount_at_most_5000(turn: Turn, typed: Any) -> Any:
    if typed is None:
        return MISSING
    amount = float(typed)
    return amount if amount <= 5000 else Missing("topup_out_of_range", {"low": "100", "high": "5000"})


def known_method(turn: Turn, method: Any) -> Any:
    return method if method in ("wallet", "card") else MISSING


class Demo(StepJourney):
    collects = ("amount", "payment_method", "broken")
    steps = (
        Step(
            "amount",
            check=amount_at_most_5000,
            question=asks(
                "topup_ask_amount",
                options=lambda turn: [("1000", "1,000 FCFA"), ("2000", "2,000 FCFA")],
                values=lambda turn: {"low": "100", "high": "5000"},
            ),
        ),
        Step(
            "payment_method",
            check=known_method,
            question=asks(
                "topup_ask_method",
                options=lambda turn: [("wallet", "Mobile money"), ("card", "Card")],
                values=lambda turn: {"amount": turn.money(turn.held["amount"])},
            ),
            applies=lambda turn: turn.held["amount"] > 0,
        ),
        Step("never_asked", check=lambda turn, value: MISSING, applies=lambda turn: turn.values.get("broken", False)),
    )

    def name(self) -> str:
        return "action_demo"

    def start(self, turn: Turn) -> Optional[Stop]:
        return Stop("pack_none_available") if turn.values.get("amount") == "closed" else None

    def finish(self, turn: Turn) -> List[dict]:
        FINISHED.append(dict(turn.held))
        return []


Demo.intent = "demo"  # set after the class: a test journey is not registered for Rasa's routing


class Conversation:
    def __init__(self) -> None:
        self.slots: Dict[str, Any] = {"language": "en"}
        self.dispatcher = CollectingDispatcher()
        self.events: List[dict] = []

    async def say(self, text: str, intent: str = "inform", **entities: Any) -> List[dict]:
        event = user_event(text, intent, [{"entity": k, "value": v} for k, v in entities.items()])
        self.dispatcher = CollectingDispatcher()
        tracker = make_tracker([event], slots=dict(self.slots))
        self.events = await Demo().serve(self.dispatcher, tracker, {}, LINE)
        for e in self.events:
            if e["event"] == "slot":
                self.slots[e["name"]] = e["value"]
        return self.dispatcher.messages

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.dispatcher.messages)


@pytest.fixture(autouse=True)
def finished():
    FINISHED.clear()
    yield FINISHED
    FINISHED.clear()


def test_a_test_journey_is_not_routed_to():
    assert "demo" not in JOURNEYS


async def test_the_first_missing_step_is_asked_with_its_options_as_buttons():
    chat = Conversation()
    await chat.say("I want the demo", "demo")
    assert chat.text.startswith("How much would you like to top up? (between 100 and 5000)")
    buttons = chat.dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons[:2]] == ['/demo{"amount": "1000"}', '/demo{"amount": "2000"}']
    assert chat.slots[state.PENDING] == "demo" and chat.slots[state.AWAITING_ANSWER] is True
    assert not chat.slots[state.AWAITING_CONFIRMATION]
    draft = chat.slots[state.DRAFT_SLOT]
    assert (draft["asking"], draft["step"], draft["options"][1]) == ("amount", "amount", ["2000", "2,000 FCFA"])


async def test_a_typed_number_or_title_answers_then_the_next_step_is_asked():
    chat = Conversation()
    await chat.say("demo", "demo")
    await chat.say("the second one")
    assert chat.slots[state.DRAFT_SLOT]["values"] == {"amount": "2000"}
    assert chat.text.replace("\u202f", " ").replace("\xa0", " ").endswith("top-up. How would you like to pay?")
    assert chat.slots[state.DRAFT_SLOT]["asking"] == "payment_method"
    await chat.say("card")
    assert FINISHED == [{"amount": 2000.0, "payment_method": "card"}]


async def test_an_invalid_value_is_explained_forgotten_and_asked_again():
    chat = Conversation()
    await chat.say("demo of 9000", "demo", amount="9000")
    assert chat.text.splitlines()[0] == "A top-up must be between 100 and 5000."
    assert "How much would you like to top up?" in chat.text
    assert "amount" not in chat.slots[state.DRAFT_SLOT]["values"]
    assert FINISHED == []


async def test_a_stop_says_why_and_ends_the_journey():
    chat = Conversation()
    chat.slots[state.PENDING] = "demo"
    await chat.say("demo", "demo", amount="closed")
    assert chat.text == "There are no packs available for your line right now."
    assert chat.events == state.end_journey()


async def test_a_step_that_does_not_apply_is_skipped():
    chat = Conversation()
    await chat.say("demo of nothing", "demo", amount="0")
    assert FINISHED == [{"amount": 0.0}]


async def test_every_step_given_at_once_finishes_in_one_turn():
    chat = Conversation()
    await chat.say("demo 1000 by card", "demo", amount="1000", payment_method="card")
    assert FINISHED == [{"amount": 1000.0, "payment_method": "card"}] and chat.dispatcher.messages == []


async def test_an_old_draft_is_forgotten():
    chat = Conversation()
    await chat.say("demo", "demo")
    chat.slots[state.DRAFT_SLOT] = {**chat.slots[state.DRAFT_SLOT], "values": {"amount": "1000"}}
    chat.slots[state.DRAFT_SLOT]["at"] = clock.timestamp() - 31 * 60
    await chat.say("card", payment_method="card")
    assert chat.slots[state.DRAFT_SLOT]["values"] == {"payment_method": "card"} and FINISHED == []
    assert chat.slots[state.DRAFT_SLOT]["asking"] == "amount"  # the amount of 31 minutes ago is asked again


async def test_a_step_without_a_question_must_get_one_from_its_check():
    chat = Conversation()
    with pytest.raises(ValueError, match="never_asked has no question"):
        await chat.say("demo", "demo", amount="1000", payment_method="card", broken=True)


def step_journeys() -> List[type]:
    return sorted({j for j in JOURNEYS.values() if issubclass(j, StepJourney)}, key=lambda j: j.intent)


def test_rasa_sends_a_typed_answer_to_the_step_journey_that_asked(domain):
    """Each step journey is a value of pending_journey and has its rule in data/rules/answers.yml, so `rasa test`
    sees its steps (tests/stories) and not only action_continue_journey."""
    rules = yaml.safe_load((ROOT / "data" / "rules" / "answers.yml").read_text())["rules"]
    routed = {
        (r["condition"][0]["slot_was_set"][0].get("pending_journey"), r["steps"][1]["action"])
        for r in rules
        if r.get("condition") and r["steps"][0] == {"intent": "inform"}
    }
    assert domain["slots"]["pending_journey"]["influence_conversation"] is True
    for journey in step_journeys():
        assert journey.intent in domain["slots"]["pending_journey"]["values"]
        assert (journey.intent, journey().name()) in routed
    assert len(step_journeys()) == 7


async def test_a_forged_confirmation_slot_reaches_nothing(operator, domain):
    """The rule sends yes to action_confirm_operation on the slot alone; the action finds nothing proposed."""
    chat = chat_as(domain, f"line:{AWA}", "en")
    chat.slots.update({state.PENDING: "top_up", state.AWAITING_ANSWER: True, state.AWAITING_CONFIRMATION: True})
    text = await chat.say("yes", "affirm", action=ActionConfirmOperation)
    assert "nothing waiting" in text and chat.slots[state.AWAITING_CONFIRMATION] is False
    assert buckets(operator, AWA, "wallet") == 15000
