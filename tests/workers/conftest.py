"""Real Redis and real worker processes for the background-work tests (PostgreSQL only).

Each test gets a private redis-server on its own port, so stopping Redis never disturbs
anything else, and worker processes started as the production command is
(``flask --app wsgi grc worker notifications``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from flask import Flask

from grc import create_app
from grc.extensions import db
from tests.stubs.providers import (
    SENDGRID_API_KEY,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    ProviderStub,
)
from workers import queues

ROOT = Path(__file__).resolve().parents[2]
TWILIO_FROM = "+33700000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float = 20, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or condition}")


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(answers, 10, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


@dataclass
class Workers:
    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(
        self, queue: str = "notifications", *extra: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """A worker as production starts it (the exports' its own way: ``workers.exports``);
        ``env`` adds settings for this one."""
        log_path = self.log_dir / f"worker-{len(self.processes)}.log"
        command = (
            ["-m", "workers.exports"]
            if queue == queues.EXPORTS
            else ["-m", "flask", "--app", "wsgi", "grc", "worker", queue]
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, *command, *extra],
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def stub() -> Iterator[ProviderStub]:
    with ProviderStub() as running:
        yield running


@pytest.fixture
def queued_app(
    app: Flask, backend: str, redis_server: RedisServer, stub: ProviderStub, tmp_path: Path
) -> Iterator[Flask]:
    """The test database, Redis and the provider stub, as a production deployment has them."""
    if backend != "postgresql":
        pytest.skip("worker processes share the database: PostgreSQL only")
    settings = replace(
        app.extensions["grc_settings"],
        redis_url=redis_server.url,
        sendgrid_api_key=SENDGRID_API_KEY,
        sendgrid_api_host=stub.url,
        twilio_account_sid=TWILIO_ACCOUNT_SID,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        twilio_from_number=TWILIO_FROM,
        twilio_api_base_url=stub.url,
        delivery_lease_seconds=2,
        sweep_after_seconds=1,
        instance_path=str(tmp_path),
    )
    application = create_app(settings)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    queues.close_connections()


@pytest.fixture
def workers(
    queued_app: Flask, app_ctx: Flask, redis_server: RedisServer, stub: ProviderStub
) -> Iterator[Workers]:
    settings = queued_app.extensions["grc_settings"]
    database_url = app_ctx.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", "")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GRC_", "TWILIO", "SENDGRID"))},
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        # Production mode: the workers log as they would in a deployment.
        "GRC_ENV": "production",
        "SECRET_KEY": "k" * 48,
        "GRC_INSTANCE_PATH": settings.instance_path,
        "SENDGRID_API_KEY": SENDGRID_API_KEY,
        "SENDGRID_API_HOST": stub.url,
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_FROM,
        "TWILIO_API_BASE_URL": stub.url,
        "GRC_DELIVERY_LEASE_SECONDS": "2",
        "GRC_SWEEP_AFTER_SECONDS": "1",
        "GRC_EMAIL_FROM": settings.email_from,
    }
    running = Workers(env, Path(settings.instance_path))
    yield running
    running.stop_all()
