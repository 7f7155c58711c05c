from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from energydash.balances.models import BalanceSnapshot
from energydash.balances.services import state_for
from energydash.orders.models import Order
from energydash.providers.models import ProviderAccount
from energydash.sandbox import seed
from energydash.sandbox.models import SandboxAccount
from energydash.sandbox.setup import setup_sandbox


def run() -> str:
    out = StringIO()
    call_command("seed_sandbox_history", stdout=out)
    return out.getvalue()


@pytest.fixture
def sandbox(db, settings):
    settings.ENERGYDASH_SANDBOX = True
    setup_sandbox("http://127.0.0.1:8000")


def test_it_generates_30_days_of_labelled_history_once(sandbox, viewer_client):
    assert "generated sandbox history" not in viewer_client.get("/").content.decode()
    output = run()
    assert output.count("generated orders over 30 days") == 3

    orders = Order.objects.all()
    assert set(orders.values_list("placed_via", flat=True)) == {"sandbox-seed"}
    assert len({o.created.date() for o in orders}) >= 29
    for order in orders.filter(account__provider="tronzap")[:20]:
        # costed by the sandbox's own pricing; each order's balance is a snapshot at its time
        assert order.cost_sun == seed.energy_cost_sun(order.unit_price_sun, order.energy)
        snapshot = BalanceSnapshot.objects.get(account=order.account, taken_at=order.created)
        assert snapshot.balance_sun == order.balance_after_sun
    for sandbox_account in SandboxAccount.objects.all():
        account = ProviderAccount.objects.get(name=sandbox_account.name)
        assert state_for(account).balance_sun == sandbox_account.balance_sun  # ends at today's
        assert BalanceSnapshot.objects.filter(account=account).count() > 30

    html = viewer_client.get("/").content.decode()
    assert "generated sandbox history" in html
    assert html.count('class="point"') > 30 and html.count('class="bar"') > 30

    count = Order.objects.count()
    assert "already have history" in run()
    assert Order.objects.count() == count


def test_prices_drift_so_the_cheapest_provider_changes_over_time():
    base = {"itrx": 65, "tronzap": 52.3, "netts": 55}
    cheapest = {
        min(base, key=lambda p: seed.day_price(seed.Decimal(str(base[p])), p, day))
        for day in range(30)
    }
    assert len(cheapest) >= 2


def test_it_does_nothing_without_the_sandbox_setting(sandbox, settings):
    settings.ENERGYDASH_SANDBOX = False
    assert "ENERGYDASH_SANDBOX is off" in run()
    assert not Order.objects.exists()


def test_it_does_nothing_before_sandbox_setup(db, settings):
    settings.ENERGYDASH_SANDBOX = True
    assert "run `manage.py sandbox_setup` first" in run()


def test_it_leaves_accounts_that_already_have_orders_alone(sandbox):
    from tests.balances.factories import order

    order(ProviderAccount.objects.get(name="Sandbox itrx"))
    assert "already have history" in run()
    assert Order.objects.count() == 1
