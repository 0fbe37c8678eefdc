"""The data stores as deployed, on real PostgreSQL and Redis processes (loopback, throwaway): the Redis command
and probe of deploy/k8s/base/redis.yaml, PostgreSQL set up as the postgres image and deploy/compose/postgres-init.sql
do, and Rasa's stores built from deploy/endpoints.yml (its hosts moved to 127.0.0.1)."""

import asyncio
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
import redis
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from tests.conftest import free_port
from tests.deploy.files import DEPLOY, containers

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
CARD = "4111 1111 1111 1111"


def store_config(section: str, port: int, **env: str):
    os.environ.update(env)
    try:
        config = read_endpoint_config(str(DEPLOY / "endpoints.yml"), section)
    finally:
        for key in env:
            os.environ.pop(key, None)
    config.url = "127.0.0.1"  # `postgres` and `redis` are Service names in the cluster
    config.kwargs["port"] = port
    return config


def wait_for(check, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.skipif(
    not shutil.which("redis-server"), reason="redis-server is not installed (apt-get install redis-server)"
)
def test_redis_as_deployed_wants_its_password_and_holds_rasas_locks(tmp_path):
    redis_container = next(c for name, c in containers() if name == "redis")
    port = free_port()
    script = redis_container["command"][2].replace(
        "redis-server -", f"redis-server - --port {port} --bind 127.0.0.1 --dir {tmp_path}"
    )
    env = {"PATH": os.environ["PATH"], "REDIS_PASSWORD": "lock-store-pw"}
    # its own process group: the script is a pipeline, and redis-server is not the shell's own process
    process = subprocess.Popen(
        ["sh", "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        with pytest.raises(redis.exceptions.AuthenticationError):
            wait_for(lambda: redis.Redis(port=port, socket_timeout=1).ping())
        probe = [
            part.replace("redis-cli", f"redis-cli -p {port}")
            for part in redis_container["readinessProbe"]["exec"]["command"]
        ]
        assert subprocess.run(probe, env=env).returncode == 0
        store = LockStore.create(store_config("lock_store", port, DB_PASSWORD="unused", REDIS_PASSWORD="lock-store-pw"))
        assert isinstance(store, RedisLockStore)
        client = redis.Redis(port=port, db=1, password="lock-store-pw")

        async def hold():
            async with store.lock("web:abc", wait_time_in_seconds=0.05):
                return client.keys("*")

        held = asyncio.run(hold())
        assert held and all(key.startswith(b"assistant") for key in held)  # the key_prefix keeps its keys apart
        assert client.keys("*") == []  # released
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL set up as the postgres image does (superuser `assistant`, database `assistant`) plus
    deploy/compose/postgres-init.sql; yields its port."""
    if not PG_BIN:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="deploy-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres")
    (folder / "pw").write_text("db-pw\n")
    port = free_port()
    data = folder / "data"
    subprocess.run(
        [
            *as_postgres,
            f"{PG_BIN[-1]}/initdb",
            "-D",
            str(data),
            "-U",
            "assistant",
            f"--pwfile={folder / 'pw'}",
            "-A",
            "scram-sha-256",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *as_postgres,
            f"{PG_BIN[-1]}/pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        connection = psycopg2.connect(
            host="127.0.0.1", port=port, user="assistant", password="db-pw", dbname="postgres"
        )
        connection.autocommit = True
        connection.cursor().execute("CREATE DATABASE assistant")
        connection.close()
        connection = psycopg2.connect(
            host="127.0.0.1", port=port, user="assistant", password="db-pw", dbname="assistant"
        )
        connection.autocommit = True
        connection.cursor().execute((DEPLOY / "compose" / "postgres-init.sql").read_text())
        connection.close()
        yield port
    finally:
        subprocess.run(
            [*as_postgres, f"{PG_BIN[-1]}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_the_tracker_store_as_deployed_writes_to_postgres_redacted(postgres):
    config = store_config("tracker_store", postgres, DB_PASSWORD="db-pw", REDIS_PASSWORD="unused")
    store = TrackerStore.create(config, domain=Domain.empty())
    tracker = DialogueStateTracker.from_events("web:abc", [UserUttered(f"pay with {CARD}")])
    asyncio.run(store.save(tracker))
    connection = psycopg2.connect(host="127.0.0.1", port=postgres, user="assistant", password="db-pw", dbname="rasa")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT data FROM events WHERE sender_id = 'web:abc'")
        stored = " ".join(row[0] for row in cursor.fetchall())
    connection.close()
    assert "pay with" in stored and CARD not in stored


def test_the_tracker_store_as_deployed_reads_from_postgres_what_rasa_reads(postgres):
    """Two sessions stored in PostgreSQL: the current one, or all of them, read as Rasa's own query reads them."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    config = store_config("tracker_store", postgres, DB_PASSWORD="db-pw", REDIS_PASSWORD="unused")
    store = TrackerStore.create(config, domain=Domain.empty())
    events = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=1)]
    events += [UserUttered("hola", timestamp=2), ActionExecuted("action_session_start", timestamp=10)]
    events += [SessionStarted(timestamp=10), UserUttered("saldo", timestamp=11)]
    asyncio.run(store.save(DialogueStateTracker.from_events("web:two-sessions", events)))
    for every_session in (False, True):
        ours = asyncio.run(store._retrieve("web:two-sessions", every_session))
        rasas = asyncio.run(SQLTrackerStore._retrieve(store, "web:two-sessions", every_session))
        assert ours.events == rasas.events and len(ours.events) == (6 if every_session else 3)
    assert asyncio.run(store.retrieve("web:nobody")) is None
