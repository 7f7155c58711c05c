"""Issue 19, finding 4: a provider's "insufficient balance" that the known balance contradicts is
flagged on the order instead of repeating "nothing was charged"."""

from __future__ import annotations

from django.urls import reverse

from energydash.balances.models import REFRESH
from energydash.balances.services import record_balance
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from tests.orders.conftest import address, make_box


def spec(box) -> OrderSpec:
    return OrderSpec(
        account=box.account,
        kind="energy",
        receive_address=address("doubt"),
        energy=65_000,
        period="1H",
    )


def test_insufficient_balance_against_a_known_balance_that_covers_it_is_flagged(
    db, http, viewer_client
):
    box = make_box("itrx", balance_sun=5_000 * SUN_PER_TRX, charge_without_order_once=True)
    record_balance(box.account, 5_000 * SUN_PER_TRX, source=REFRESH)
    order = place_order(spec(box), client=http)
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert "5,000.000000 TRX" in order.doubt and "covers" in order.doubt
    assert "nothing was charged" not in order.last_error
    html = viewer_client.get(reverse("orders:detail", args=[order.code])).content.decode()
    assert 'id="order-doubt"' in html


def test_insufficient_balance_that_the_known_balance_agrees_with_is_not_flagged(db, http):
    box = make_box("itrx", balance_sun=1 * SUN_PER_TRX)
    record_balance(box.account, 1 * SUN_PER_TRX, source=REFRESH)
    order = place_order(spec(box), client=http)
    order.refresh_from_db()
    assert order.status == Status.FAILED and order.doubt == ""
