"""/livez and /readyz: answered first (no host check, no session, no login), /readyz 503 naming
the failing check: a stopped worker, a missing migration, a broken cache, no database."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_q.models import Task

from energydash.core import ops


def _worker_ran(minutes_ago: float) -> None:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    Task.objects.create(
        id=f"t{minutes_ago}".ljust(32, "0")[:32],
        name=f"poll {minutes_ago}",
        func="energydash.orders.tasks.poll_orders",
        started=when,
        stopped=when,
        success=True,
    )


def test_livez_answers_without_the_database_host_check_or_a_session(client, monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("livez touched the database")

    monkeypatch.setattr(connection, "cursor", no_database)
    response = client.get("/livez", HTTP_HOST="10.1.2.3:8000")  # not in ALLOWED_HOSTS
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies


def test_readyz_is_ok_with_database_migrations_cache_and_a_recent_worker(client, db):
    _worker_ran(1)
    response = client.get("/readyz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "ok",
        "cache": "ok",
        "worker": "ok",
    }


def test_readyz_fails_when_no_worker_ever_ran(client, db):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["worker"] == "no worker has run a task"
    assert body["database"] == "ok" and body["migrations"] == "ok"


def test_readyz_fails_on_a_stopped_worker(client, db, settings):
    settings.ENERGYDASH_HEALTH_WORKER_STALE_MINUTES = 10
    _worker_ran(25)  # the worker's last task, 25 minutes ago: it has stopped since
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["worker"].startswith("no worker seen since ")


def test_readyz_fails_on_a_missing_migration(client, db):
    _worker_ran(1)
    MigrationRecorder.Migration.objects.filter(app="api").order_by("-id").first().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["migrations"].startswith("1 migration(s) not applied: api.")
    assert body["worker"] == "ok"


def test_readyz_fails_on_a_broken_cache(client, db, monkeypatch):
    _worker_ran(1)
    monkeypatch.setattr(ops.cache, "get", lambda key: None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["cache"] == "the cache did not return what was just written"


def test_readyz_without_a_database_says_so_and_does_not_raise(client, db, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("connection refused to 10.0.0.5:5432 password=hunter2")

    monkeypatch.setattr(ops, "check_database", down)
    monkeypatch.setitem(ops.CHECKS, "database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "error: ConnectionError"  # never the detail
    assert body["worker"] == "not checked: no database"
    assert "hunter2" not in json.dumps(body)


def test_probes_come_before_every_other_middleware(settings):
    assert settings.MIDDLEWARE[0] == "energydash.core.ops.OpsEndpointsMiddleware"
