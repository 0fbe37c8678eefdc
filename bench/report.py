"""The load test's arithmetic and its report: percentiles, sustained rate, errors, memory, growth, the targets.
Standard library only (bench/run.py runs it from the load tester's venv, the unit tests from the project's).

A sample is one customer turn, as bench/locustfile.py records it: {"kind": "nlu"|"operator", "ms", "ok", "at"}.
"""

import json
import math
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

KINDS = ("nlu", "operator")
TARGET_P95_MS, TARGET_AT_CUSTOMERS = 150.0, 20  # operator-call turns, p95, at 20 concurrent customers
TARGET_RATE = 50.0  # messages/s sustained with no error


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile, linearly interpolated between the closest ranks (numpy's default); nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def read_samples(path: Path) -> List[Dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stage_stats(samples: Iterable[Dict], start: float, end: float) -> Dict:
    """Figures of the turns that started in [start, end): the steady part of a stage, ramp-up left out."""
    inside = [s for s in samples if start <= s["at"] < end]
    stats: Dict = {
        "turns": len(inside),
        "errors": sum(1 for s in inside if not s["ok"]),
        "seconds": end - start,
        "rate": sum(1 for s in inside if s["ok"]) / (end - start) if end > start else math.nan,
    }
    for kind in KINDS:
        times = [s["ms"] for s in inside if s["ok"] and s["kind"] == kind]
        stats[kind] = {"n": len(times), **{f"p{p}": percentile(times, p) for p in (50, 95, 99)}}
    return stats


def rss_mb(pid: int) -> Optional[float]:
    """Resident memory of a process in MiB (None if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_ms(pid: int) -> Optional[float]:
    """CPU time (user + system, ms) a process and all its descendants have used so far (PostgreSQL's and nginx's
    work is done in child processes); None if it is gone."""
    children: Dict[int, List[int]] = {}
    times: Dict[int, float] = {}
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(child)
        times[child] = (int(fields[11]) + int(fields[12])) * tick
    if pid not in times:
        return None
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(children.get(current, []))
    return total


def cpu_per_message(before: Dict[str, Optional[float]], after: Dict[str, Optional[float]], answered: int) -> Dict:
    """CPU ms each process spent per answered message during a stage (ramp-up included: the whole stage's CPU over
    the whole stage's answered messages)."""
    return {
        name: (after[name] - before[name]) / answered
        for name in before
        if answered and before[name] is not None and after.get(name) is not None
    }


def growth(stages: List[Dict], kind: str) -> Optional[float]:
    """How many times the p95 of `kind` grew from the fewest customers to the most."""
    ordered = sorted(stages, key=lambda s: s["customers"])
    if len(ordered) < 2:
        return None
    first, last = ordered[0]["stats"][kind]["p95"], ordered[-1]["stats"][kind]["p95"]
    return last / first if first and not math.isnan(first) and not math.isnan(last) else None


def targets(stages: List[Dict]) -> Dict[str, Optional[bool]]:
    """Whether the issue's targets are met (None: no stage measured it)."""
    at_target = [s for s in stages if s["customers"] == TARGET_AT_CUSTOMERS]
    p95 = at_target[0]["stats"]["operator"]["p95"] if at_target else math.nan
    return {
        "operator_p95": None if math.isnan(p95) else p95 <= TARGET_P95_MS,
        "rate_without_error": any(s["stats"]["rate"] >= TARGET_RATE and s["stats"]["errors"] == 0 for s in stages)
        if stages
        else None,
    }


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def _verdict(value: Optional[bool]) -> str:
    return {True: "met", False: "NOT met", None: "not measured"}[value]


def markdown_profile(name: str, profile: Dict) -> str:
    if profile.get("skipped"):
        return f"### {name}\n\n{profile['skipped']}\n"
    stages = profile["stages"]
    processes = sorted({p for s in stages for p in s["rss_mb"]})
    lines = [
        f"### {name}",
        "",
        "| customers | messages/s | NLU-only p50 / p95 / p99 ms | operator-call p50 / p95 / p99 ms | turns | errors "
        + "".join(f"| RSS {p} MiB " for p in processes)
        + "|",
        "|---" * (6 + len(processes)) + "|",
    ]
    for stage in stages:
        st = stage["stats"]
        cells = [
            str(stage["customers"]),
            f"{st['rate']:.1f}",
            " / ".join(_ms(st["nlu"][f"p{p}"]) for p in (50, 95, 99)),
            " / ".join(_ms(st["operator"][f"p{p}"]) for p in (50, 95, 99)),
            str(st["turns"]),
            str(st["errors"]),
            *("–" if stage["rss_mb"].get(p) is None else f"{stage['rss_mb'][p]:.0f}" for p in processes),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    met = targets(stages)
    grown = {kind: growth(stages, kind) for kind in KINDS}
    lines += [
        "",
        "p95 growth from the fewest to the most customers: "
        + ", ".join(f"{kind} x{g:.1f}" if g else f"{kind} –" for kind, g in grown.items()),
        f"Target operator-call p95 <= {TARGET_P95_MS:.0f} ms at {TARGET_AT_CUSTOMERS} customers: "
        f"{_verdict(met['operator_p95'])}; >= {TARGET_RATE:.0f} messages/s with no error: "
        f"{_verdict(met['rate_without_error'])}.",
    ]
    if any(s.get("cpu_ms_per_message") for s in stages):
        names = sorted({p for s in stages for p in s.get("cpu_ms_per_message", {})})
        lines += [
            "",
            "CPU ms per answered message, by process (the whole stage; 2 cores give 2 000 ms of CPU a second):",
            "",
            "| customers | " + " | ".join(names) + " | all |",
            "|---" * (len(names) + 2) + "|",
        ]
        for stage in stages:
            cpu = stage.get("cpu_ms_per_message", {})
            cells = ["–" if cpu.get(n) is None else f"{cpu[n]:.1f}" for n in names]
            lines.append(f"| {stage['customers']} | " + " | ".join(cells) + f" | {sum(cpu.values()):.1f} |")
    return "\n".join(lines) + "\n"


def markdown(report: Dict) -> str:
    head = [
        f"# make bench, {report['started']}",
        "",
        f"Machine: {report['machine']}. Each stage: {report['duration']} s of simulated customers (journeys of "
        f"bench/locustfile.py, {report['think']} s between two messages of a customer), the first "
        f"{report['ramp']} s (ramp-up) left out. A turn is NLU-only when the assistant calls none of the "
        "operator's systems; messages/s counts answered turns.",
        "",
    ]
    return "\n".join(head) + "\n".join(markdown_profile(n, p) for n, p in report["profiles"].items())
