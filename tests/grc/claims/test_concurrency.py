"""Concurrent intake on PostgreSQL: every claim gets its own reference, none waits on another."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa

from grc.claims.models import Claim
from grc.extensions import db
from tests.factories import claim_payload


def test_fifty_concurrent_creations_get_fifty_references(app_ctx, world, backend, sent):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; concurrency is a PostgreSQL matter")
    payload = claim_payload(world)
    headers = world.headers("agent")
    barrier = threading.Barrier(50)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def post() -> None:
        client = app_ctx.test_client()  # each request gets its own application context
        barrier.wait()
        response = client.post("/api/v1/claims", json=payload, headers=headers)
        with lock:
            results.append((response.status_code, response.json))

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _ in results] == [201] * 50, results
    references = [body["reference"] for _, body in results]
    assert len(set(references)) == 50
    assert all(re.fullmatch(r"R-\d{4}-\d{6}", ref) for ref in references)
    stored = db.session.execute(sa.select(Claim.reference)).scalars().all()
    assert sorted(stored) == sorted(references)
    # Each acknowledgement was delivered once, in-process after its request.
    assert len(sent.sms) == 50
    assert len({m.message_key for m in sent.sms}) == 50
