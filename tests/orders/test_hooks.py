"""orders.hooks: the money work orders hand up to balances is wired at start-up, or fails loudly."""

from __future__ import annotations

import pytest
from django.core import checks

from energydash.orders import hooks
from energydash.orders.models import Order, Status
from energydash.orders.transitions import transition


def e005() -> list[checks.CheckMessage]:
    assert hooks.check_hooks in checks.registry.registry.get_checks()
    return [m for m in hooks.check_hooks() if m.id == "energydash.E005"]


def test_every_orders_hook_is_registered_at_start_up():
    assert hooks.missing() == []
    assert e005() == []


def test_a_missing_hook_fails_the_change_and_the_system_check(itrx_account, monkeypatch):
    order = Order.objects.create(
        account=itrx_account,
        kind="energy",
        receive_address="TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
        energy=65_000,
        period="1H",
        status=Status.SUBMITTED,
        burn_sun_per_energy=100,
        quoted_cost_sun=4_000_000,
    )
    monkeypatch.setattr(hooks.order_changed, "_handler", None)

    with pytest.raises(hooks.MissingHook, match="order_changed"):
        transition(order, Status.COMPLETED, cost_sun=3_000_000)

    order.refresh_from_db()  # the change rolled back with the bookkeeping that could not follow
    assert order.status == Status.SUBMITTED and order.cost_sun is None
    assert [m.msg for m in e005()] == [
        "The orders hook 'order_changed' has no handler: order code that calls it would fail."
    ]
