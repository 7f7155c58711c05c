"""The soak's processes and their environment (scripts/soak.py): its own database and Redis
database, gunicorn and qcluster each in its own process group, stopped by group id."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
LOGS = ROOT / "var" / "soak"
DATABASE_URL = os.environ.get(
    "SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/energydash_soak"
)
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/14")


def log(message: str) -> None:
    print(f"soak: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Environment and services ---------------------------------------------------------------------


def soak_environment(port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "energydash.settings",
        "DEBUG": "1",
        "DATABASE_URL": DATABASE_URL,
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": REDIS_URL,
        "ENERGYDASH_Q_NAME": f"energydash-soak-{os.getpid()}",
        "Q_WORKERS": "2",
        "ENERGYDASH_SANDBOX": "1",
        "ENERGYDASH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "ENERGYDASH_FIELD_KEYS": Fernet.generate_key().decode(),
        # An order the provider never received is failed after 3 lookups over this long.
        "ENERGYDASH_RECONCILE_NOT_FOUND_SECONDS": "10",
        # How long an uncertain order waits for its evidence before review, scaled to the
        # sandbox as the delivery deadline is (soak_chain.DEADLINE_SECONDS, 30 s, for 180 s in
        # production): every piece exists by about 70 s after sending (the charge window ends
        # the 2 s answer timeout + 60 s charge slack later, and a balance reading follows
        # within 3 s; the chain's deadline passes at 30 s), so 120 s leaves the same margin
        # production's 600 s does, and the soak does not sit out 10 minutes of waiting.
        "ENERGYDASH_RECONCILE_PATIENCE_SECONDS": os.environ.get("SOAK_PATIENCE_SECONDS", "120"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_BACKEND": "locmem",
        # The chain reader asks the sandbox's simulated chain (as `make run` does); chain
        # evidence in reconciliation is on unless SOAK_CHAIN_EVIDENCE=0 (the comparison run).
        "ENERGYDASH_TRON_API_URL": f"http://127.0.0.1:{port}/sandbox/chain",
        "ENERGYDASH_CHAIN_EVIDENCE": os.environ.get("SOAK_CHAIN_EVIDENCE", "1"),
    }


def recreate_database(url: str) -> None:
    """Drop and create the soak's own database (never the one DATABASE_URL names)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"soak: unusable database name {name!r} in SOAK_DATABASE_URL")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=10)
    client.flushdb()
    client.close()


@dataclass
class Services:
    """Child processes, each the leader of its own process group."""

    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        out = open(LOGS / f"{name}.log", "wb")  # noqa: SIM115  (lives as long as the process)
        self.procs[name] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {LOGS}/{name}.log")

    def stop(self) -> None:
        """SIGTERM every group, wait (bounded), then SIGKILL what is left: by group id only."""
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL follows
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGKILL)  # stragglers, and children of exited leaders
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"process group {proc.pid} did not exit after SIGKILL")


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(proc.pid, sig)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval=0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: still not true after {timeout:g} s")
        time.sleep(interval)
