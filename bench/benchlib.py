"""The harness every bench script shares: loopback checks, a fresh database with the demo
landlord, the environment of the production processes, gunicorn and RQ workers in process
groups of their own, timing percentiles, CPU accounting from /proc, the state of the code
and the machine measured, and the JSON written to bench/results/.

A script keeps only what it measures; how to start, seed and record is written here once."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {
        "n": len(ordered),
        "mean": statistics.fmean(ordered),
        "min": ordered[0],
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
    }


def require_loopback(url: str, what: str = "") -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise SystemExit(f"refusing a non-loopback {what + ' ' if what else ''}host: {host!r}")


def database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def create_database(admin_url: str, name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"database name must be a plain identifier, got {name!r}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    """Drop a bench database, best effort: the run's figures are written whatever happens."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(
    db_url: str,
    instance: Path,
    *,
    redis_url: str | None = None,
    secret_key: str | None = None,
    drop_prefixes: tuple[str, ...] = (),
    **settings: str,
) -> dict[str, str]:
    """The environment of the processes a bench starts: this one's, less the variables
    starting with ``drop_prefixes`` (a developer's own provider keys), with production
    settings on the bench's database and instance, and ``settings`` on top."""
    env = {
        k: v for k, v in os.environ.items() if not (drop_prefixes and k.startswith(drop_prefixes))
    }
    env.pop("REDIS_URL", None)
    env.update(
        {
            "DATABASE_URL": db_url,
            "GRC_ENV": "production",
            "SECRET_KEY": secret_key or secrets.token_urlsafe(48),
            "GRC_INSTANCE_PATH": str(instance),
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(settings)
    return env


def adopt_env(env: dict[str, str], drop_prefixes: tuple[str, ...] = ()) -> None:
    """Give this process the settings of the processes it started, for the app it builds
    itself (setup, diagnosis): ``create_app()`` then reads what the servers read."""
    for name in [k for k in os.environ if drop_prefixes and k.startswith(drop_prefixes)]:
        del os.environ[name]
    os.environ.update(env)


def seed_demo(
    env: dict[str, str], dwellings: int, claims: int, seed: int, *, show_stdout: bool = False
) -> tuple[float, float]:
    """Migrate the bench's database and load the demo landlord into it: the seconds each
    took. The demo's API tokens are in ``demo-tokens.json`` of the instance folder."""
    migrate_s = run_flask(env, "db", "upgrade", show_stdout=show_stdout)
    demo_s = run_flask(
        env,
        "grc",
        "demo",
        "--dwellings",
        str(dwellings),
        "--claims",
        str(claims),
        "--seed",
        str(seed),
        show_stdout=show_stdout,
    )
    return migrate_s, demo_s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_flask(env: dict[str, str], *args: str, show_stdout: bool = False) -> float:
    """``flask --app wsgi …``; its time in seconds. On failure only the end of stderr is
    shown unless ``show_stdout``: the demo prints its API tokens on stdout."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.stderr.write((done.stdout[-4000:] if show_stdout else "") + done.stderr[-4000:])
        raise SystemExit(f"flask {' '.join(args)} failed with exit code {done.returncode}")
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """user + system CPU time of one process (from /proc), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def backend_pids(admin_url: str, database: str) -> list[int]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [pid for (pid,) in rows]


def pids_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each of these processes still alive."""
    found = {}
    for pid in pids:
        value = cpu_seconds(pid)
        if value is not None:
            found[pid] = value
    return found


def backend_cpu(admin_url: str, database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to ``database``."""
    return pids_cpu(backend_pids(admin_url, database))


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two samples; processes born in between count from zero."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def group_cpu(pgid: int) -> dict[int, float]:
    """CPU seconds of every live process of a process group."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return found


# A process group already gone, or never ours to signal.
_GONE = (ProcessLookupError, PermissionError)


class Group:
    """A process started in a process group of its own; stopping it stops the whole group
    (SIGTERM, then SIGKILL)."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu(self) -> dict[int, float]:
        return group_cpu(self.pid)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 20) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(*_GONE):
                os.killpg(self.pid, signal.SIGTERM)  # gunicorn / RQ: graceful stop
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        with contextlib.suppress(*_GONE):  # what is left in the group (a dead master's workers)
            os.killpg(self.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)
        self._log.close()


def start_gunicorn(
    env: dict[str, str], workers: int, log_path: Path, *, threads: int = 1, target: str = "wsgi:app"
) -> tuple[Group, str]:
    """gunicorn on a free loopback port, in a process group of its own, once it answers:
    the group and its ``host:port``."""
    port = free_port()
    command = [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    group = Group([*command, target], env, log_path)
    deadline = time.monotonic() + 30
    while True:
        if group.process.poll() is not None:
            group.stop()
            raise SystemExit(f"gunicorn exited with {group.process.returncode}:\n{group.tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                return group, f"127.0.0.1:{port}"
            conn.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            group.stop()
            raise SystemExit(f"gunicorn did not answer within 30 s:\n{group.tail()}")
        time.sleep(0.2)


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], workers: int, log_path: Path, *, threads: int = 1, target: str = "wsgi:app"
) -> Iterator[tuple[Group, str]]:
    """``start_gunicorn`` for a ``with`` block: the server is stopped at its end, and on a
    SIGTERM or SIGINT to the bench too."""
    group, address = start_gunicorn(env, workers, log_path, threads=threads, target=target)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def on_signal(signum: int, frame: Any) -> None:
        group.stop()
        raise SystemExit(128 + signum)

    for s in previous:
        signal.signal(s, on_signal)
    try:
        yield group, address
    finally:
        group.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


def flask_worker_command(queue: str, *extra: str) -> list[str]:
    """``flask grc worker <queue>``: one RQ worker of the product."""
    return [str(VENV_BIN / "flask"), "--app", "wsgi", "grc", "worker", queue, *extra]


def flask_worker(env: dict[str, str], queue: str, log_path: Path, *extra: str) -> Group:
    """One ``flask grc worker <queue>`` process (RQ) in a process group of its own."""
    return Group(flask_worker_command(queue, *extra), env, log_path)


def wait_for_rq_workers(
    redis_conn: Any, workers: list[Group], expected: int, timeout: float = 60
) -> float:
    """Wait until ``expected`` RQ workers are registered (stop at once if one of ours
    exits): the seconds it took."""
    from rq import Worker as RqWorker

    started = time.perf_counter()
    while RqWorker.count(connection=redis_conn) < expected:
        for worker in workers:
            if worker.process.poll() is not None:
                raise SystemExit(
                    f"a worker exited with code {worker.process.returncode}:\n{worker.tail()}"
                )
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"{expected} RQ worker(s) did not register within {timeout:.0f} s")
        time.sleep(0.1)
    return time.perf_counter() - started


def queue_state(redis_conn: Any, name: str) -> dict[str, int]:
    """Jobs of one RQ queue: waiting, failed, running and waiting for a retry."""
    from rq import Queue
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    queue = Queue(name, connection=redis_conn)
    return {
        "queued": queue.count,
        "failed": FailedJobRegistry(queue=queue).count,
        "started": StartedJobRegistry(queue=queue).count,
        "scheduled_retries": ScheduledJobRegistry(queue=queue).count,
    }


def log_lines(paths: list[Path]) -> dict[str, int]:
    """Lines of these logs, and the jobs RQ ran (one 'Job OK' line per job)."""
    lines = jobs_ok = 0
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        lines += text.count("\n")
        jobs_ok += text.count("Job OK")
    return {"lines": lines, "rq_jobs_ok": jobs_ok}


def stop_on_sigterm(result: dict[str, Any]) -> None:
    """A SIGTERM ends the bench through its ``finally``: every process it started is
    stopped and the figures so far are written, with the reason."""

    def on_sigterm(signum: int, frame: Any) -> None:
        result["error"] = "terminated (SIGTERM)"
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_sigterm)


def machine(admin_url: str, redis_conn: Any = None) -> dict[str, Any]:
    """The machine measured: CPUs, memory, Python, PostgreSQL (and Redis) versions."""
    found: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
        found["memory_gib"] = round(mem_kib / 2**20, 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    if redis_conn is not None:
        found["redis"] = redis_conn.info("server").get("redis_version")
    return found


def utc_stamp() -> str:
    """The run's name in bench/results/: its start, UTC."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def write_result(bench: str, stamp: str, result: dict[str, Any], summary: list[str]) -> Path:
    """bench/results/<bench>-<stamp>.json, and the summary on the terminal."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{bench}-{stamp}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    for line in summary:
        log(line)
    log(f"results written to {out.relative_to(ROOT)}")
    return out


def code_state() -> dict[str, Any]:
    """The commit measured and the files changed since (read-only git commands)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    # --no-optional-locks: never take index.lock (others may use git in this tree meanwhile).
    return {
        "commit": git("rev-parse", "HEAD"),
        "changed_files": git("--no-optional-locks", "status", "--porcelain").splitlines()[:50],
    }


def empty_queues(redis_url: str) -> int:
    """Delete the jobs a run left in GRC's queues (no worker was there to take them); how
    many there were."""
    from workers import queues

    deleted = 0
    for name in queues.QUEUE_NAMES:
        queue = queues.queue(name, redis_url)
        deleted += queue.count
        queue.delete(delete_jobs=True)
    queues.close_connections()
    return deleted
