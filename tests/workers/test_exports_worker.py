"""The exports worker's own process (``python -m workers.exports``): it loads what an export
needs and nothing of the web, the API, the command line or the providers (what keeps a
million-row export within its memory: bench/exports.py), it knows every kind of export the
web application offers, and it is the only way the exports queue is worked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import cast

from grc import create_app
from workers.queues import EXPORTS

ROOT = Path(__file__).resolve().parents[2]

# What the worker must never load. Each is the web, the API, the migrations, another job or
# a provider's SDK: together some 40 MB a process.
NEVER_LOADED = (
    "flask_migrate",
    "alembic",
    "flask_smorest",
    "flask_login",
    "flask_limiter",
    "sendgrid",
    "twilio",
    "PIL",
    "argon2",
    "grc.web.application",
    "grc.web.pages",
    "grc.reports.views",
    "grc.claims.api",
    "workers.jobs",
    "workers.cli",
    "notifications",
)

# The worker's process as its entry point builds it, then what its job imports as it runs.
WORKER = """
import json, sys
from workers import exports, queues, worker
from grc import create_exports_app
app = create_exports_app()
from grc.exports import operations, registry
print(json.dumps({"modules": sorted(sys.modules), "exports": registry.names()}))
"""


def _worker_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'grc.db'}",
        "GRC_INSTANCE_PATH": str(tmp_path),
    }


def _worker_process(tmp_path: Path) -> dict[str, list[str]]:
    """The modules a worker's process holds once its job has run, and the exports it knows."""
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=_worker_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return cast("dict[str, list[str]]", json.loads(done.stdout.splitlines()[-1]))


def test_the_worker_loads_none_of_the_web_the_api_or_the_providers(tmp_path: Path) -> None:
    loaded = set(_worker_process(tmp_path)["modules"])
    assert {"grc.exports.claim_list", "grc.reports.exports", "workers.worker"} <= loaded
    never = [
        module
        for module in sorted(loaded)
        if any(module == name or module.startswith(f"{name}.") for name in NEVER_LOADED)
    ]
    assert never == []


def test_the_worker_knows_every_export_the_pages_offer(tmp_path: Path) -> None:
    from grc.exports import registry

    create_app({"database_url": f"sqlite:///{tmp_path / 'web.db'}"})
    offered = registry.names()
    assert {"claims", "sla"} <= set(offered)
    assert _worker_process(tmp_path)["exports"] == offered


def test_the_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.exports"],
        cwd=ROOT,
        env=_worker_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "REDIS_URL is not set" in done.stderr


def test_the_exports_queue_is_worked_only_by_its_own_worker(tmp_path: Path) -> None:
    app = create_app(
        {
            "database_url": f"sqlite:///{tmp_path / 'web.db'}",
            "redis_url": "redis://127.0.0.1:1/0",  # never reached: refused before
        }
    )
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["grc", "worker", EXPORTS])
    assert result.exit_code == 2
    assert "python -m workers.exports" in result.output
