"""Batches survive a dead worker (issue 22): a lease with a heartbeat, takeover from the last
settled line, Start/Resume of a stalled batch, one stall alert, `place_batch --resume`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from energydash.batches import services
from energydash.batches.models import Batch, BatchLine
from energydash.core.models import AuditEvent
from energydash.orders.models import Order, Route
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box
from tests.conftest import TEST_FIELD_KEY
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SETTLED = (BatchLine.Status.PLACED, BatchLine.Status.FAILED, BatchLine.Status.REVIEW)


def make(count: int, tag: str, **kw) -> Batch:
    text = "\n".join(address(f"{tag}-{n}") for n in range(count))
    parsed, errors = services.parse(text, 65_000)
    assert not errors
    return services.create_batch(parsed, period="1H", via="console:batch", **kw)


def assert_each_line_settled_once(batch: Batch) -> None:
    lines = list(batch.lines.all())
    assert {line.status for line in lines} <= set(SETTLED), Counter(x.status for x in lines)
    sent = Counter(SandboxOrder.objects.values_list("receive_address", flat=True))
    assert all(n == 1 for n in sent.values()), sent  # never a line sent twice
    for line in lines:
        if line.status == BatchLine.Status.PLACED:
            assert sent[line.address] == 1
            assert line.order.receive_address == line.address
    # One order per line at most (a refused attempt's order excepted: it sent nothing).
    per_address = Counter(
        Order.objects.filter(receive_address__in=[x.address for x in lines])
        .exclude(submitted_at__isnull=True, status="failed")
        .values_list("receive_address", flat=True)
    )
    assert all(n == 1 for n in per_address.values()), per_address


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and kill -9")
def test_kill_9_mid_batch_then_every_line_settles_once(live_sandbox, settings, tmp_path):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the worker process needs a database file it can open")
    settings.ENERGYDASH_BATCH_LEASE_SECONDS = 3
    box("tronzap", "tz-slow", base=live_sandbox, price="50", latency_ms=150)
    box("itrx", "itrx-slow", base=live_sandbox, price="60", latency_ms=150)
    batch = make(24, "kill")
    services.start(batch)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "1",
        "ENERGYDASH_FIELD_KEYS": TEST_FIELD_KEY,
        "ENERGYDASH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "ENERGYDASH_BATCH_LEASE_SECONDS": "3",
        "ENERGYDASH_BATCH_CONCURRENCY": "2",
    }
    script = f"from energydash.batches import services; services.run_batch({batch.pk})"
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed by group id below
    )
    try:
        settled = batch.lines.filter(status__in=SETTLED)
        wait_until(
            lambda: settled.count() >= 6 or worker.poll() is not None,
            timeout=90,
            message="the worker settled no lines",
        )
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        log.close()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING
    assert batch.lines.filter(status=BatchLine.Status.PENDING).exists()
    assert not services.start(batch) or services.stalled(batch)  # not while the lease holds

    # The lease lapses (no heartbeat); the batch is then stalled and Start resumes it.
    wait_until(lambda: services.stalled(Batch.objects.get(pk=batch.pk)), timeout=30)
    batch.refresh_from_db()
    assert services.start(batch) is True
    batch = services.run_batch(batch.pk)  # the worker the queued task reaches
    assert batch.status == Batch.Status.FINISHED
    assert_each_line_settled_once(batch)
    assert batch.lines.filter(status=BatchLine.Status.PLACED).count() >= 20


def test_a_live_lease_keeps_a_second_worker_out_and_a_lapsed_one_lets_it_in(db, http, settings):
    box("tronzap", "tz-a", price="50")
    batch = make(3, "lease")
    services.start(batch)
    holder = services.Lease(batch.pk)
    assert holder.acquire()[0]
    assert services.run_batch(batch.pk, client=http).lines.filter(status="pending").count() == 3
    assert not services.Lease(batch.pk).acquire()[0]
    # The holder dies: its lease lapses and the next worker takes the batch over.
    Batch.objects.filter(pk=batch.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    batch = services.run_batch(batch.pk, client=http)
    assert batch.status == Batch.Status.FINISHED
    assert not holder.renew() and holder.lost.is_set()  # the old holder learns it lost it
    assert_each_line_settled_once(batch)


def test_a_line_a_dead_worker_left_half_routed_is_resumed_not_sent_twice(db, http, settings):
    """The dead worker had claimed line 2's route (for 5 minutes) and sent its order."""
    box("tronzap", "tz-a", price="50")
    batch = make(3, "half")
    services.start(batch)
    line = batch.lines.get(number=2)
    dead = services.Lease(batch.pk)
    dead.acquire()
    services.run_line(batch, line, client=http)  # sent, but the worker dies before settling
    assert SandboxOrder.objects.count() == 1
    BatchLine.objects.filter(pk=line.pk).update(status=BatchLine.Status.PENDING)
    Route.objects.filter(key=f"batch:{batch.code}:2").update(
        status=Route.Status.PENDING, claimed_until=timezone.now() + timedelta(minutes=5)
    )
    Batch.objects.filter(pk=batch.pk).update(lease_until=timezone.now() - timedelta(minutes=1))
    batch = services.run_batch(batch.pk, client=http)
    assert batch.status == Batch.Status.FINISHED
    assert batch.lines.get(number=2).status == BatchLine.Status.PLACED
    assert SandboxOrder.objects.count() == 3
    assert_each_line_settled_once(batch)


def test_a_stalled_batch_raises_one_alert_and_is_queued_again(db, settings, admin_user):
    from django_q.models import OrmQ

    settings.ENERGYDASH_BATCH_STALL_ALERT_MINUTES = 10
    admin_user.email = "ops@example.com"
    admin_user.save()
    batch = make(2, "stall")
    services.start(batch)
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.RUNNING, lease_owner="dead", lease_until=now - timedelta(minutes=5)
    )
    queued = OrmQ.objects.count()
    assert [b.pk for b in services.resume_stalled(now)] == [batch.pk]
    assert OrmQ.objects.count() == queued + 1  # queued again at once
    assert not AuditEvent.objects.filter(action="batch.stalled").exists()  # not yet 10 min
    later = now + timedelta(minutes=6)
    services.resume_stalled(later)
    services.resume_stalled(later + timedelta(minutes=1))
    assert AuditEvent.objects.filter(action="batch.stalled").count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com"]
    assert "2 of 2 lines still pending" in mail.outbox[0].body


def test_a_batch_with_a_live_worker_is_not_stalled_and_start_does_nothing(db):
    batch = make(1, "live")
    services.start(batch)
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.RUNNING,
        lease_owner="alive",
        lease_until=timezone.now() + timedelta(seconds=20),
    )
    batch.refresh_from_db()
    assert not services.stalled(batch)
    assert services.start(batch) is False
    assert services.resume_stalled() == []


def test_console_start_resumes_a_stalled_batch(
    operator_client, db, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    batch = make(2, "console")
    services.start(batch)
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.RUNNING,
        lease_owner="dead",
        lease_until=timezone.now() - timedelta(minutes=5),
    )
    queued = OrmQ.objects.count()
    page = operator_client.get(f"/batches/{batch.code}/")
    assert b"Resume" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        answer = operator_client.post(f"/batches/{batch.code}/start/")
    assert answer.status_code == 302
    assert OrmQ.objects.count() == queued + 1


def test_place_batch_resume_finishes_a_console_batch(db, http, settings, monkeypatch):
    box("tronzap", "tz-a", price="50")
    batch = make(4, "resume")
    services.start(batch)
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.RUNNING,
        lease_owner="dead",
        lease_until=timezone.now() - timedelta(minutes=5),
    )
    original = services.run_batch
    monkeypatch.setattr(services, "run_batch", lambda pk: original(pk, client=http))
    call_command("place_batch", "--resume", batch.short_code)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINISHED
    assert batch.lines.filter(status=BatchLine.Status.PLACED).count() == 4
    assert_each_line_settled_once(batch)


def test_the_api_resumes_a_stalled_batch_and_refuses_a_live_one(
    client, db, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    from tests.api.conftest import bearer, issue

    _token, raw = issue("ops", "operator")
    _viewer, read_only = issue("reader", "viewer")
    batch = make(2, "api")
    services.start(batch)
    url = f"/api/v1/batches/{batch.code}/resume"
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.RUNNING,
        lease_owner="w",
        lease_until=timezone.now() + timedelta(seconds=20),
    )
    live = client.post(url, **bearer(raw))
    assert live.status_code == 409 and live.json()["code"] == "batch_not_resumable"
    Batch.objects.filter(pk=batch.pk).update(lease_until=timezone.now() - timedelta(minutes=5))
    assert client.post(url, **bearer(read_only)).status_code == 403
    queued = OrmQ.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, **bearer(raw))
    assert answer.status_code == 202 and answer.json()["remaining"] == 2
    assert OrmQ.objects.count() == queued + 1
    missing = client.post(
        "/api/v1/batches/00000000-0000-0000-0000-000000000000/resume", **bearer(raw)
    )
    assert missing.status_code == 404
