"""The production profile on one machine (`make run-cluster`): PostgreSQL, Redis, nginx, 2 Rasa replicas, 2 action
servers, the operator sandbox, the web chat page, the ticket worker and the campaign sender, supervised.

    .venv/bin/python scripts/cluster.py run     start everything, watch it, Ctrl-C or SIGTERM stops everything
    .venv/bin/python scripts/cluster.py up      the same in the background; returns once every service answers
    .venv/bin/python scripts/cluster.py down    stops what `up` started

Ports are CLUSTER_BASE_PORT + an offset (PORTS below); files (databases, logs, generated configs, state.json) are
under CLUSTER_DIR (default var/cluster). state.json says where everything listens and the pid of each process, for
the tests (tests/cluster) and the load test (bench/run.py). A child that dies is reported and started again.

How state is shared: every Rasa replica keeps its conversations in the same PostgreSQL database (the redacting SQL
tracker store) and takes a per-conversation lock in Redis (connectors/lock_store.py) before a turn; every action
server keeps the assistant's own state (codes, identities, money moves) in one PostgreSQL database. nginx spreads
REST calls over the Rasa replicas and action calls over the action servers; socket.io sessions stay on the replica
that opened them (ip_hash). Debian's postgresql, redis-server and nginx are installed with apt-get when missing.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster_setup import (  # noqa: E402
    MODEL,
    ROOT,
    answers,
    commands,
    create_databases,
    endpoints,
    ensure_packages,
    health_url,
    log,
    nginx_config,
    port_open,
    postgres_user,
    prepare_postgres,
    rasa_token,
)

PORTS = {
    "balancer": 0,  # nginx: REST channel, webhooks, socket.io (sticky), Rasa's HTTP API
    "rasa-1": 1,
    "rasa-2": 2,
    "actions": 3,  # nginx: the action servers
    "actions-1": 4,
    "actions-2": 5,
    "sandbox": 6,
    "webchat": 7,
    "postgres": 8,
    "redis": 9,
}
STARTUP_SECONDS = {"rasa": 420, "default": 120}  # generous: the machine is shared, Rasa loads TensorFlow
RESTART_DELAY_SECONDS = 2


def settings() -> Dict:
    base = int(os.environ.get("CLUSTER_BASE_PORT", "7100"))
    directory = Path(os.environ.get("CLUSTER_DIR", ROOT / "var" / "cluster")).resolve()
    return {"base": base, "dir": directory, "ports": {name: base + offset for name, offset in PORTS.items()}}


class Supervisor:
    def __init__(self, cfg: Dict) -> None:
        self.cfg = cfg
        self.dir: Path = cfg["dir"]
        self.ports: Dict[str, int] = cfg["ports"]
        self.processes: Dict[str, subprocess.Popen] = {}
        self.restarts: Dict[str, int] = {}
        self.stopping = False
        self.ready = False

    def environment(self, token: str) -> Dict[str, str]:
        ports = self.ports
        database = f"postgresql+psycopg2://assistant@127.0.0.1:{ports['postgres']}"
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONPATH": str(ROOT),
            "ASSISTANT_DB_URL": f"{database}/assistant",
            "TRACKER_DB_URL": f"{database}/rasa",
            "SANDBOX_DB_URL": f"sqlite:///{self.dir / 'sandbox.db'}",
            "SANDBOX_URL": f"http://127.0.0.1:{ports['sandbox']}",
            "SANDBOX_PAYMENT_WEBHOOK_URL": f"http://127.0.0.1:{ports['balancer']}/webhooks/payment_webhook/webhook",
            "PAYMENTS_SUCCESS_URL": f"http://127.0.0.1:{ports['webchat']}/",
            "PAYMENTS_CANCEL_URL": f"http://127.0.0.1:{ports['webchat']}/",
            "RASA_URL": f"http://127.0.0.1:{ports['balancer']}",
            "RASA_AUTH_TOKEN": token,
            # A replica killed mid-turn leaves its ticket in Redis: the conversation waits this long, not Rasa's 60 s.
            "TICKET_LOCK_LIFETIME": os.environ.get("TICKET_LOCK_LIFETIME", "30"),
        }
        env.pop("VIRTUAL_ENV", None)  # bench/run.py starts us from another venv
        return env

    def start(self, name: str) -> None:
        with (self.dir / "logs" / f"{name}.log").open("a") as logfile:  # the child keeps its own copy
            self.processes[name] = subprocess.Popen(
                self.commands[name],
                cwd=ROOT,
                env=self.env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                **(postgres_user() if name == "postgres" else {}),
            )
        self.write_state()

    def wait_ready(self, names: List[str]) -> None:
        deadline = {
            name: time.monotonic() + STARTUP_SECONDS["rasa" if name.startswith("rasa") else "default"] for name in names
        }
        waiting = list(names)
        while waiting:
            for name in list(waiting):
                process = self.processes[name]
                if process.poll() is not None:
                    tail = (self.dir / "logs" / f"{name}.log").read_text()[-2000:]
                    raise RuntimeError(f"{name} exited with {process.returncode} while starting:\n{tail}")
                url = health_url(name, self.ports, self.token)
                ok = answers(url) if url else port_open(self.ports["balancer" if name == "nginx" else name])
                if ok:
                    log(f"{name} ready (pid {process.pid})")
                    waiting.remove(name)
                elif time.monotonic() > deadline[name]:
                    raise RuntimeError(f"{name} did not answer in time: see {self.dir / 'logs' / (name + '.log')}")
            if self.stopping:
                raise KeyboardInterrupt
            time.sleep(0.5)

    def state(self) -> Dict:
        url = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        return {
            "ready": self.ready,
            "supervisor": os.getpid(),
            "dir": str(self.dir),
            "balancer": url["balancer"],
            "rasa": [url["rasa-1"], url["rasa-2"]],
            "actions_balancer": url["actions"],
            "actions": [url["actions-1"], url["actions-2"]],
            "sandbox": url["sandbox"],
            "webchat": url["webchat"],
            "ports": self.ports,
            "postgres": {
                "port": self.ports["postgres"],
                "data": str(self.dir / "postgres"),
                "assistant_db": self.env["ASSISTANT_DB_URL"],
                "tracker_db": self.env["TRACKER_DB_URL"],
            },
            "redis": {"port": self.ports["redis"]},
            "sandbox_db": str(self.dir / "sandbox.db"),
            "token": self.token,
            "pids": {name: p.pid for name, p in self.processes.items() if p.poll() is None},
            "restarts": self.restarts,
        }

    def write_state(self) -> None:
        path = self.dir / "state.json"
        temporary = path.with_suffix(".tmp")
        temporary.touch(mode=0o600)
        temporary.write_text(json.dumps(self.state(), indent=1))
        temporary.replace(path)

    def run(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)  # the postgres user must reach its data directory
        (self.dir / "logs").mkdir(exist_ok=True)
        (self.dir / "nginx-temp").mkdir(exist_ok=True)
        if not MODEL.exists():
            raise SystemExit("no trained model: run `make train` first")
        ensure_packages()
        busy = [f"{name}:{port}" for name, port in self.ports.items() if port_open(port)]
        if busy:
            raise SystemExit(f"ports already in use: {busy} (another cluster? set CLUSTER_BASE_PORT)")
        prepare_postgres(self.dir)
        (self.dir / "nginx.conf").write_text(nginx_config(self.ports, self.dir))
        (self.dir / "endpoints.yml").write_text(endpoints(self.ports))
        self.token = rasa_token(self.dir)
        self.env = self.environment(self.token)
        self.commands = commands(self.cfg, self.token)
        (self.dir / "state.json").unlink(missing_ok=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.on_signal)
        try:
            for group in (["postgres", "redis", "sandbox", "nginx"], ["actions-1", "actions-2"], ["rasa-1", "rasa-2"]):
                for name in group:
                    self.start(name)
                    if name == "postgres":
                        self.wait_ready(["postgres"])
                        create_databases(self.ports["postgres"])
                self.wait_ready([n for n in group if n != "postgres"])
            for name in ("webchat", "tickets", "campaigns"):
                self.start(name)
            self.wait_ready(["webchat"])
            self.ready = True
            self.write_state()
            self.announce()
            self.watch()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def announce(self) -> None:
        p = self.ports
        log(
            f"""ready:
  REST channel and web chat socket.io (nginx): http://127.0.0.1:{p["balancer"]}  (POST /webhooks/rest/webhook)
  Rasa replicas: http://127.0.0.1:{p["rasa-1"]}  http://127.0.0.1:{p["rasa-2"]}  (API token: {self.dir / "secrets.env"})
  Action servers (nginx): http://127.0.0.1:{p["actions"]}  replicas {p["actions-1"]}, {p["actions-2"]}
  Web chat: http://127.0.0.1:{p["webchat"]}    Operator sandbox: http://127.0.0.1:{p["sandbox"]}
  PostgreSQL: 127.0.0.1:{p["postgres"]} (databases assistant, rasa)    Redis: 127.0.0.1:{p["redis"]}
  Logs: {self.dir / "logs"}    State: {self.dir / "state.json"}
Ctrl-C stops everything."""
        )

    def watch(self) -> None:
        """A child that dies is reported and started again (Rasa replicas keep serving meanwhile)."""
        while not self.stopping:
            for name, process in list(self.processes.items()):
                if process.poll() is not None and not self.stopping:
                    log(f"{name} (pid {process.pid}) exited with {process.returncode}: restarting it")
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    time.sleep(RESTART_DELAY_SECONDS)
                    if name == "postgres":
                        (self.dir / "postgres" / "postmaster.pid").unlink(missing_ok=True)
                    if not self.stopping:
                        self.start(name)
            time.sleep(0.5)

    def on_signal(self, *_) -> None:
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt

    def stop(self) -> None:
        self.stopping = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        log("stopping...")
        # the databases last, so the others close their connections cleanly
        databases = ("redis", "postgres")
        for group in ([n for n in self.processes if n not in databases], databases):
            running = [self.processes[n] for n in group if n in self.processes]
            for name in group:
                if name in self.processes and self.processes[name].poll() is None:
                    # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for every client to leave)
                    self.processes[name].send_signal(signal.SIGINT if name == "postgres" else signal.SIGTERM)
            for process in running:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        (self.dir / "state.json").unlink(missing_ok=True)
        log("stopped.")


def up(cfg: Dict) -> None:
    """`run` in the background, returning once it is ready (exit 1 if it stopped before)."""
    directory: Path = cfg["dir"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "state.json").unlink(missing_ok=True)
    supervisor = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "run"],
        stdout=(directory / "supervisor.log").open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in the caller's terminal is not for it; `down` stops it
    )
    (directory / "supervisor.pid").write_text(str(supervisor.pid))
    while supervisor.poll() is None:
        state = directory / "state.json"
        if state.exists() and json.loads(state.read_text()).get("ready"):
            log(f"up: {state}")
            return
        time.sleep(1)
    print((directory / "supervisor.log").read_text()[-4000:], file=sys.stderr)
    raise SystemExit(1)


def down(cfg: Dict) -> None:
    pid_file = cfg["dir"] / "supervisor.pid"
    if not pid_file.exists():
        log("not running")
        return
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink()
        return
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    pid_file.unlink(missing_ok=True)
    log("down")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "up", "down"))
    args = parser.parse_args()
    cfg = settings()
    if args.command == "run":
        Supervisor(cfg).run()
    elif args.command == "up":
        up(cfg)
    else:
        down(cfg)


if __name__ == "__main__":
    main()
