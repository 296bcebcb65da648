"""Failed sign-ins are counted in Redis, so every gunicorn worker sees the same counters:
two separate processes (two workers) share one account's limit."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REDIS = ("127.0.0.1", 6379)
ROOT = Path(__file__).resolve().parents[3]

# One "worker": the app on the shared database and Redis; it tries to sign in `attempts`
# times with a wrong password, then once with the right one, and prints the statuses.
WORKER = textwrap.dedent(
    """
    import json, re, sys
    from grc import create_app
    app = create_app()
    client = app.test_client()
    attempts, email, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    def post(secret):
        form = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        data = {"email": email, "password": secret, "csrf_token": token}
        return client.post("/sign-in", data=data).status_code
    statuses = [post("wrong guess") for _ in range(attempts)] + [post(password)]
    print(json.dumps(statuses))
    """
)


def _redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_two_workers_share_one_accounts_failed_sign_ins(tmp_path):
    import redis

    env = {
        **os.environ,
        "GRC_ENV": "development",
        "GRC_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'grc.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
    }
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*flask, "grc", "users", "create", "--email", "a@b.test", "--name", "A", "--role", "agent"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    set_password = (
        "from grc import create_app; from grc.extensions import db; "
        "from grc.people.models import User; from grc.accounts.passwords import hash_password; "
        "app = create_app(); ctx = app.app_context(); ctx.push(); "
        "u = db.session.query(User).one(); u.password_hash = hash_password('right password!'); "
        "db.session.commit()"
    )
    subprocess.run([sys.executable, "-c", set_password], cwd=ROOT, env=env, check=True)

    def worker(attempts: int) -> list[int]:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(attempts), "a@b.test", "right password!"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    try:
        # The first worker sees three failures and lets the right password through.
        assert worker(3) == [401, 401, 401, 302]
        # The second worker counts on: two more failures reach the limit of five.
        assert worker(2) == [401, 401, 429]
    finally:
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
