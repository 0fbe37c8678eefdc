"""The console as a real HTTP server (`python -m console serve`) over the recorded conversations of seed.py, its
clock started at the test's instant; three users, one per role."""

import os
import re
import subprocess
import sys
import time

import pytest
import requests

from common import config
from console import auth
from tests.clock import offset_for
from tests.conftest import ROOT, free_port
from tests.console.seed import seed

PASSWORD = "correct horse battery"
USERS = {"ada": "admin", "max": "campaign_manager", "vic": "viewer"}


@pytest.fixture
def console_env():
    """Settings of the console under test, beyond the ones every test needs."""
    return {"CONSOLE_SECURE_COOKIES": "false"}  # plain http for requests; the browser test keeps secure cookies


@pytest.fixture
def console(tmp_path, instant, monkeypatch, console_env):
    tracker = tmp_path / "rasa_tracker.db"
    monkeypatch.setattr(config, "TRACKER_DB_URL", f"sqlite:///{tracker}")
    seed(tracker)
    for name, role in USERS.items():
        auth.add_user(name, role, PASSWORD)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_DB_URL": config.ASSISTANT_DB_URL,
        "TRACKER_DB_URL": f"sqlite:///{tracker}",
        "KPI_TIME_ZONE": "UTC",
        "CLOCK_OFFSET_SECONDS": str(offset_for(instant)),
        "CONSOLE_SECRET": "test-console-secret",
        **console_env,
    }
    with (tmp_path / "console.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "console", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError((tmp_path / "console.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def signed_in(url: str, name: str) -> requests.Session:
    """A session of `name`, signed in through the login form."""
    browser = requests.Session()
    token = csrf_of(browser.get(f"{url}/login", timeout=10).text)
    answer = browser.post(f"{url}/login", data={"csrf": token, "name": name, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200 and answer.url == f"{url}/", answer.text[:300]
    return browser
