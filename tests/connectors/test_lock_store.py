"""connectors/lock_store.py against a real redis-server on loopback: two Rasa replicas (two stores, one Redis) never
get the same ticket nor serve one conversation at the same time, and a Redis restart does not stop the service.

Needs Debian's redis-server (`make test-cluster` installs it); without it these tests are skipped, and fail under
--cluster."""

import asyncio
import shutil
import subprocess
import threading
import time

import pytest
import time_machine

from connectors.lock_store import AtomicRedisLockStore
from tests.clock import DEFAULT_INSTANT
from tests.conftest import free_port

REDIS = shutil.which("redis-server")


@pytest.fixture(autouse=True)
def clock():
    """Tickets expire by the clock: here it ticks (from the tests' usual instant), as it does for Rasa."""
    with time_machine.travel(DEFAULT_INSTANT, tick=True) as traveller:
        yield traveller


def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


@pytest.fixture
def redis_port(request):
    if REDIS is None:
        message = "redis-server is not installed (apt-get install redis-server): the Redis lock store is not tested"
        if request.config.getoption("--cluster"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = start_redis(port)
    holder = {"process": process, "port": port}
    yield holder
    holder["process"].terminate()
    holder["process"].wait(timeout=10)


def replicas(port: int, count: int = 2):
    return [AtomicRedisLockStore(host="127.0.0.1", port=port, key_prefix="test") for _ in range(count)]


def test_two_replicas_issuing_tickets_at_once_never_get_the_same_number(redis_port):
    stores = replicas(redis_port["port"])
    issued, barrier = [], threading.Barrier(8)

    def take(store):
        barrier.wait()
        for _ in range(25):
            issued.append(store.issue_ticket("rest:same-customer", lock_lifetime=600))

    threads = [threading.Thread(target=take, args=(stores[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(issued) == list(range(200))
    assert len(stores[0].get_lock("rest:same-customer").tickets) == 200


async def test_two_replicas_serve_one_conversation_one_turn_at_a_time(redis_port):
    stores = replicas(redis_port["port"])
    inside, overlaps, served = [], [], []

    async def turn(store, n):
        async with store.lock("rest:same-customer", lock_lifetime=30, wait_time_in_seconds=0.01):
            if inside:
                overlaps.append(n)
            inside.append(n)
            await asyncio.sleep(0.01)
            inside.remove(n)
            served.append(n)

    await asyncio.gather(*(turn(stores[n % 2], n) for n in range(20)))
    assert overlaps == [] and sorted(served) == list(range(20))
    assert stores[0].red.exists(stores[0].key("rest:same-customer")) == 0  # nobody waits: the lock is gone


def test_a_lock_expires_in_redis_after_its_last_ticket(redis_port):
    store = replicas(redis_port["port"], 1)[0]
    store.issue_ticket("rest:left-behind", lock_lifetime=5)
    assert 0 < store.red.ttl(store.key("rest:left-behind")) <= 5 + 60


def test_tickets_are_issued_again_once_redis_is_back(redis_port):
    store = replicas(redis_port["port"], 1)[0]
    assert store.issue_ticket("rest:a", lock_lifetime=30) == 0
    redis_port["process"].kill()
    redis_port["process"].wait()
    restarted = {}

    def restart():
        restarted["process"] = start_redis(redis_port["port"])

    thread = threading.Timer(0.5, restart)  # back within the store's retries
    thread.start()
    ticket = store.issue_ticket("rest:b", lock_lifetime=30)
    thread.join()
    redis_port["process"] = restarted["process"]
    assert ticket == 0


async def test_a_replica_dying_with_the_lock_delays_the_next_turn_but_does_not_fail_it(redis_port):
    dead, alive = replicas(redis_port["port"])
    dead.issue_ticket("rest:abandoned", lock_lifetime=1)  # taken by a replica killed mid-turn, never released
    async with alive.lock("rest:abandoned", lock_lifetime=1, wait_time_in_seconds=0.1) as lock:
        assert len(lock.tickets) == 1  # ours alone: the dead one's expired
