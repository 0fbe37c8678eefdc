"""The sandbox as a real HTTP server on a free port, with a fresh database, reset before each test."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory):
    port = _free_port()
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    env = {**os.environ, "SANDBOX_DB_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    log = (db.parent / "sandbox.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError((db.parent / "sandbox.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_url):
    """The sandbox's base URL, with every fixture back to its seeded values."""
    requests.post(f"{sandbox_url}/_sandbox/reset", timeout=10).raise_for_status()
    return sandbox_url
