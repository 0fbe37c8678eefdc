"""`make bench`: the load test, against the single-process profile, then the cluster profile, in one run.

For each profile and each number of customers (10, 20, 50, 200 by default): the sandbox's fixtures reset (the wallets
refilled), locust runs bench/locustfile.py headless for a bounded time, then the figures of the steady part, the
memory of every process. The report goes to bench/results/<UTC time>.md (and .json) and is printed.

    .venv-bench/bin/python bench/run.py [--customers 10,20,50,200] [--duration 60] [--think 1,2]
                                        [--profiles single,cluster]

The cluster profile is scripts/cluster.sh (`up` returns once everything answers and writes CLUSTER_DIR/state.json,
`down` stops it), started on a free block of ports (CLUSTER_BASE_PORT) in a temporary CLUSTER_DIR.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

import report  # noqa: E402
from stack import Stack, load_env  # noqa: E402

from common import clock  # noqa: E402  (standard library only: the project's one clock)

LOCUST = Path(sys.executable).parent / "locust"
CLUSTER = ROOT / "scripts" / "cluster.sh"


def machine() -> str:
    memory = next(
        (
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if "MemTotal" in line
        ),
        0,
    )
    load = os.getloadavg()[0]
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"load average {load:.1f} at the start (shared with other work)"
    )


def post(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30).read()


def run_stage(host: str, sandbox: str, customers: int, args, work: Path, pids: Dict[str, int]) -> Dict:
    post(f"{sandbox}/_sandbox/reset")
    samples = work / f"samples-{customers}.jsonl"
    rate = max(customers / args.ramp, 1)
    env = {**os.environ, "BENCH_SANDBOX": sandbox, "BENCH_SAMPLES": str(samples), "BENCH_THINK": args.think}
    started = clock.timestamp()
    cpu_before = {name: report.cpu_ms(pid) for name, pid in pids.items()}
    locust_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [str(LOCUST), "-f", str(HERE / "locustfile.py"), "--headless", "--only-summary", "--host", host]
        + ["-u", str(customers), "-r", f"{rate:g}", "-t", f"{args.duration}s", "--stop-timeout", "30"],
        env=env,
        cwd=ROOT,
        stdout=(work / f"locust-{customers}.log").open("w"),
        stderr=subprocess.STDOUT,
        check=False,
    )
    cpu_after = {name: report.cpu_ms(pid) for name, pid in pids.items()}
    locust_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before["locust"] = (locust_before.ru_utime + locust_before.ru_stime) * 1000
    cpu_after["locust"] = (locust_after.ru_utime + locust_after.ru_stime) * 1000
    every = report.read_samples(samples)
    return {
        "customers": customers,
        "stats": report.stage_stats(every, started + args.ramp, started + args.duration),
        "cpu_ms_per_message": report.cpu_per_message(cpu_before, cpu_after, sum(1 for s in every if s["ok"])),
    }


def warm_up(host: str, sandbox: str, rounds: int = 2) -> None:
    """Each journey once per language before measuring: the first inference of each model, the first action of
    each kind, the first connections cost seconds that no customer pays afterwards."""
    from journeys import CUSTOMERS, WALLET
    from turns import post, sms_code

    webhook = f"{host}/webhooks/rest/webhook"
    for round_ in range(rounds):
        for language, customer in CUSTOMERS.items():
            sender = f"warm-{language}-{round_}-{clock.timestamp()}"
            for message in (customer["hello"], customer["balance"], customer["typed"]):
                post(webhook, {"sender": sender, "message": message})
            for message in (sms_code(sandbox, customer["msisdn"]), customer["top_up"], WALLET, "no", customer["faq"]):
                post(webhook, {"sender": sender, "message": message})


def run_profile(host: str, sandbox: str, pids: Dict[str, int], args, work: Path) -> Dict:
    post(f"{sandbox}/_sandbox/reset")
    warm_up(host, sandbox)
    stages = []
    for customers in args.customers:
        stage = run_stage(host, sandbox, customers, args, work, pids)
        stage["rss_mb"] = {name: report.rss_mb(pid) for name, pid in pids.items()}
        st = stage["stats"]
        print(
            f"  {customers:4} customers: {st['rate']:.1f} messages/s, operator p95 {st['operator']['p95']:.0f} ms, "
            f"NLU p95 {st['nlu']['p95']:.0f} ms, {st['errors']} errors",
            flush=True,
        )
        stages.append(stage)
    return {"stages": stages}


def single(args, work: Path) -> Dict:
    print("single-process profile: starting (sandbox, action server, Rasa)...", flush=True)
    with Stack(work / "single") as stack:
        return run_profile(stack.urls["rasa"], stack.urls["sandbox"], stack.pids, args, work)


def free_block(size: int = 40) -> int:
    """A base port whose next `size` ports are free now."""
    for base in range(20000, 60000, 97):
        try:
            for port in range(base, base + size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free block of ports")


def cluster(args, work: Path) -> Dict:
    if not CLUSTER.exists():
        print("cluster profile not available (no scripts/cluster.sh on this branch): skipped", flush=True)
        return {"skipped": "Cluster profile not available: scripts/cluster.sh is not on this branch yet."}
    directory = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    directory.chmod(0o755)  # PostgreSQL runs as its own user, which must reach its data directory
    env = {**os.environ, **load_env(), "CLUSTER_BASE_PORT": str(free_block()), "CLUSTER_DIR": str(directory)}
    print(f"cluster profile: starting (scripts/cluster.sh up, CLUSTER_DIR={directory})...", flush=True)
    log = (work / "cluster.log").open("w")
    try:
        up = subprocess.run([str(CLUSTER), "up"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        state_file = directory / "state.json"
        if up.returncode != 0 or not state_file.exists():
            return {
                "skipped": f"Cluster profile did not start (scripts/cluster.sh up: exit {up.returncode}; "
                f"see {work / 'cluster.log'})."
            }
        state = json.loads(state_file.read_text())
        return run_profile(state["balancer"], state["sandbox"], state["pids"], args, work)
    finally:
        subprocess.run([str(CLUSTER), "down"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        shutil.rmtree(directory, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", default="10,20,50,200")
    parser.add_argument("--duration", type=int, default=60, help="seconds per stage")
    parser.add_argument("--ramp", type=int, default=5, help="seconds to start the customers, left out")
    parser.add_argument("--think", default="1,2", help="seconds between two messages of a customer: min,max")
    parser.add_argument("--profiles", default="single,cluster")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    args.customers = [int(n) for n in args.customers.split(",")]
    started = clock.now()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    result = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "duration": args.duration,
        "ramp": args.ramp,
        "think": args.think.replace(",", " to "),
        "profiles": {},
    }
    runs = {
        "single": ("Single-process profile (sandbox, 1 action server, 1 Rasa, SQLite)", single),
        "cluster": (
            "Cluster profile (scripts/cluster.sh: nginx, 2 Rasa, 2 action servers, PostgreSQL, Redis)",
            cluster,
        ),
    }
    for name in args.profiles.split(","):
        title, run = runs[name]
        result["profiles"][title] = run(args, work)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / started.strftime("%Y-%m-%dT%H%M")
    (stem.with_suffix(".json")).write_text(json.dumps(result, indent=1))
    text = report.markdown(result)
    stem.with_suffix(".md").write_text(text)
    print("\n" + text + f"\n(report: {stem.with_suffix('.md')}; locust logs and samples: {work})")


if __name__ == "__main__":
    main()
