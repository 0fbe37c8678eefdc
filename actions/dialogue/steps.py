"""The journey step engine: how a journey of several turns (top_up, buy_pack, pay_invoice...) is declared and run.

A journey declares, as data, on a StepJourney subclass:

    intent   = "top_up"                           its name: intent, pending_journey value, action module
    collects = ("amount", "phone_number", ...)    the entities it reads from the customer's messages
    steps    = (Step("phone_number", check=..., question=asks("topup_ask_number", options=...)),
                Step("amount", ...), Step("payment_method", ...))
    def start(self, turn)  -> Optional[Stop]      preconditions ("prepaid lines only") and what the steps share
    def finish(self, turn) -> events              every step holds: propose a money move
                                                  (actions/dialogue/operations.propose) or act

Each turn, the engine alone (`StepJourney.serve`):
  1. merges the message into the draft (`journey_draft`, owned by actions/dialogue/state.py): the entities in
     `collects`, a button's payload, a typed title or number of an offered option (choices.match_option), and
     what the journey's `read` finds in the text (an amount typed alone);
  2. calls `start`; a Stop says its message and ends the journey;
  3. walks `steps` in order. A step's `check(turn, value)` gets the draft's value (None when not given) and
     returns the value the journey will use (kept in `turn.held[name]`), or Missing (optionally with the error
     to say first: "that number is unknown"), or Stop;
  4. asks the first step that does not hold: says the error, forgets the step's value, shows the step's
     question (its message, the options as buttons that answer it whatever NLU makes of them) and records
     that the next answer belongs to this journey (state.asking);
  5. once every step holds, calls `finish`.

The draft only says what to propose next: the identity is checked server-side every turn (AccountAction),
checks run again on every turn on fresh data, the operator checks every value again, and money only moves
on the operation stored server-side, after an explicit yes (actions/dialogue/operations.py). A forged slot
reaches nothing. A typed answer reaches the journey that asked through the rules in data/rules/answers.yml
(conditioned on the journey slots, they name its action), else through ActionContinueJourney below.
"""

import json
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Text, Tuple, Union

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.dialogue import state
from actions.dialogue.account import AccountAction, serve_pending
from actions.dialogue.choices import match_option
from actions.dialogue.state import end_journey
from actions.formatting import money
from actions.i18n import language_of, say
from clients.bss import Line
from common import clock
from common.i18n import render

DRAFT_MINUTES = 30  # a draft older than this is forgotten: the customer starts again
Options = Sequence[Tuple[str, str]]  # (value, title) offered as buttons


@dataclass
class Turn:
    """One turn of a journey: what its steps and finish read, and what they found so far."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    line: Line
    draft: Dict[str, Any]
    held: Dict[str, Any] = field(default_factory=dict)  # step name -> the value the journey uses
    notes: Dict[str, Any] = field(default_factory=dict)  # what a check found that its question shows

    @property
    def values(self) -> Dict[str, Any]:
        """The draft's values (what the customer said): a check may complete or correct them."""
        return self.draft["values"]

    @property
    def language(self) -> str:
        return language_of(self.tracker)

    def money(self, amount: float) -> str:
        return money(amount, self.line.currency, self.language)

    def text(self, key: str, **values: Any) -> str:
        return render(key, self.language, **values)["text"]

    def say(self, key: str, **values: Any) -> None:
        say(self.dispatcher, self.tracker, key, **values)


@dataclass(frozen=True)
class Question:
    """A question: its message, the options offered as buttons, the values its message shows."""

    key: str
    options: Options = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    entity: str = ""  # what the buttons and a typed answer fill; the step's name when empty


@dataclass(frozen=True)
class Missing:
    """The step does not hold: say `error` (if any), forget the step's value (and `forget`), ask `question`
    (the step's own when None)."""

    error: str = ""
    error_values: Mapping[str, Any] = field(default_factory=dict)
    question: Optional[Question] = None
    forget: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Stop:
    """The journey cannot go on: say `key` and end it."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


MISSING = Missing()
Check = Callable[[Turn, Any], Any]  # -> the value held, or Missing, or Stop


def asks(
    key: str,
    options: Callable[[Turn], Options] = lambda turn: (),
    values: Callable[[Turn], Mapping[str, Any]] = lambda turn: {},
) -> Callable[[Turn], Question]:
    """A step's question: `key`'s message, with `options(turn)` as buttons and `values(turn)` in its text."""
    return lambda turn: Question(key, options(turn), values(turn))


@dataclass(frozen=True)
class Step:
    """One choice a journey needs: the draft value `name`, how it is checked, how it is asked."""

    name: str
    check: Check
    question: Optional[Callable[[Turn], Question]] = None  # None: every Missing its check returns has one
    forget: Tuple[str, ...] = ()  # other draft values that go with it (a pack named in words...)
    applies: Callable[[Turn], bool] = lambda turn: True  # False: skipped (a cancellation needs no slot)


class StepJourney(AccountAction):
    """An account journey that gathers choices over several turns: `steps`, then `finish` (see the module)."""

    collects: Tuple[str, ...] = ()
    steps: Tuple[Step, ...] = ()

    def start(self, turn: Turn) -> Optional[Stop]:
        """Preconditions; None to go on."""
        return None

    @abstractmethod
    def finish(self, turn: Turn) -> List[EventType]:
        """Every step holds: propose the money move, or act."""

    def read(self, tracker: Tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        """Values this journey reads from the message text itself (an amount typed alone...)."""
        return {}

    def before_identification(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet(state.DRAFT_SLOT, self.draft(tracker))]

    def draft(self, tracker: Tracker) -> Dict[str, Any]:
        """The draft with the customer's message merged in."""
        previous = state.draft_of(tracker)
        fresh = {"journey": self.intent, "values": {}, "at": clock.timestamp()}
        if previous.get("journey") != self.intent or clock.timestamp() - previous.get("at", 0) > DRAFT_MINUTES * 60:
            previous = {}
        if tracker.latest_action_name == "identify_form":
            # Resuming after identification: the last message was a code, not an answer.
            return previous or fresh
        message = tracker.latest_message or {}
        found = {
            e["entity"]: e.get("value")
            for e in message.get("entities", [])
            if e.get("entity") in self.collects and e.get("value") not in (None, "")
        }
        if (message.get("intent") or {}).get("name") == self.intent and not found:
            return {**fresh, "values": self.read(tracker, {}, None)}
        values = dict(previous.get("values", {}))
        asking = previous.get("asking")
        if asking and asking not in found:
            picked = match_option(previous.get("options") or [], message.get("text") or "")
            if picked is not None:
                found[asking] = picked
        values.update(found)
        values.update(self.read(tracker, values, asking if asking not in found else None))
        return {"journey": self.intent, "values": values, "step": previous.get("step"), "at": clock.timestamp()}

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        turn = Turn(dispatcher, tracker, line, self.draft(tracker))
        stop = self.start(turn)
        if stop is not None:
            turn.say(stop.key, **stop.values)
            return end_journey()
        for step in self.steps:
            if not step.applies(turn):
                continue
            found = step.check(turn, turn.values.get(step.name))
            if isinstance(found, (Missing, Stop)):
                return self.not_held(turn, step, found)
            turn.held[step.name] = found
        return self.finish(turn)

    def not_held(self, turn: Turn, step: Step, found: Union[Missing, Stop]) -> List[EventType]:
        """A Stop ends the journey; a Missing says its error, forgets the step's value and asks its question."""
        if isinstance(found, Stop):
            turn.say(found.key, **found.values)
            return end_journey()
        if found.error:
            turn.say(found.error, **found.error_values)
        for name in (step.name, *step.forget, *found.forget):
            turn.values.pop(name, None)
        question = found.question or (step.question(turn) if step.question else None)
        if question is None:
            raise ValueError(f"{self.intent}: step {step.name} has no question to ask")
        return self.ask(turn, question, step.name)

    def ask(self, turn: Turn, question: Question, step: str) -> List[EventType]:
        """Shows `question`; its answer (a button, a typed title or number, a value) comes back to this journey."""
        entity = question.entity or step
        message = render(question.key, turn.language, **question.values)
        buttons = [self.button(entity, value, title) for value, title in question.options]
        if buttons:
            message["buttons"] = buttons + message.get("buttons", [])
        turn.dispatcher.utter_message(**message)
        values = {k: v for k, v in turn.values.items() if v not in (None, "")}
        options = [[value, title] for value, title in question.options]
        return state.asking(
            self.intent, {**turn.draft, "values": values, "asking": entity, "options": options, "step": step}
        )

    def button(self, entity: str, value: Any, title: str) -> Dict[str, str]:
        """A button that answers this journey's question whatever NLU would make of its title."""
        return {"title": title, "payload": f"/{self.intent}{json.dumps({entity: value}, ensure_ascii=False)}"}


def step_named(journey: StepJourney, name: str) -> Step:
    return next(step for step in journey.steps if step.name == name)


class ActionContinueJourney(Action):
    """An answer (`inform`) to the question a journey asked: hands it back to that journey."""

    def name(self) -> Text:
        return "action_continue_journey"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = serve_pending(state.waiting_journey(tracker))
        if journey is None:
            say(dispatcher, tracker, "nothing_asked")
            return end_journey()
        return await journey().run(dispatcher, tracker, domain)
