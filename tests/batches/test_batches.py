"""Bulk orders: parsing, planning, running with faults, re-runs, cancel, console, command."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from energydash.batches import services
from energydash.batches.models import Batch, BatchLine
from energydash.orders.models import FINAL, Order, Status
from energydash.orders.polling import poll_pass
from energydash.sandbox import faults
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box

A, B, C = address("b-1"), address("b-2"), address("b-3")


def test_parse_reports_every_bad_line_and_skips_a_header():
    text = f"address,energy\n{A}\n{B},131000\n\nTnotanaddress\n{C},abc\n{A},65000\n{C},1,2\n"
    lines, errors = services.parse(text, 65_000)
    assert [(x.number, x.address, x.energy) for x in lines] == [(2, A, 65_000), (3, B, 131_000)]
    assert [(e.number, e.error.split(":")[0]) for e in errors] == [
        (5, "Not a valid TRON address"),
        (6, "Energy must be a whole number from 1 to 100,000,000."),
        (7, "Same address as line 2."),
        (8, "Expected 'address' or 'address,energy'."),
    ]


def make(lines, **kw) -> Batch:
    parsed, errors = services.parse("\n".join(lines), 65_000)
    assert not errors
    return services.create_batch(parsed, period="1H", via="console:batch", **kw)


def test_the_plan_routes_each_line_and_totals_it(db, http):
    cheap = box("tronzap", "tz-cheap", price="50")
    box("itrx", "itrx-dear", price="70")
    batch = services.plan(make([A, f"{B},131000"]), client=http)
    lines = list(batch.lines.all())
    assert {line.plan_account for line in lines} == {cheap.account}
    assert lines[1].plan_price_sun > lines[0].plan_price_sun
    assert batch.planned_total_sun == sum(line.plan_price_sun for line in lines)
    assert not SandboxOrder.objects.exists()  # planning sends nothing


def test_fifty_lines_with_injected_faults_all_settle_without_duplicates(
    db, http, settings, monkeypatch
):
    settings.ENERGYDASH_RECONCILE_NOT_FOUND_SECONDS = 0
    # Read retries back off with real sleeps; the faults are what is under test, not the waits.
    monkeypatch.setattr("energydash.providers.base.Adapter._backoff", lambda *a: None)
    faults.set_random_source(random.Random(20261121).random)
    box("itrx", "itrx-a", price="60", error_rate=0.25)
    box("tronzap", "tz-b", price="55", error_rate=0.2)
    box("netts", "netts-c", price="58", orders_unavailable=False, error_rate=0.15)
    addresses = [address(f"sweep-{n}") for n in range(50)]
    batch = make(addresses)
    services.start(batch)
    batch = services.run_batch(batch.pk, client=http)
    assert batch.status == Batch.Status.FINISHED
    figures = services.progress(batch)
    assert figures["remaining"] == 0 and figures["handled"] == 50
    assert figures["placed"] > 0  # faults are a share, not everything

    # Reconcile what the faults left in doubt, as the worker's schedule would.
    now = timezone.now()
    for step in range(1, 5):
        poll_pass(now=now + timedelta(minutes=10 * step), client=http)
    lines = list(batch.lines.select_related("order"))
    for line in lines:
        assert line.status in (
            BatchLine.Status.PLACED,
            BatchLine.Status.FAILED,
            BatchLine.Status.REVIEW,
        )
        if line.order is not None:
            line.order.refresh_from_db()
            assert line.order.status in FINAL or line.order.status == Status.NEEDS_REVIEW, line
    per_address = Counter(SandboxOrder.objects.values_list("receive_address", flat=True))
    assert per_address and max(per_address.values()) == 1  # no address bought twice
    accepted = Order.objects.exclude(submitted_at=None).values_list("receive_address", flat=True)
    assert max(Counter(accepted).values()) == 1

    # Running it again sends nothing more.
    sent = SandboxOrder.objects.count()
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.QUEUED)
    services.run_batch(batch.pk, client=http)
    assert SandboxOrder.objects.count() == sent


def test_a_cancelled_batch_stops_and_resumes_only_the_rest(db, http):
    box("itrx", "itrx-a")
    batch = make([A, B, C])
    services.start(batch)
    services.run_line(batch, batch.lines.get(number=1), client=http)
    BatchLine.objects.filter(batch=batch, number=1).update(status=BatchLine.Status.PLACED)
    assert services.cancel(batch)
    batch = services.run_batch(batch.pk, client=http)
    assert batch.status == Batch.Status.CANCELLED
    assert services.progress(batch)["cancelled"] == 2 and SandboxOrder.objects.count() == 1
    assert services.start(batch)
    batch = services.run_batch(batch.pk, client=http)
    assert batch.status == Batch.Status.FINISHED and services.progress(batch)["placed"] == 3
    assert SandboxOrder.objects.count() == 3


def test_console_checks_lines_then_plans_confirms_and_exports(operator_client, live_sandbox):
    box("itrx", "itrx-a", base=live_sandbox)
    bad = operator_client.post(
        "/batches/new/", {"addresses": f"{A}\nnope", "energy": "65000", "period": "1H"}
    )
    assert bad.status_code == 200 and b"Not a valid TRON address" in bad.content
    assert not Batch.objects.exists()
    made = operator_client.post(
        "/batches/new/", {"addresses": f"{A}\n{B},131000", "energy": "65000", "period": "1H"}
    )
    batch = Batch.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/batches/{batch.code}/"
    page = operator_client.get(made["Location"])
    assert b"Confirm and place 2 orders" in page.content and b"itrx-a" in page.content
    assert operator_client.post(f"/batches/{batch.code}/start/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == Batch.Status.QUEUED
    polling = operator_client.get(f"/batches/{batch.code}/progress/", HTTP_HX_REQUEST="true")
    assert polling.status_code == 200 and b'hx-trigger="every 1s"' in polling.content
    services.run_batch(batch.pk)
    placed = operator_client.get(f"/batches/{batch.code}/progress/", HTTP_HX_REQUEST="true")
    # Placed, but the orders are still open: the page polls on until they settle.
    assert placed.status_code == 200 and b"2 placed" in placed.content
    Order.objects.update(status=Status.COMPLETED)
    done = operator_client.get(f"/batches/{batch.code}/progress/", HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and b"2 placed" in done.content
    csv = b"".join(operator_client.get(f"/batches/{batch.code}/results.csv").streaming_content)
    rows = csv.decode().splitlines()
    assert rows[0].startswith("line,address,energy,line_status") and len(rows) == 3
    assert all(",placed,itrx-a," in row for row in rows[1:])


def test_viewers_see_batches_but_cannot_start_them(viewer_client, db):
    batch = make([A])
    assert viewer_client.get(f"/batches/{batch.code}/").status_code == 200
    assert viewer_client.post(f"/batches/{batch.code}/start/").status_code == 403
    assert viewer_client.get("/batches/new/").status_code == 403


def test_place_batch_command_plans_places_and_skips_placed_lines_on_rerun(
    live_sandbox, tmp_path, capsys
):
    box("itrx", "itrx-a", base=live_sandbox)
    file = tmp_path / "sweep.csv"
    file.write_text(f"address,energy\n{A}\n{B},131000\n")
    call_command("place_batch", str(file))
    out = capsys.readouterr().out
    assert "Planned total:" in out and "2 placed" in out
    call_command("place_batch", str(file))
    assert "Resuming batch" in capsys.readouterr().out
    assert SandboxOrder.objects.count() == 2 and Batch.objects.count() == 1
    file.write_text(f"{A}\nTbad\n")
    with pytest.raises(CommandError, match="not valid"):
        call_command("place_batch", str(file))


def test_the_worker_task_runs_in_slices_and_queues_the_rest(db, http, monkeypatch):
    from django_q.models import OrmQ

    from energydash.batches import tasks

    box("itrx", "itrx-a", base="http://testserver")
    batch = make([A, B, C])
    services.start(batch)
    original = services.run_batch
    monkeypatch.setattr(
        services,
        "run_batch",
        lambda pk, budget_seconds=None: original(pk, client=http, budget_seconds=0),
    )
    queued = OrmQ.objects.count()
    tasks.run_batch(batch.pk)  # a zero budget: one line, then the next slice is queued
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING and services.progress(batch)["remaining"] == 2
    assert OrmQ.objects.count() == queued + 1
    tasks.run_batch(batch.pk)
    tasks.run_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINISHED and SandboxOrder.objects.count() == 3
