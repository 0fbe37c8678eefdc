"""The single-process profile on free ports, as tests/e2e/conftest.py's `assistant` fixture starts it: the operator
sandbox, one action server, one Rasa (REST channel, SQL tracker store in a temporary folder).

Standard library only, so both the project's venv (bench/turns.py) and the load tester's (bench/run.py) can use it.
`python bench/stack.py` starts it and prints its URLs until Ctrl-C.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, Optional

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
PROJECT_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: int = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        if _up(url):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} not up after {seconds} s:\n{log.read_text()[-3000:]}")


def load_env() -> Dict[str, str]:
    """Settings of the load test: many simulated customers identify the same fixture lines within minutes, as the
    end-to-end tests do (tests/e2e/conftest.py), so the resend throttle is lifted; the 3-wrong-codes lock stays."""
    return {"OTP_RESEND_SECONDS": "0", "OTP_MAX_SENDS_PER_HOUR": "100000"}


class Stack:
    """sandbox + action server + Rasa; `urls` once started; `pids` for memory readings."""

    def __init__(self, work: Optional[Path] = None, extra_env: Optional[Dict[str, str]] = None):
        self.work = Path(work or tempfile.mkdtemp(prefix="bench-stack-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.extra_env = extra_env or {}
        self.processes: Dict[str, subprocess.Popen] = {}
        self.ports = {name: free_port() for name in ("sandbox", "actions", "rasa")}
        self.token = secrets.token_urlsafe(32)

    @property
    def urls(self) -> Dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    @property
    def pids(self) -> Dict[str, int]:
        return {name: p.pid for name, p in self.processes.items()}

    def start(self) -> "Stack":
        if not MODEL.exists():
            raise SystemExit("no trained model: run `make train` first")
        endpoints = self.work / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.ports["actions"]}/webhook"\n'
            f"tracker_store:\n  type: privacy.tracker_store.RedactingSQLTrackerStore\n  dialect: sqlite\n"
            f"  db: {self.work / 'tracker.db'}\n"
        )
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "ASSISTANT_DB_URL": f"sqlite:///{self.work / 'assistant.db'}",
            "SANDBOX_DB_URL": f"sqlite:///{self.work / 'sandbox.db'}",
            "SANDBOX_URL": self.urls["sandbox"],
            "PYTHONPATH": str(ROOT),
            **load_env(),
            **self.extra_env,
        }
        for name in ("VIRTUAL_ENV", "PYTHONHOME"):  # bench/run.py runs from another venv
            env.pop(name, None)
        commands = {
            "sandbox": [str(PROJECT_BIN / "python"), "-m", "sandbox", "--port", str(self.ports["sandbox"])],
            "actions": [str(PROJECT_BIN / "rasa"), "run", "actions", "--port", str(self.ports["actions"])],
            "rasa": [
                str(PROJECT_BIN / "rasa"),
                "run",
                "--model",
                str(MODEL),
                "--port",
                str(self.ports["rasa"]),
                "--enable-api",
                f"--auth-token={self.token}",  # one argument: a token may start with "-"
                "--credentials",
                str(ROOT / "credentials.yml"),
                "--endpoints",
                str(endpoints),
            ],
        }
        health = {"sandbox": "/health", "actions": "/health", "rasa": "/"}
        try:
            for name, command in commands.items():
                log = (self.work / f"{name}.log").open("w")
                self.processes[name] = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            for name, process in self.processes.items():
                wait_until_up(self.urls[name] + health[name], process, self.work / f"{name}.log")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_on_term(*_) -> None:
    raise KeyboardInterrupt  # so `with Stack()` stops its processes when this one is terminated


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_term)
    with Stack() as stack:
        print(json.dumps({"urls": stack.urls, "pids": stack.pids, "work": str(stack.work)}), flush=True)
        try:
            while all(p.poll() is None for p in stack.processes.values()):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    sys.exit(0)
