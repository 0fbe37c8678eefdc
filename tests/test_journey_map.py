"""The README's table "Journeys: one name in every layer" is true: every file it lists exists
(NLU files in each language: `<lang>` stands for fr, es and en)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("fr", "es", "en")
SECTION = "## Journeys: one name in every layer"


def journey_table():
    """{journey: [path, ...]} from the README's table, `<lang>` expanded to each language."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in readme, f"README.md has no section {SECTION!r}"
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header, body = rows[0], rows[2:]  # rows[1] is the |---| separator
    assert [c.strip() for c in header.strip("|").split("|")][0] == "journey"
    table = {}
    for row in body:
        journey, *cells = [c.strip() for c in row.strip("|").split("|")]
        paths = [p for cell in cells for p in re.findall(r"`([^`]+)`", cell)]
        table[journey.strip("`")] = [
            p.replace("<lang>", lang) for p in paths for lang in (LANGUAGES if "<lang>" in p else ("",))
        ]
    return table


TABLE = journey_table()


def test_the_table_lists_the_journeys():
    assert len(TABLE) >= 21, sorted(TABLE)
    assert all(len(paths) >= 5 + 2 for paths in TABLE.values())  # 3 NLU, rules, module, messages, tests


@pytest.mark.parametrize("journey", sorted(TABLE))
def test_every_file_the_table_lists_exists(journey):
    missing = [p for p in TABLE[journey] if not (ROOT / p).is_file()]
    assert not missing, f"{journey}: {missing}"


# --- the rest of the trail: client calls and sandbox endpoints ------------------------------------------------

TRAIL_SECTION = "## Journeys down to the operator systems"
CLIENTS = {
    "bss": ("clients.bss", "BSSClient"),
    "payments": ("clients.payments", "PaymentsClient"),
    "zendesk": ("clients.zendesk", "ZendeskClient"),
    "sms": ("clients.sms", "SMSClient"),
}


def trail_table():
    """{journey: (["bss.top_up", ...], [("POST", "/tmf-api/..."), ...])} from the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert TRAIL_SECTION in readme, f"README.md has no section {TRAIL_SECTION!r}"
    section = readme.split(TRAIL_SECTION, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    table = {}
    for row in rows:
        journey, calls, endpoints = [c.strip() for c in row.strip("|").split("|")]
        table[journey.strip("`")] = (
            re.findall(r"`(\w+\.\w+)`", calls),
            [tuple(e.split(" ", 1)) for e in re.findall(r"`([A-Z]+ /[^`]+)`", endpoints)],
        )
    return table


TRAIL = trail_table()
ACTIONS_SOURCE = "\n".join(path.read_text() for path in sorted((ROOT / "actions").rglob("*.py")))


def test_every_journey_has_its_trail():
    assert set(TRAIL) == set(TABLE)


@pytest.mark.parametrize("journey", sorted(TRAIL))
def test_each_client_call_exists_and_the_actions_make_it(journey):
    import importlib

    for call in TRAIL[journey][0]:
        client, method = call.split(".")
        module, name = CLIENTS[client]
        assert callable(getattr(getattr(importlib.import_module(module), name), method, None)), call
        assert re.search(rf"\.{method}\(", ACTIONS_SOURCE), f"no action calls {call}"


@pytest.fixture(scope="module")
def sandbox_routes():
    from sandbox.app import create_app

    return create_app("sqlite:///:memory:").url_map.bind("localhost")


@pytest.mark.parametrize("journey", sorted(TRAIL))
def test_the_sandbox_answers_each_endpoint(journey, sandbox_routes):
    for method, path in TRAIL[journey][1]:
        sandbox_routes.match(path.replace("<id>", "X-1"), method=method)  # raises when no route answers
