"""A small run of seed_bench_data: the data `make bench` measures is realistic and consistent."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from energydash.balances import rollups
from energydash.balances.models import BalanceSnapshot, DailyOrderRollup
from energydash.orders.models import OPEN, Order, OrderEvent, Status
from energydash.providers.models import ProviderAccount


def rollup_rows() -> list[tuple]:
    return sorted(
        DailyOrderRollup.objects.values_list(
            "account_id", "day", "status", "kind", "orders", "cost_sun", "energy", "burn_sun"
        )
    )


@pytest.mark.django_db
def test_seed_bench_data_fills_every_table_the_console_reads(viewer_client):
    out = io.StringIO()
    call_command("seed_bench_data", orders=2_000, snapshots=500, stdout=out)
    assert "2,000 orders" in out.getvalue()
    providers = set(ProviderAccount.objects.values_list("provider", flat=True))
    assert providers == {"itrx", "tronzap", "netts"} and ProviderAccount.objects.count() >= 3
    statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    assert statuses[Status.COMPLETED] > 1_800
    assert statuses[Status.FAILED] > 20 and statuses[Status.REFUNDED] > 5
    assert 3 <= Order.objects.filter(status__in=OPEN).count() < 50
    kinds = set(Order.objects.values_list("kind", flat=True))
    assert kinds == {"energy", "collection", "activation"}
    days = Order.objects.dates("created", "day")
    assert len(days) >= 89  # spread over 90 days
    assert OrderEvent.objects.count() == 4_000
    from energydash.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="order.placed").count() == 2_000  # one per order
    assert BalanceSnapshot.objects.count() == 500

    seeded = rollup_rows()
    rollups.rebuild()
    assert rollup_rows() == seeded and seeded  # derived data right at once

    page = viewer_client.get("/")
    assert page.status_code == 200
    assert (
        viewer_client.get("/orders/", {"status": "failed"}).context["totals"].count
        == (statuses[Status.FAILED])
    )


@pytest.mark.django_db
def test_seed_bench_data_refuses_a_database_it_has_seeded(db):
    call_command("seed_bench_data", orders=10, snapshots=10, stdout=io.StringIO())
    with pytest.raises(CommandError, match="seed an empty database"):
        call_command("seed_bench_data", orders=10, snapshots=10, stdout=io.StringIO())
    assert Order.objects.count() == 10
