"""`make eval`: train on a fixed 80 % of the NLU data, score the other 20 %, per language.

Five-fold cross-validation is too slow on two cores, so the split is fixed (seeded, stratified by
language and intent). Also scores the hand-written held-out sets in tests/nlu/<lang>.yml, which
no model ever trains on. Writes results/eval/report.md and report.json (not committed), and appends
one line per run to tests/nlu/history.tsv, which is committed (date, commit, training time and the machine's
load while it trained, intent macro-F1 and entity F1 per set), so that a regression shows next to the runs
before it.
"""

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.metrics import f1_score, precision_recall_fscore_support

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the model refers to our components package
OUT = ROOT / "results" / "eval"
LANGUAGES = ("fr", "es", "en")
SEED, TEST_SHARE = 42, 0.2
# The pairs customers' messages are most often confused between (the issue, data/README.md): counted
# gold→predicted in both directions in every set.
CONFUSION_PAIRS = (
    ("show_offers", "buy_pack"),
    ("top_up", "inform"),
    ("check_quota", "usage_history"),
    ("check_quota", "buy_pack"),
    ("check_loan", "check_balance"),
    ("cancel_subscription", "buy_subscription"),
    ("deny", "inform"),
)
HISTORY = ROOT / "tests" / "nlu" / "history.tsv"


def examples_by_language(folder: Path):
    """{lang: [Message]} from data/nlu/<lang>/*.yml or tests/nlu/<lang>.yml."""
    found = {}
    for lang in LANGUAGES:
        path = folder / lang if (folder / lang).is_dir() else folder / f"{lang}.yml"
        if path.exists():
            found[lang] = load_data(str(path)).intent_examples
    return found


def split(by_language):
    """Stratified by language and intent; an example's side depends on its own text (a seeded hash), not on a
    shuffle of its intent, so adding examples to an intent leaves the other examples where they were and
    the runs in history.tsv stay comparable."""
    train, test = [], {lang: [] for lang in by_language}
    for lang, messages in sorted(by_language.items()):
        groups = defaultdict(list)
        for m in messages:
            groups[m.get("intent")].append(m)
        for intent in sorted(groups):
            group = sorted(groups[intent], key=lambda m: (rank(lang, m.get("text")), m.get("text")))
            n_test = max(1, round(len(group) * TEST_SHARE))
            test[lang] += group[:n_test]
            train += group[n_test:]
    return train, test


def rank(lang: str, text: str) -> str:
    return hashlib.sha1(f"{SEED}|{lang}|{text}".encode()).hexdigest()


def entity_spans(entities):
    return {(e["entity"], e["start"], e["end"]) for e in entities or [] if e["entity"] != "conversation_language"}


def prf(tp: int, fp: int, fn: int):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def confusion_counts(gold, guess):
    """{"a→b": n} for each listed pair, both directions, zeros included so that runs compare."""
    counts = {}
    for a, b in CONFUSION_PAIRS:
        for x, y in ((a, b), (b, a)):
            counts[f"{x}→{y}"] = sum(g == x and q == y for g, q in zip(gold, guess))
    return counts


async def predict(model_path: Path, messages):
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # one debug line per parsed message otherwise

    agent = Agent.load(str(model_path))
    return [await agent.parse_message(m.get("text")) for m in messages]


def classifier_intent(prediction) -> str:
    """The classifier's own best intent: the fallback is a dialogue decision, scored apart."""
    for candidate in prediction.get("intent_ranking") or [prediction["intent"]]:
        if candidate["name"] != "nlu_fallback":
            return candidate["name"]
    return "nlu_fallback"


def score(messages, predictions):
    gold = [m.get("intent") for m in messages]
    guess = [classifier_intent(p) for p in predictions]
    fallbacks = sum(p["intent"]["name"] == "nlu_fallback" for p in predictions)
    labels = sorted(set(gold))
    p, r, f, support = precision_recall_fscore_support(gold, guess, labels=labels, zero_division=0)
    tp = fp = fn = 0
    by_type = defaultdict(lambda: [0, 0, 0])  # entity type: [tp, fp, fn]
    entity_errors = []
    for m, pred in zip(messages, predictions):
        g, q = entity_spans(m.get("entities")), entity_spans(pred.get("entities"))
        tp, fp, fn = tp + len(g & q), fp + len(q - g), fn + len(g - q)
        for kind, spans in ((0, g & q), (1, q - g), (2, g - q)):
            for entity, _, _ in spans:
                by_type[entity][kind] += 1
        if g != q:
            text = m.get("text")
            entity_errors.append(
                (text, sorted(f"{e}:{text[s:t]}" for e, s, t in g), sorted(f"{e}:{text[s:t]}" for e, s, t in q))
            )
    ent_p, ent_r, ent_f = prf(tp, fp, fn)
    per_entity = {}
    for entity, (etp, efp, efn) in sorted(by_type.items()):
        ep, er, ef = prf(etp, efp, efn)
        per_entity[entity] = {
            "precision": round(ep, 3),
            "recall": round(er, 3),
            "f1": round(ef, 3),
            "support": etp + efn,
        }
    errors = [(m.get("text"), g, q) for m, g, q in zip(messages, gold, guess) if g != q]
    return {
        "examples": len(messages),
        "intent_accuracy": sum(g == q for g, q in zip(gold, guess)) / len(gold),
        "intent_macro_f1": f1_score(gold, guess, labels=labels, average="macro", zero_division=0),
        "per_intent_f1": {label: round(float(x), 3) for label, x in zip(labels, f)},
        "fallback_rate": fallbacks / len(predictions),
        "entity_precision": ent_p,
        "entity_recall": ent_r,
        "entity_f1": ent_f,
        "per_entity": per_entity,
        "confusions": confusion_counts(gold, guess),
        "errors": errors,
        "entity_errors": entity_errors,
    }


def confusion_table(report, sets):
    """Counts of the listed confusion pairs, gold→predicted, one column per set."""
    names = list(sets)
    lines = [
        "\n## Confusion pairs (gold → predicted)\n",
        "| pair | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for pair in report[names[0]]["confusions"]:
        lines.append(f"| {pair} | " + " | ".join(str(report[n]["confusions"][pair]) for n in names) + " |")
    return lines


def entity_table(report, sets):
    """Entity F1 per entity type (and how many gold spans), one column per set."""
    names = list(sets)
    entities = sorted({e for n in names for e in report[n]["per_entity"]})
    lines = [
        "\n## Entity F1 per entity type (F1, gold spans)\n",
        "| entity | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for entity in entities:
        cells = []
        for n in names:
            e = report[n]["per_entity"].get(entity)
            cells.append(f"{e['f1']:.3f} ({e['support']})" if e else "-")
        lines.append(f"| {entity} | " + " | ".join(cells) + " |")
    return lines


def git_commit() -> str:
    """The commit evaluated, with "+dirty" when the working tree has changes not committed."""

    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (
        "+dirty"
        if git("status", "--porcelain", "--untracked-files=no", "--", "data", "config.yml", "components")
        else ""
    )


def append_history(report, sets) -> None:
    """One line per run in tests/nlu/history.tsv: date, commit, training examples, seconds and load (the 1-minute
    load average when training started: the machine is shared), then intent macro-F1 and entity F1 per set."""
    from common.clock import now

    leading = ["date", "commit", "train_examples", "train_seconds", "load"]
    columns = [f"{n} {metric}" for n in sets for metric in ("intent_f1", "entity_f1")]
    if not HISTORY.exists():
        HISTORY.write_text("\t".join([*leading, *columns]) + "\n")
    values = [f"{report[n][key]:.3f}" for n in sets for key in ("intent_macro_f1", "entity_f1")]
    row = [
        now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        git_commit(),
        str(report["train_examples"]),
        str(report["nlu_train_seconds"]),
        f"{report['load_at_training']:.1f}",
        *values,
    ]
    rows = HISTORY.read_text().splitlines()
    header, previous = rows[0].split("\t"), rows[-1].split("\t") if len(rows) > 1 else None
    first = len(leading)
    if previous and header[first:] == columns:
        drops = [
            f"{c} {old} → {new}" for c, old, new in zip(columns, previous[first:], values) if float(new) < float(old)
        ]
        print(f"\nagainst the last run in {HISTORY.name} ({previous[1]}):", "; ".join(drops) or "no score went down")
    with HISTORY.open("a") as out:
        out.write("\t".join(row) + "\n")


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    train, test = split(examples_by_language(ROOT / "data" / "nlu"))
    held_out = examples_by_language(ROOT / "tests" / "nlu")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "nlu").mkdir()
        shared = load_data(str(ROOT / "data" / "nlu" / "patterns.yml"))
        TrainingData(training_examples=train).merge(shared).persist_nlu(str(tmp / "nlu" / "train.yml"))
        load, started = os.getloadavg()[0], time.monotonic()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "rasa"),
                "train",
                "nlu",
                "--config",
                args.config,
                "--nlu",
                str(tmp / "nlu"),
                "--out",
                str(tmp),
                "--fixed-model-name",
                "eval",
            ],
            check=True,
            cwd=ROOT,
        )
        train_seconds = time.monotonic() - started
        sets = {f"split-{lang}": msgs for lang, msgs in test.items()}
        sets.update({f"held-out-{lang}": msgs for lang, msgs in held_out.items()})
        flat = [m for msgs in sets.values() for m in msgs]
        preds = asyncio.run(predict(tmp / "eval.tar.gz", flat))
    report = {"train_examples": len(train), "nlu_train_seconds": round(train_seconds), "load_at_training": load}
    i = 0
    for name, msgs in sets.items():
        report[name] = score(msgs, preds[i : i + len(msgs)])
        i += len(msgs)
    (OUT / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    lines = [
        f"# NLU evaluation\n\nTrained on {len(train)} examples (fixed 80 %) in {train_seconds:.0f} s"
        f" (load average {load:.1f} on {os.cpu_count()} cores when it started).\n",
        "| set | examples | intent macro-F1 | intent accuracy | fallback rate | entity F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name in sets:
        r = report[name]
        lines.append(
            f"| {name} | {r['examples']} | {r['intent_macro_f1']:.3f} | {r['intent_accuracy']:.3f} | {r['fallback_rate']:.3f} | {r['entity_f1']:.3f} |"
        )
    for name in sets:
        lines.append(f"\n## {name}: weakest intents\n")
        worst = sorted(report[name]["per_intent_f1"].items(), key=lambda kv: kv[1])[:8]
        lines += [f"- {intent}: {f1}" for intent, f1 in worst]
        lines.append(f"\n### {name}: misclassified\n")
        lines += [f"- `{text}`: {gold} → {guess}" for text, gold, guess in report[name]["errors"]]
    lines += confusion_table(report, sets)
    lines += entity_table(report, sets)
    for name in sets:
        lines.append(f"\n### {name}: entity errors (gold / predicted)\n")
        lines += [f"- `{text}`: {gold} / {guess}" for text, gold, guess in report[name]["entity_errors"]]
    (OUT / "report.md").write_text("\n".join(lines) + "\n")
    append_history(report, sets)
    print("\n".join(lines[: 4 + len(sets)]))
    print(f"\nfull report: {OUT / 'report.md'}")
    below = [n for n in sets if n.startswith("split-") and report[n]["intent_macro_f1"] < 0.90]
    if below:
        print(f"intent macro-F1 under 0.90 on: {', '.join(below)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
