"""connectors/rasa_runtime.py: the per-turn work removed from Rasa keeps Rasa's answers."""

import json
from typing import List

import dask
import pytest
from jsonschema import ValidationError
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, Event, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.language import ValidateSlotMappings
from connectors import rasa_runtime


def test_our_slot_validation_action_extracts_nothing_itself():
    # what makes skipping it safe when Rasa extracted no slot: it only validates slots Rasa extracted
    assert [name for name in dir(ValidateSlotMappings) if name.startswith("extract_")] == []


@pytest.mark.parametrize(
    "response",
    [
        {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]},
        {"events": [], "responses": []},
        {"events": [{"event": "slot", "name": "x"}]},
        {"events": "not a list"},
        {"events": [{"no": "event name"}]},
        {"responses": ["not an object"]},
        {"events": [{"event": "no such event"}]},
        {"events": [{"event": 7}]},
        {"events": ["not an object"]},
        {"events": [{"event": "slot", "name": "x", "value": 1}, {"event": "action", "name": 3}]},
        {"events": [{"event": "bot", "text": "hi", "data": {"buttons": []}, "metadata": {}, "timestamp": None}]},
        {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1}}}]},
        {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": 1}}}]},
        {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "utter_x"}]},
        {"events": [{"event": "reminder", "intent": "x", "date_time": "2026-12-01T10:00:00"}], "responses": []},
        {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "yesterday"}]},
        "not an object",
    ],
)
def test_action_responses_are_validated_as_rasa_validates_them(response):
    from jsonschema import validate
    from rasa.core.actions.action import RemoteAction

    try:
        validate(response, RemoteAction.action_response_format_spec())
        valid = True
    except ValidationError:
        valid = False
    assert rasa_runtime.quickly_valid(response) == valid
    if valid:
        assert rasa_runtime.validate_action_result(None, response)
    else:
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            rasa_runtime.validate_action_result(None, response)


async def test_slot_validation_is_called_only_with_something_to_validate():
    calls = []

    async def original(self, events, *args):
        calls.append(events)
        return ["validated"]

    execute = rasa_runtime.skip_empty_validation(original)
    assert await execute(None, [], "channel") == []
    assert calls == []
    slot = SlotSet("language", "fr")
    assert await execute(None, [slot], "channel") == ["validated"]
    assert calls == [[slot]]


@pytest.mark.parametrize("current, called", [(None, True), ("es", True), ("fr", False)])
async def test_slot_validation_is_skipped_when_every_extracted_slot_keeps_its_value(current, called):
    """As Rasa calls it: (events, output channel, nlg, tracker, domain)."""
    calls = []

    async def original(self, events, *args):
        calls.append(events)
        return ["validated"]

    conversation = tracker()
    conversation.slots["language"] = TextSlot("language", [])
    conversation.slots["language"].value = current
    execute = rasa_runtime.skip_empty_validation(original)
    slot = SlotSet("language", "fr")
    answer = await execute(None, [slot], "channel", "nlg", conversation, "domain")
    assert (calls == [[slot]]) == called and answer == (["validated"] if called else [slot])
    other = SlotSet("otp_code", "123456")  # another slot extracted too: validated
    conversation.slots["otp_code"] = TextSlot("otp_code", [])
    await execute(None, [slot, other], "channel", "nlg", conversation, "domain")
    assert calls[-1] == [slot, other]


def test_event_types_resolve_as_rasa_resolves_them():
    resolve = rasa_runtime.cached_resolution(Event.resolve_by_type)
    for name in ("user", "action", "slot", "session_started", "bot"):
        assert resolve(name) is Event.resolve_by_type(name)
        assert resolve(name) is Event.resolve_by_type(name)  # from the cache
    assert resolve("topic") is None
    assert resolve("nonsense", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        resolve("nonsense")


def tracker(*events):
    return DialogueStateTracker.from_events("t", [ActionExecuted("action_listen"), UserUttered("hi"), *events])


def prediction(confidence):
    return PolicyPrediction([confidence, 1 - confidence], "RulePolicy")


def test_ted_is_skipped_only_when_a_rule_was_certain_for_this_very_tracker():
    rule = rasa_runtime.deciding(lambda self, tracker, domain: prediction(1.0))
    unsure = rasa_runtime.deciding(lambda self, tracker, domain: prediction(0.3))
    conversation = tracker()
    rule(None, conversation, None)
    assert rasa_runtime.decided(conversation)
    assert not rasa_runtime.decided(conversation)  # forgotten once asked
    unsure(None, conversation, None)
    assert not rasa_runtime.decided(conversation)
    rule(None, conversation, None)
    assert not rasa_runtime.decided(tracker())  # another tracker
    rule(None, conversation, None)
    conversation.update(ActionExecuted("utter_greet"))
    assert not rasa_runtime.decided(conversation)  # the tracker moved on


def test_ted_runs_after_a_rejected_action():
    # the ensemble zeroes the rejected action in every prediction: the rule's certainty no longer holds
    rejected = tracker(ActionExecutionRejected("action_top_up"))
    rasa_runtime.deciding(lambda self, tracker, domain: prediction(1.0))(None, rejected, None)
    assert not rasa_runtime.decided(rejected)


def test_skipped_ted_has_no_opinion():
    class Ted:
        def _default_predictions(self, domain):
            return [0.0, 0.0]

        def _prediction(self, probabilities):
            return PolicyPrediction(probabilities, "TEDPolicy")

    ran = []
    predict = rasa_runtime.skipping_when_decided(lambda self, tracker, domain: ran.append(1) or prediction(0.9))
    conversation = tracker()
    rasa_runtime.deciding(lambda self, tracker, domain: prediction(1.0))(None, conversation, None)
    assert predict(Ted(), conversation, None).max_confidence == 0.0 and ran == []
    assert predict(Ted(), conversation, None).max_confidence == 0.9 and ran == [1]


def test_each_rule_is_parsed_once_into_what_rasa_parses():
    from rasa.core.policies.rule_policy import RulePolicy

    rasa_runtime.install_policies()
    key = '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]'
    parsed = RulePolicy._rule_key_to_state(key)
    assert parsed == RulePolicy._rule_key_to_state.__wrapped__(key) == json.loads(key)
    assert RulePolicy._rule_key_to_state(key) is parsed
    rasa_runtime.install_policies()
    assert RulePolicy._rule_key_to_state(key) is parsed  # installed once


def test_install_is_idempotent():
    from rasa.core.actions.action import ActionExtractSlots, RemoteAction
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.utils.endpoints import EndpointConfig

    rasa_runtime.install()
    patched = (
        RemoteAction._validate_action_result,
        ActionExtractSlots._execute_validation_action,
        Event.resolve_by_type,
        TEDPolicy.predict_action_probabilities,
        EndpointConfig.session,
        DaskGraphRunner.run,
    )
    rasa_runtime.install_policies()
    rasa_runtime.install()
    assert patched[0] is rasa_runtime.validate_action_result
    assert getattr(patched[1], "skips_empty", False) and getattr(patched[3], "skips", False)
    assert getattr(patched[4], "keeps", False) and patched[5] is rasa_runtime.run_in_order
    assert (
        RemoteAction._validate_action_result,
        ActionExtractSlots._execute_validation_action,
        Event.resolve_by_type,
        TEDPolicy.predict_action_probabilities,
        EndpointConfig.session,
        DaskGraphRunner.run,
    ) == patched


async def test_calls_to_an_endpoint_reuse_one_kept_alive_connection():
    """Calls through Rasa's EndpointConfig.request, as Rasa calls the action server, to a real HTTP server on loopback:
    one TCP connection, the answers, authentication and Rasa's errors unchanged; the session closed when the server
    stops."""
    from aiohttp import web
    from aiohttp.test_utils import RawTestServer
    from rasa.utils.endpoints import ClientResponseError

    peers, bodies = [], []

    async def action_server(request):
        peers.append(request.transport.get_extra_info("peername"))
        body = await request.json()
        bodies.append(body)
        if body.get("fail"):
            return web.Response(status=500, text="boom")
        return web.json_response({"echo": body["n"], "auth": request.headers.get("Authorization")})

    rasa_runtime.install()
    async with RawTestServer(action_server) as server:
        endpoint = EndpointConfig(url=str(server.make_url("/webhook")), basic_auth={"username": "u", "password": "p"})
        first = await endpoint.request(json={"n": 1}, method="post")
        second = await endpoint.request(json={"n": 2}, method="post")
        assert (first["echo"], second["echo"]) == (1, 2) and first["auth"].startswith("Basic ")
        assert len(peers) == 2 and peers[0] == peers[1]  # the same client port: the connection was kept
        text = {"n": 4, "text": "Qué tal, ça va? 😀 </b>", "confidence": 0.1 + 0.2, "none": None, "list": [True]}
        await endpoint.request(json=text, method="post")
        assert bodies[-1] == text  # the body is the same JSON whichever library wrote it
        with pytest.raises(ClientResponseError):
            await endpoint.request(json={"fail": True}, method="post")
        kept = endpoint.session().session
        assert not kept.closed
        await rasa_runtime.close_kept_sessions()
        assert kept.closed
        assert (await endpoint.request(json={"n": 3}, method="post"))["echo"] == 3  # a new session afterwards
        assert endpoint.session().session is not kept
        await rasa_runtime.close_kept_sessions()


class Recorder(GraphComponent):
    """A graph node that records its runs and answers its name followed by what it was given."""

    runs: List[str] = []

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "Recorder":
        return cls(resource.name)

    def answer(self, **given) -> str:
        Recorder.runs.append(self.name)
        return "+".join([self.name, *(f"{key}={given[key]}" for key in sorted(given))])


def graph_runner(tmp_path):
    """A diamond fed by an input (`start` -> `left`, `right` -> `join`) and a node that `join` does not need."""

    def node(**needs):
        return SchemaNode(needs=needs, uses=Recorder, constructor_name="create", fn="answer", config={})

    schema = GraphSchema(
        {
            "start": node(text="__message__"),
            "left": node(a="start"),
            "right": node(a="start"),
            "join": node(l="left", r="right"),
            "unused": node(a="start"),
        }
    )
    return DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema))


@pytest.mark.parametrize("targets", [["join"], ["join", "left"], ["unused", "join"]])
def test_graphs_run_in_order_as_dask_runs_them(tmp_path, targets):
    runner = graph_runner(tmp_path)
    inputs = {"__message__": ["hola"]}
    Recorder.runs = []
    by_dask = dict(
        dask.get(
            runner._build_dask_graph(runner._graph_schema.minimal_graph_schema(targets))
            | {"__message__": ("__message__", inputs["__message__"])},
            targets,
        )
    )
    dask_runs = sorted(Recorder.runs)
    Recorder.runs = []
    in_order = rasa_runtime.run_in_order(runner, inputs, targets)
    assert in_order == by_dask and set(in_order) == set(targets)
    assert in_order["join"] == "join+l=left+a=start+text=['hola']+r=right+a=start+text=['hola']"
    assert sorted(Recorder.runs) == dask_runs  # each needed node once, nothing else
    assert Recorder.runs.index("start") < Recorder.runs.index("left") < Recorder.runs.index("join")
    assert ("unused" in Recorder.runs) == ("unused" in targets)
    Recorder.runs = []
    rasa_runtime.run_in_order(runner, inputs, targets)  # the order is kept per set of targets: the same again
    assert sorted(Recorder.runs) == dask_runs
