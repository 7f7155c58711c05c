"""Batch lines run concurrently, bounded per account, and exactly once however workers race."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from energydash.batches import services
from energydash.batches.models import Batch, BatchLine
from energydash.orders import placement
from energydash.orders.models import Order, Status
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box
from tests.batches.test_dead_worker import SETTLED, assert_each_line_settled_once, make
from tests.waiting import wait_until


def test_lines_run_per_account_concurrency_at_once_and_never_more(
    live_sandbox, settings, monkeypatch
):
    """ENERGYDASH_BATCH_CONCURRENCY bounds the placing requests one account has in flight: three
    are sent at once, never a fourth, and further lines do their database work meanwhile instead
    of waiting for a request to come back."""
    settings.ENERGYDASH_BATCH_CONCURRENCY = 3
    box("tronzap", "tz-a", base=live_sandbox, price="50")
    batch = make(12, "conc")
    services.start(batch)
    lock = threading.Lock()
    sending: Counter[int] = Counter()
    most: Counter[int] = Counter()
    # The first three requests meet here: they can only all arrive if three are sent at once.
    together = threading.Barrier(3, timeout=60)
    arrived = [0]
    real = placement._send_request

    def watched(order, spec, adapter):
        account = spec.account.pk
        with lock:
            sending[account] += 1
            most[account] = max(most[account], sending[account])
            arrived[0] += 1
            meet, first = arrived[0] <= 3, arrived[0] == 1
        try:
            if meet:
                together.wait()
            if first:  # while this request is out, a fourth line does its database work
                wait_until(
                    lambda: Order.objects.filter(status=Status.DRAFT).count() >= 4,
                    message="a fourth line's draft while three requests are in flight",
                )
            return real(order, spec, adapter)
        finally:
            with lock:
                sending[account] -= 1

    monkeypatch.setattr(placement, "_send_request", watched)
    batch = services.run_batch(batch.pk)
    assert batch.status == Batch.Status.FINISHED
    assert list(most.values()) == [3]  # three at once, never a fourth
    assert batch.lines.filter(status=BatchLine.Status.PLACED).count() == 12
    assert_each_line_settled_once(batch)


def test_two_workers_racing_for_one_batch_send_each_line_once(live_sandbox, settings):
    """A worker frozen past its lease and the worker that took over run the same lines at once:
    the lease stops the first from starting new lines, the route and attempt keys do the rest."""
    settings.ENERGYDASH_BATCH_CONCURRENCY = 2
    settings.ENERGYDASH_BATCH_LEASE_SECONDS = 3
    box("tronzap", "tz-a", base=live_sandbox, price="50", latency_ms=100)
    box("itrx", "itrx-b", base=live_sandbox, price="60", latency_ms=100)
    batch = make(16, "race")
    services.start(batch)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            services.run_batch(batch.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=worker)
    first.start()
    settled = batch.lines.filter(status__in=SETTLED)
    wait_until(lambda: settled.count() >= 3, timeout=60)
    # The first worker is taken for dead while it is still sending lines.
    Batch.objects.filter(pk=batch.pk).update(lease_until=timezone.now() - timedelta(seconds=10))
    second = threading.Thread(target=worker)
    second.start()
    first.join(timeout=120)
    second.join(timeout=120)
    assert not first.is_alive() and not second.is_alive() and not errors, errors
    batch.refresh_from_db()
    if batch.lines.filter(status=BatchLine.Status.PENDING).exists():
        batch = services.run_batch(batch.pk)  # the watchdog's next slice
    assert not batch.lines.filter(status=BatchLine.Status.PENDING).exists()
    assert_each_line_settled_once(batch)
    assert SandboxOrder.objects.count() <= 16
    assert len({a for a in SandboxOrder.objects.values_list("receive_address", flat=True)}) == (
        SandboxOrder.objects.count()
    )
    assert {address(f"race-{n}") for n in range(16)} >= set(
        SandboxOrder.objects.values_list("receive_address", flat=True)
    )
