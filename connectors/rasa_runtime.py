"""Work Rasa 3.6 does on every turn that serves no customer, removed (issue 17, "fast turns first").

Installed once, when the Rasa process builds its channels (connectors/rest.py, connectors/socketio.py). Measured with
py-spy on one customer over REST (bench/turns.py):
- `RemoteAction._validate_action_result` calls `jsonschema.validate`, which re-checks Rasa's fixed response schema
  against the JSON Schema meta-schema before checking the response: about half of the Rasa process's CPU per turn.
  The response is still checked, by validators built once; each event against its own type's part of the schema
  (the schema's `oneOf` tries all 23 types on every event: 5 % of the CPU per turn), and a response that fails
  that is checked again by the whole schema, for Rasa's error message.
- `ActionExtractSlots` calls `action_validate_slot_mappings` on the action server after every message, with the
  whole tracker, even when no slot was extracted. Our validation action (actions/language.py ValidateSlotMappings)
  only validates extracted slots and extracts none itself (tests/connectors/test_rasa_runtime.py keeps it so), so
  with nothing extracted that round trip answers nothing: it is skipped; and so it is when every extracted slot
  already has the extracted value (the language, on nearly every message), which the validation would keep.
- Reading a tracker from the SQL store turns each stored event back into an object by searching every subclass of
  `Event` for its type name (`Event.resolve_by_type` walks the class tree per event): the answer is kept per name.
- TED (a neural network over the conversation) is asked for the next action even when a rule or a memorised story
  already answered with full confidence, which Rasa's ensemble then always prefers (confidence 1.0 with a higher
  priority; no end-to-end stories here). The policies run in one synchronous graph, rules and memoization before TED;
  when one of them decided (and the last action was not rejected), TED answers "no opinion" without running. If the
  order ever changed, TED simply runs as before.
- `EndpointConfig.request` opens a new HTTP session, hence a new TCP connection, for every call to the action server
  (two or three a turn): the endpoint keeps one session per event loop, whose connections are kept alive.
- Each graph run (the NLU pipeline once a message, the policies once per predicted action) goes through
  `dask.get`, whose scheduler bookkeeping and the graph's pruning to its targets cost about 0.5 ms a run, with one
  thread and no parallelism: the nodes run in the same order, one after the other, from an order worked out once per
  set of targets.
- The rule policy parses each learned rule (stored as JSON text) again for every turn of the conversation it
  checks the rule against, on every prediction (about 1 ms a prediction with this project's 180 rules): each rule
  is parsed once. Its callers only read the parsed rule.
- The tracker sent to the action server with every call is serialised by `json` (5 % of the CPU per turn): `ujson`
  (already installed for Sanic) writes the same JSON.
And one change for several replicas (not speed): Rasa wraps the tracker store in a `FailSafeTrackerStore`, which
answers "no conversation" when a read fails and keeps the tracker in the replica's memory when a write fails: with
PostgreSQL away for a moment the customer's conversation would restart from nothing and its events would be lost
(or served by one replica only). The store is used unwrapped: a failed read or write fails the turn, which the
channel answers with "please send it again" (connectors/try_again.py); privacy/tracker_store.py retries first.
Each replacement keeps Rasa's behaviour otherwise; if Rasa's internals change shape, nothing is patched.
"""

import logging
import threading
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple

logger = logging.getLogger(__name__)
_installed = False


@lru_cache(maxsize=None)
def response_validator() -> Any:
    """One validator of Rasa's action response schema (the schema is fixed: checked against its meta-schema once)."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=None)
def event_validators() -> Optional[Tuple[Any, Dict[Text, Any]]]:
    """A validator of the response without its events' items, and one per event type: an event is valid under the
    schema's `oneOf` exactly when it is valid under the one branch whose `event` constant is its type (the branches'
    constants are distinct, and every event must have one). None if the schema is not of that shape."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    try:
        events = schema["properties"]["events"]
        items = events["items"]
        branches = items["oneOf"]
        names = [branch["properties"]["event"]["const"] for branch in branches]
    except (KeyError, TypeError):
        return None
    if len(set(names)) != len(names) or "event" not in items.get("required", []):
        return None
    cls = validators.validator_for(schema)
    shell = {
        **schema,
        "properties": {**schema["properties"], "events": {k: v for k, v in events.items() if k != "items"}},
    }
    item = {k: v for k, v in items.items() if k != "oneOf"}
    return cls(shell), {name: cls({**item, "allOf": [branch]}) for name, branch in zip(names, branches)}


def quickly_valid(result: Any) -> bool:
    found = event_validators()
    if found is None:
        return False
    shell, by_type = found
    if not shell.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = by_type.get(event.get("event")) if isinstance(event, dict) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """As Rasa's `RemoteAction._validate_action_result`, with the validators built once."""
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    if quickly_valid(result):
        return True
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action endpoint "
        f"is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def skip_empty_validation(original: Any) -> Any:
    """`ActionExtractSlots._execute_validation_action` that does not call the action server with nothing to
    validate: no slot extracted, or only slots extracted with the value they already have. The language detector
    gives the message's language with every message, so the language slot is extracted on every turn, nearly always
    with the language it has; validating it again (actions/language.py) would answer that same value (a language
    already set passed the check when it was set), after a round trip with the whole tracker, which Rasa rebuilds
    event by event first. A changed value is validated as before, and remembered there."""

    async def execute_validation_action(self: Any, extraction_events: List[Any], *args: Any, **kwargs: Any) -> List:
        from rasa.shared.core.events import SlotSet

        slot_events = [event for event in extraction_events if isinstance(event, SlotSet)]
        if not slot_events:
            return []
        tracker = kwargs.get("tracker", args[2] if len(args) > 2 else None)
        if tracker is not None and all(tracker.get_slot(event.key) == event.value for event in slot_events):
            return slot_events  # what the validation would answer: each slot kept
        return await original(self, extraction_events, *args, **kwargs)

    execute_validation_action.skips_empty = True
    return execute_validation_action


def cached_resolution(original: Any) -> Any:
    """`Event.resolve_by_type` remembering the class found for each type name (unknown names ask Rasa each time)."""
    found: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Any = None) -> Any:
        if type_name not in found:
            cls = original(type_name, default)
            if cls is None or cls is default:
                return cls
            found[type_name] = cls
        return found[type_name]

    resolve_by_type.caches = True
    return resolve_by_type


_decision = threading.local()  # the tracker (and its length) a rule or memorised story just decided for


def deciding(original: Any) -> Any:
    """A rule or memoization policy's prediction, remembering when it is certain."""

    def predict_action_probabilities(self: Any, tracker: Any, domain: Any, *args: Any, **kwargs: Any) -> Any:
        prediction = original(self, tracker, domain, *args, **kwargs)
        if prediction.max_confidence >= 1.0 and not prediction.is_end_to_end_prediction:
            _decision.tracker, _decision.length = tracker, len(tracker.events)
        return prediction

    predict_action_probabilities.records = True
    return predict_action_probabilities


def decided(tracker: Any) -> bool:
    """Did a rule or memorised story decide for this very tracker, in this graph run? (forgets it once asked)"""
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected

    same = getattr(_decision, "tracker", None) is tracker and _decision.length == len(tracker.events)
    _decision.tracker = None
    if not same:
        return False
    last_action = next(
        (e for e in reversed(tracker.events) if isinstance(e, (ActionExecuted, ActionExecutionRejected))), None
    )
    return not isinstance(last_action, ActionExecutionRejected)  # the ensemble then zeroes the decided action


def skipping_when_decided(original: Any) -> Any:
    def predict_action_probabilities(self: Any, tracker: Any, domain: Any, *args: Any, **kwargs: Any) -> Any:
        if decided(tracker):
            return self._prediction(self._default_predictions(domain))
        return original(self, tracker, domain, *args, **kwargs)

    predict_action_probabilities.skips = True
    return predict_action_probabilities


# Shorter than the action server's own keep-alive (Sanic: 5 s), so that it is never the server that closes a
# connection this side is about to reuse.
KEEP_ALIVE_SECONDS = 2.0


class _KeptSession:
    """What `EndpointConfig.session()` returns once patched: `async with` gives the endpoint's session and leaves it
    open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> bool:
        return False


def kept_session(original: Any) -> Any:
    """`EndpointConfig.session` giving one session per endpoint and event loop, with Rasa's headers, authentication and
    timeout, instead of a new one (and a new connection) per request. Outside an event loop, Rasa's."""

    def session(self: Any) -> Any:
        import asyncio

        import aiohttp
        import ujson
        from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return original(self)
        kept = self.__dict__.setdefault("_kept_sessions", {})
        current = kept.get(loop)
        if current is None or current.closed:
            auth = (
                aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            )
            current = kept[loop] = aiohttp.ClientSession(
                json_serialize=ujson.dumps,
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
            )
            _opened.append((loop, current))
        return _KeptSession(current)

    session.keeps = True
    return session


_opened: List[Tuple[Any, Any]] = []  # (event loop, session) of every kept session, to close them


async def close_kept_sessions(*_: Any) -> None:
    """Closes the kept sessions of the running event loop (a Sanic listener: when the server stops)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for entry in [entry for entry in _opened if entry[0] is loop]:
        _opened.remove(entry)
        await entry[1].close()


def run_in_order(self: Any, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict:
    """`DaskGraphRunner.run` without dask: each node needed for the targets runs once, after the nodes it needs, and
    gets their outputs as dask gives them, `(node name, output)`; an input is `(input name, value)`."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = tuple(targets or self._graph_schema.target_names)
    orders = self.__dict__.setdefault("_orders", {})
    if run_targets not in orders:
        orders[run_targets] = execution_order(self._graph_schema.minimal_graph_schema(list(run_targets)), run_targets)
    outputs = {name: (name, value) for name, value in (inputs or {}).items()}
    try:
        for name, needs in orders[run_targets]:
            outputs[name] = self._instantiated_nodes[name](*[outputs[need] for need in needs])
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(outputs[target] for target in run_targets)


def execution_order(schema: Any, targets: Tuple[Text, ...]) -> List[Tuple[Text, Tuple[Text, ...]]]:
    """The schema's nodes, each after those it needs (depth first from the targets), with the names it needs."""
    order: List[Tuple[Text, Tuple[Text, ...]]] = []
    placed: set = set()

    def place(name: Text) -> None:
        if name in placed or name not in schema.nodes:  # placed already, or a run input
            return
        placed.add(name)
        needs = tuple(schema.nodes[name].needs.values())
        for need in needs:
            place(need)
        order.append((name, needs))

    for target in targets:
        place(target)
    return order


def install_graph_runner() -> None:
    from rasa.engine.runner.dask import DaskGraphRunner

    required = ("_graph_schema", "_instantiated_nodes")
    source = getattr(DaskGraphRunner.__init__, "__code__", None)
    if source is None or not all(name in source.co_names for name in required):
        logger.warning("Rasa's DaskGraphRunner changed: graphs run through dask")
    elif DaskGraphRunner.run is not run_in_order:
        DaskGraphRunner.run = run_in_order


def install_policies() -> None:
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.policies.ted_policy import TEDPolicy

    parse = RulePolicy.__dict__.get("_rule_key_to_state")
    if isinstance(parse, staticmethod) and not hasattr(parse.__func__, "cache_info"):
        RulePolicy._rule_key_to_state = staticmethod(lru_cache(maxsize=4096)(parse.__func__))

    for cls in (MemoizationPolicy, RulePolicy):
        own = cls.__dict__.get("predict_action_probabilities")
        if callable(own) and not getattr(own, "records", False):
            cls.predict_action_probabilities = deciding(own)
    own = TEDPolicy.__dict__.get("predict_action_probabilities")
    if callable(own) and not getattr(own, "skips", False):
        TEDPolicy.predict_action_probabilities = skipping_when_decided(own)


def tracker_store_as_configured(store: Any, domain: Any) -> Any:
    from rasa.core.tracker_store import InMemoryTrackerStore

    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


def install_tracker_store() -> None:
    from rasa.core.agent import Agent

    if callable(getattr(Agent, "_create_tracker_store", None)):
        Agent._create_tracker_store = staticmethod(tracker_store_as_configured)
    else:
        logger.warning("Rasa's Agent changed: the tracker store keeps Rasa's in-memory fallback")


def install() -> None:
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import ActionExtractSlots, RemoteAction

    if callable(getattr(RemoteAction, "_validate_action_result", None)) and callable(
        getattr(RemoteAction, "action_response_format_spec", None)
    ):
        RemoteAction._validate_action_result = validate_action_result
    else:
        logger.warning("Rasa's RemoteAction changed: action responses validated as Rasa does")
    original = getattr(ActionExtractSlots, "_execute_validation_action", None)
    if callable(original) and not getattr(original, "skips_empty", False):
        ActionExtractSlots._execute_validation_action = skip_empty_validation(original)
    else:
        logger.warning("Rasa's ActionExtractSlots changed: slot validation called as Rasa does")
    from rasa.shared.core.events import Event

    if not getattr(Event.resolve_by_type, "caches", False):
        Event.resolve_by_type = staticmethod(cached_resolution(Event.resolve_by_type))
    install_policies()
    install_graph_runner()
    install_tracker_store()
    from rasa.utils.endpoints import EndpointConfig

    if callable(getattr(EndpointConfig, "session", None)) and not getattr(EndpointConfig.session, "keeps", False):
        EndpointConfig.session = kept_session(EndpointConfig.session)
    from connectors.try_again import answering_action_failures

    if not getattr(RemoteAction.run, "apologises", False):
        RemoteAction.run = answering_action_failures(RemoteAction.run)
    _installed = True
