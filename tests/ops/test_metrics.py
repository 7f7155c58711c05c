"""/metrics: closed unless configured, and each energydash_* figure after a scripted set of orders
placed at the sandbox (two accepted and completed, one refused for want of funds)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone
from django_q.signals import post_execute

from energydash.api.webhooks import deliver
from energydash.balances.models import LedgerFlag
from energydash.balances.services import record_balance
from energydash.balances.stats import daily_spend_by_account
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.polling import poll_pass
from energydash.orders.spec import OrderSpec
from tests.api.conftest import issue
from tests.ops.conftest import METRICS_TOKEN, make_box, scrape, value
from tests.sandbox.helpers import address


def test_metrics_are_closed_by_default(client, db):
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"energydash_" not in response.content


def test_metrics_need_the_exact_token(client, db, metrics_open):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=METRICS_TOKEN).status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert ok.status_code == 200 and b"energydash_open_orders" in ok.content
    assert "sessionid" not in ok.cookies and "csrftoken" not in ok.cookies


def test_metrics_open_to_a_configured_network_only(client, db, settings):
    settings.ENERGYDASH_METRICS_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 403


def _spec(box, who: str) -> OrderSpec:
    return OrderSpec(
        account=box.account, kind="energy", receive_address=address(who), energy=65_000
    )


def test_order_provider_and_state_metrics_after_scripted_orders(
    client, tronzap, http, metrics_open, django_capture_on_commit_callbacks
):
    poor = make_box("itrx", balance_sun=1 * SUN_PER_TRX)
    before = scrape(http)
    tz = {"provider": "tronzap", "account": "Sandbox tronzap", "kind": "energy"}
    poor_labels = {"provider": "itrx", "account": "Sandbox itrx", "kind": "energy"}

    with django_capture_on_commit_callbacks(execute=True):
        placed = [place_order(_spec(tronzap, f"m{n}"), client=http) for n in range(2)]
        refused = place_order(_spec(poor, "poor"), client=http)
    assert refused.status == Status.FAILED
    outcome = placed[0].status  # submitted or delegating, as the provider answered

    mid = scrape(http)
    delta = lambda name, **labels: value(mid, name, **labels) - value(before, name, **labels)  # noqa: E731
    assert delta("energydash_orders_placed_total", **tz, outcome=outcome) == 2
    assert delta("energydash_orders_placed_total", **poor_labels, outcome="failed") == 1
    assert delta("energydash_orders_settled_total", **poor_labels, outcome="failed") == 1
    assert (
        delta(
            "energydash_provider_request_seconds_count",
            provider="tronzap",
            operation="place_energy_order",
        )
        == 2
    )
    assert (
        delta(
            "energydash_provider_errors_total",
            provider="itrx",
            operation="place_energy_order",
            kind="refused",
        )
        == 1
    )
    assert (
        value(
            mid,
            "energydash_open_orders",
            provider="tronzap",
            account="Sandbox tronzap",
            status=outcome,
        )
        == 2
    )
    assert value(mid, "energydash_oldest_open_order_age_seconds") >= 0

    # An hour on, the polls are overdue until a pass runs; then both orders are completed.
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        lagging = scrape(http)
        assert value(lagging, "energydash_polling_lag_seconds") >= 60
        assert value(lagging, "energydash_oldest_open_order_age_seconds") >= 600
        with django_capture_on_commit_callbacks(execute=True):
            poll_pass(client=http)
        after = scrape(http)
    assert (
        value(after, "energydash_orders_settled_total", **tz, outcome="completed")
        - value(before, "energydash_orders_settled_total", **tz, outcome="completed")
        == 2
    )
    assert (
        value(
            after,
            "energydash_open_orders",
            provider="tronzap",
            account="Sandbox tronzap",
            status=outcome,
        )
        == 0
    )
    assert value(after, "energydash_polling_lag_seconds") == 0


def test_needs_review_balance_runway_ledger_and_batch_gauges(http, tronzap, metrics_open):
    account = tronzap.account
    record_balance(account, 1_234_500_000, source="refresh")
    old = timezone.now() - timedelta(minutes=45)
    Order.objects.create(
        account=account,
        kind="energy",
        receive_address=address("r"),
        energy=65_000,
        status=Status.NEEDS_REVIEW,
        burn_sun_per_energy=100,
        created=old,
    )
    Order.objects.filter(status=Status.NEEDS_REVIEW).update(updated=old)
    LedgerFlag.objects.create(
        account=account,
        kind="discrepancy",
        key="k1",
        started_at=old,
        ended_at=old,
        amount_sun=5,
    )
    samples = scrape(http)
    labels = {"provider": "tronzap", "account": "Sandbox tronzap"}
    assert value(samples, "energydash_account_balance_trx", **labels) == 1234.5
    assert value(samples, "energydash_account_low_balance_threshold_trx", **labels) == (
        account.low_balance_threshold_sun / SUN_PER_TRX
    )
    assert value(samples, "energydash_needs_review_orders") == 1
    assert 45 * 60 <= value(samples, "energydash_needs_review_oldest_age_seconds") < 50 * 60
    assert value(samples, "energydash_ledger_discrepancies", **labels, kind="discrepancy") == 1
    assert value(samples, "energydash_batch_lines_pending") == 0
    # No spend in the last 7 days: no runway figure (not an infinite one).
    assert ("energydash_account_runway_days", tuple(sorted(labels.items()))) not in samples


def test_runway_follows_the_spend(
    client, tronzap, http, metrics_open, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(_spec(tronzap, "runway"), client=http)
    record_balance(tronzap.account, 100 * SUN_PER_TRX, source="refresh")
    labels = {"provider": "tronzap", "account": "Sandbox tronzap"}
    days = value(scrape(http), "energydash_account_runway_days", **labels)
    # The order's spend over the 7-day window: 100 TRX lasts 100 / (daily spend) days.
    daily = daily_spend_by_account()[tronzap.account.pk]
    assert daily > 0 and order.cost_sun
    assert days == pytest.approx(float(100 * SUN_PER_TRX / daily), abs=0.06)


def test_webhook_and_task_failure_counters(
    client, http, metrics_open, django_capture_on_commit_callbacks
):
    from energydash.orders.transitions import transition

    token, _raw = issue("hooks", "operator", webhook_url="https://hooks.example.com/e")
    box = make_box("tronzap")
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(_spec(box, "wh"), via=token.placed_via, client=http)
        transition(order, Status.COMPLETED, message="done", energy_delivered=65_000)
    before = scrape(http)
    from energydash.api.models import WebhookDelivery

    delivery = WebhookDelivery.objects.get(order=order)
    failing = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    deliver(delivery.pk, client=failing)
    post_execute.send(
        sender="django_q", task={"func": "energydash.orders.tasks.poll_orders", "success": False}
    )
    post_execute.send(
        sender="django_q", task={"func": "energydash.orders.tasks.poll_orders", "success": True}
    )
    after = scrape(http)
    d = lambda name, **kw: value(after, name, **kw) - value(before, name, **kw)  # noqa: E731
    assert d("energydash_webhook_deliveries_total", outcome="failed") == 1
    assert d("energydash_webhook_deliveries_total", outcome="delivered") == 0
    assert d("energydash_task_failures_total", task="energydash.orders.tasks.poll_orders") == 1


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/metrics"])
def test_ops_endpoints_refuse_writes(client, db, path):
    assert client.post(path).status_code == 405


def test_chain_verification_outcomes_and_latency(http, tronzap, metrics_open):
    from energydash.orders.signals import send_delivery_checked

    done = timezone.now() - timedelta(minutes=3)
    order = Order.objects.create(
        account=tronzap.account,
        kind="energy",
        receive_address=address("chain"),
        energy=65_000,
        status=Status.COMPLETED,
        burn_sun_per_energy=100,
        finished_at=done,
        delivery_checked_at=done + timedelta(seconds=45),
    )
    labels = {"provider": "tronzap"}
    before = scrape(http)
    send_delivery_checked(order, "verified")
    send_delivery_checked(order, "short")
    after = scrape(http)

    def d(name: str, **kw: str) -> float:
        return value(after, name, **kw) - value(before, name, **kw)

    assert d("energydash_chain_verifications_total", **labels, outcome="verified") == 1
    assert d("energydash_chain_verifications_total", **labels, outcome="short") == 1
    assert d("energydash_chain_verification_seconds_count", **labels) == 2
    assert d("energydash_chain_verification_seconds_sum", **labels) == pytest.approx(90)
    assert d("energydash_chain_verification_seconds_bucket", **labels, le="60.0") == 2


def test_batch_lines_pending(http, tronzap, metrics_open):
    from energydash.batches.models import Batch, BatchLine

    batch = Batch.objects.create(via="test")
    for n, status in enumerate(["pending", "pending", "placed", "failed"], start=1):
        BatchLine.objects.create(
            batch=batch, number=n, address=address(f"b{n}"), energy=65_000, status=status
        )
    assert value(scrape(http), "energydash_batch_lines_pending") == 2
