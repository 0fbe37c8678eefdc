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
