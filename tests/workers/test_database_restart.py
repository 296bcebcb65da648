"""A PostgreSQL restart during a burst of claim creations: the requests it cannot serve get
a 503 with a JSON body, and every claim that got a 201 is in the database afterwards.

The test runs its own PostgreSQL cluster (initdb in a temporary directory, a free port), so
stopping it disturbs nothing else.
"""

from __future__ import annotations

import gc
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from grc import create_app
from grc.claims.models import Claim
from grc.config import Settings
from grc.extensions import db
from notifications.memory import MemorySender
from tests.factories import build_world, claim_payload
from tests.workers.conftest import free_port
from workers.senders import set_senders

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


@dataclass
class PrivatePostgres:
    bindir: str
    datadir: str
    port: int

    def _run(self, *args: str) -> None:
        command = [os.path.join(self.bindir, args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            self.datadir,
            "-w",
            "-l",
            f"{self.datadir}/log",
            "-o",
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.datadir, "-w", "-m", "fast", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries are not installed")
    datadir = tempfile.mkdtemp(prefix="grc-pg-")
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    server = PrivatePostgres(os.path.dirname(found[-1]), datadir, free_port())
    server._run("initdb", "-D", datadir, "-A", "trust", "-U", "postgres", "--no-sync")
    server.start()
    yield server
    try:
        server.stop()
    finally:
        shutil.rmtree(datadir, ignore_errors=True)
        for _ in range(3):
            gc.collect()
            time.sleep(0.1)


# Connections cut by the restart are dropped by the pool and closed by the garbage collector:
# collect them here, inside this test, where that is expected.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_burst_through_a_database_restart(private_postgres, tmp_path):
    app = create_app(
        Settings.from_env(
            {},
            environment="testing",
            instance_path=str(tmp_path),
            database_url=private_postgres.url,
        )
    )
    set_senders(app, MemorySender(), MemorySender())
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        world = build_world(db.session)
        db.session.commit()
        payload = claim_payload(world)
        headers = world.headers("agent")
        db.session.remove()

    results: list[tuple[int, dict]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst() -> None:
        client = app.test_client()
        while not stop.is_set():
            response = client.post("/api/v1/claims", json=payload, headers=headers)
            with lock:
                results.append((response.status_code, response.get_json(silent=True)))

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        private_postgres.stop()
        time.sleep(1.5)  # down: every request in this window must get a clean 503
        private_postgres.start()
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    assert statuses.count(503) > 0
    assert 201 in statuses[statuses.index(503) :], "no claim was created after the restart"
    for status, body in results:
        if status == 503:
            assert body["code"] == 503
            assert "nothing was saved" in body["message"]
    created = sorted(body["reference"] for status, body in results if status == 201)
    with app.app_context():
        stored = sorted(db.session.execute(sa.select(Claim.reference)).scalars())
        db.engine.dispose()
    assert set(created) <= set(stored)
    assert len(created) == len(set(created))
