"""Queue names and connections. Each worker process listens to exactly one queue."""

from __future__ import annotations

from redis import Redis
from rq import Queue

DEFAULT = "default"  # periodic jobs: outbox sweeper, SLA watch
NOTIFICATIONS = "notifications"  # delivery jobs, each taking every due outbox message
INBOUND = "inbound"  # parsing of inbound e-mail
EXPORTS = "exports"  # exports too large to stream (minutes each: kept off the periodic jobs)
QUEUE_NAMES = (DEFAULT, NOTIFICATIONS, INBOUND, EXPORTS)

# A delivery job stops taking batches after 30 s, but one batch against a slow provider
# (SDK timeouts of 10 s per call, waves of GRC_DELIVERY_THREADS calls) may take longer.
DELIVERY_TIMEOUT = 600
# A processing job stops claiming e-mails after 30 s; each takes milliseconds, so another
# minute and a half means one is stuck (its lease then runs out and it is tried again).
INBOUND_TIMEOUT = 120
PERIODIC_TIMEOUT = 300
# A million claims take a few minutes (bench/exports.py); a job past an hour is stuck.
EXPORT_TIMEOUT = 3600


_connections: dict[str, Redis] = {}


def connection(redis_url: str) -> Redis:
    """One client (and connection pool) per Redis URL and process."""
    client = _connections.get(redis_url)
    if client is None:
        # Short timeouts: a request must not hang on a lost Redis; the sweeper covers for it.
        client = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        _connections[redis_url] = client
    return client


def close_connections() -> None:
    while _connections:
        _, client = _connections.popitem()
        client.close()


def queue(name: str, redis_url: str) -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection(redis_url))
