"""Rasa's per-conversation lock in Redis, with every change of a lock atomic (several Rasa replicas).

endpoints.yml:  lock_store: {type: connectors.lock_store.AtomicRedisLockStore, url: host, port, db, key_prefix, ...}

Rasa 3.6's RedisLockStore reads a conversation's lock (a JSON list of tickets), changes it in Python and writes it
back: two replicas taking a ticket for the same sender at once both read the same list, both append ticket N, and
the second write hides the first; both then hold "ticket N" and serve the sender at the same time, interleaving the
tracker's events (RasaHQ/rasa#9213; the fix was reverted in the open-source edition). Here each change is a Redis
optimistic transaction (WATCH the key, compute, MULTI/EXEC, retried when another replica changed the key in
between), so two replicas always get two different tickets and serve them in order.

The stored format is Rasa's own (TicketLock.dumps), so replicas with Rasa's store could still read it; a key also
expires a minute after its newest ticket would, so a replica killed mid-turn leaves nothing behind for long. Redis going away
for a moment (a restart) is retried for a few seconds before the turn fails.
"""

import json
import math
from typing import Callable, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

KEY_GRACE_SECONDS = 60  # how long a lock outlives its last ticket's expiry


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs) -> None:
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError, TimeoutError
        from redis.retry import Retry

        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        # Rasa's client with retries: about 5 s of backoff covers a Redis restart.
        self.retry = Retry(ExponentialBackoff(cap=1.0, base=0.1), 8, supported_errors=(ConnectionError, TimeoutError))
        pool = self.red.connection_pool
        pool.connection_kwargs.update(
            retry=self.retry, retry_on_error=[ConnectionError, TimeoutError], health_check_interval=30
        )
        pool.reset()

    def key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def change(self, conversation_id: Text, edit: Callable[[TicketLock], object], lifetime: float = 0):
        """Applies `edit` to the stored lock (a new one if none) atomically; returns what `edit` returns. A new
        ticket (`lifetime`) makes the key outlive it by KEY_GRACE_SECONDS; other changes keep the key's expiry."""
        key = self.key(conversation_id)
        outcome = {}

        def transaction(pipe) -> None:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else self.create_lock(conversation_id)
            outcome["value"] = edit(lock)
            pipe.multi()
            if not lock.is_someone_waiting():
                pipe.delete(key)
            elif lifetime:
                # each waiting ticket may run a whole lifetime after the one before it (issue_ticket)
                pipe.set(key, lock.dumps(), ex=math.ceil(lifetime) * len(lock.tickets) + KEY_GRACE_SECONDS)
            else:
                pipe.set(key, lock.dumps(), keepttl=True)

        # redis-py retries a transaction's reads only on time-outs: a refused connection is retried here
        self.retry.call_with_retry(lambda: self.red.transaction(transaction, key), lambda _error: None)
        return outcome.get("value")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock) -> int:
            number = lock.issue_ticket(lock_lifetime)
            if len(lock.tickets) > 1:
                # A waiting ticket keeps its whole lifetime for its turn: counted from the moment the ticket before
                # it will have expired at the latest. Rasa counts it from now, so when a replica dies holding the
                # lock, the ticket waiting behind it expires with it and the turn fails (LockError) instead of
                # running once the dead one's time is up.
                previous, mine = lock.tickets[-2], lock.tickets[-1]
                mine.expires = max(mine.expires, previous.expires + lock_lifetime)
            return number

        try:
            return self.change(conversation_id, issue, lock_lifetime)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}")

    def update_lock(self, conversation_id: Text) -> None:
        """Expired tickets removed (TicketLock drops them whenever it is read)."""
        self.change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self.change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Our ticket removed, and the lock with it when nobody waits: one transaction (Rasa's does it in two, and
        can delete a ticket another replica has just issued)."""
        self.finish_serving(conversation_id, ticket_number)

    def save_lock(self, lock: TicketLock) -> None:
        # Only Rasa's own read-modify-write paths call this; ours go through `change`.
        raise NotImplementedError("AtomicRedisLockStore changes locks only in transactions")
