"""Sanity checks a trainer runs on the NLU data: counts per intent and language,
examples labelled with two intents, near-duplicates, unknown intents or entities.

Usage: python scripts/check_nlu.py [data/nlu]
Languages come from the folder: data/nlu/<lang>/<topic>.yml.
"""

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

INTENTS = """greet goodbye affirm deny thank bot_challenge help out_of_scope change_language inform
login logout change_number check_balance check_quota usage_history show_plan top_up buy_pack
show_offers list_subscriptions buy_subscription cancel_subscription check_loan request_loan
last_invoices pay_invoice find_store book_appointment report_outage ask_faq create_ticket
human_handoff give_feedback""".split()
# Beyond the spec: a card number typed in the chat (certain by components/card_guard.py, so few examples).
INTENTS += ["share_card_number"]
# Beyond the spec: "stop" to campaign messages (actions/campaign_message.py).
INTENTS += ["opt_out"]
ENTITIES = set(
    """phone_number otp_code amount contract_number document_number pack payment_method
city language score date""".split()
)
MIN_EXAMPLES = {"inform": 60, "share_card_number": 8, "opt_out": 20}
ANNOTATION = re.compile(r"\[([^\]]+)\](\(([^)]+)\)|\{([^}]+)\})")


def plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), example)


def entity_names(example: str):
    for m in ANNOTATION.finditer(example):
        if m.group(3):
            yield m.group(3).split(":")[0]
        else:
            try:
                yield yaml.safe_load("{" + m.group(4) + "}")["entity"]
            except Exception:  # noqa: BLE001 - report, do not crash
                yield f"<malformed {{{m.group(4)}}}>"


def shape(text: str) -> str:
    """Lower-case words with digits collapsed: two examples with the same shape are templated twins."""
    return re.sub(r"\d+", "0", re.sub(r"[^\w\s]", "", text.lower())).strip()


def main(root: str = "data/nlu") -> int:
    problems = []
    counts = defaultdict(Counter)
    seen = {}
    shapes = defaultdict(list)
    for path in sorted(Path(root).glob("*/*.yml")):
        lang = path.parent.name
        doc = yaml.safe_load(path.read_text()) or {}
        for block in doc.get("nlu", []):
            intent = block.get("intent")
            if intent is None:
                continue
            if intent not in INTENTS:
                problems.append(f"{path}: unknown intent {intent}")
            for line in block["examples"].splitlines():
                line = line.strip()
                if not line.startswith("- "):
                    continue
                ex = line[2:].strip()
                for m in ANNOTATION.finditer(ex):
                    if re.search(r"\W$", m.group(1)):
                        problems.append(
                            f"{path}: entity text '{m.group(1)}' ends with punctuation (keep it outside the brackets)"
                        )
                for ent in entity_names(ex):
                    if ent not in ENTITIES:
                        problems.append(f"{path}: unknown entity {ent} in '{ex}'")
                text = plain(ex).lower().strip()
                key = (text,)
                if key in seen and seen[key] != intent:
                    problems.append(f"{path}: '{text}' is both {seen[key]} and {intent}")
                seen[key] = intent
                counts[lang][intent] += 1
                shapes[(lang, shape(text))].append(intent)
    for lang, c in sorted(counts.items()):
        for intent in INTENTS:
            need = MIN_EXAMPLES.get(intent, 30)
            if c[intent] < need:
                problems.append(f"{lang}: {intent} has {c[intent]} examples (< {need})")
        print(lang, sum(c.values()), "examples,", len(c), "intents")
    twins = sum(len(v) - 1 for v in shapes.values() if len(v) > 1)
    print("templated twins (same words, other digits):", twins)
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
