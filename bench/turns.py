"""One customer, one turn at a time, over the REST channel: p50/p95 of NLU-only turns and of turns with one
operator call (a balance question once identified by SMS code). Part 5 of issue 17 ("fast turns first").

    .venv/bin/python bench/turns.py [--rounds 40] [--url http://127.0.0.1:5005 --sandbox http://127.0.0.1:5080]

Without --url it starts the single-process profile itself (bench/stack.py). Standard library only.
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import percentile  # noqa: E402
from stack import Stack  # noqa: E402

NLU_ONLY = ["hello", "hola", "bonjour", "thanks a lot"]  # greet x3, thank: rules answer them, no operator call
BALANCE = ("how much credit do I have", "+229 01 96 00 00 05", "+2290196000005")  # John (fixture 5)


def post(url: str, payload: dict) -> list:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def sms_code(sandbox: str, msisdn: str) -> str:
    query = urllib.parse.urlencode({"to": msisdn})
    with urllib.request.urlopen(f"{sandbox}/_sandbox/sms?{query}", timeout=10) as reply:
        sent = json.loads(reply.read())
    return re.search(r"\d{6}", sent[-1]["text"]).group(0)


def timed(webhook: str, sender: str, message: str) -> float:
    started = time.perf_counter()
    replies = post(webhook, {"sender": sender, "message": message})
    elapsed = (time.perf_counter() - started) * 1000
    if not replies:
        raise RuntimeError(f"no reply to {message!r}")
    return elapsed


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far: unlike latency, not inflated by a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure(rasa: str, sandbox: str, rounds: int, pids: Dict[str, int]) -> Dict[str, List[float]]:
    """Latencies per kind of turn; `cpu:<kind>:<process>` the CPU ms each process spent per turn of that kind."""
    webhook = f"{rasa}/webhooks/rest/webhook"
    samples: Dict[str, List[float]] = {"nlu": [], "operator": []}
    for _ in range(3):  # warm-up: first inference, first connections, first token
        warm = f"warm-{uuid.uuid4().hex[:8]}"
        for message in NLU_ONLY:
            timed(webhook, warm, message)
    question, typed, msisdn = BALANCE
    identified = f"bench-{uuid.uuid4().hex[:8]}"
    post(webhook, {"sender": identified, "message": question})
    post(webhook, {"sender": identified, "message": typed})
    post(webhook, {"sender": identified, "message": sms_code(sandbox, msisdn)})
    senders = []
    for _ in range(rounds):
        senders.append(f"bench-{uuid.uuid4().hex[:8]}")
        post(webhook, {"sender": senders[-1], "message": "hi"})  # the session start is not a turn we measure
    phases = {
        "nlu": [(sender, message) for sender in senders for message in NLU_ONLY],
        "operator": [(identified, question)] * rounds,
    }
    for kind, turns in phases.items():
        before = {name: cpu_ms(pid) for name, pid in pids.items()}
        for sender, message in turns:
            samples[kind].append(timed(webhook, sender, message))
        for name, pid in pids.items():
            samples[f"cpu:{kind}:{name}"] = [(cpu_ms(pid) - before[name]) / len(turns)]
    return samples


def summary(samples: Dict[str, List[float]]) -> str:
    lines = [
        f"{kind:9} n={len(values):4}  p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"
        + "".join(
            f"  cpu {name.split(':')[2]} {cpu[0]:5.1f} ms"
            for name, cpu in samples.items()
            if name.startswith(f"cpu:{kind}:")
        )
        for kind, values in samples.items()
        if not kind.startswith("cpu:")
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--url", help="Rasa's base URL (default: start the stack)")
    parser.add_argument("--sandbox", help="the sandbox's base URL, with --url")
    parser.add_argument("--pids", default="", help="with --url: name=pid,... of the processes to read CPU time of")
    parser.add_argument("--json", help="also write the raw samples here")
    args = parser.parse_args()
    if args.url:
        pids = {name: int(pid) for name, _, pid in (p.partition("=") for p in args.pids.split(",") if p)}
        samples = measure(args.url, args.sandbox, args.rounds, pids)
    else:
        with Stack() as stack:
            pids = {name: pid for name, pid in stack.pids.items() if name != "sandbox"}
            samples = measure(stack.urls["rasa"], stack.urls["sandbox"], args.rounds, pids)
    print(summary(samples))
    if args.json:
        Path(args.json).write_text(json.dumps(samples))


if __name__ == "__main__":
    main()
