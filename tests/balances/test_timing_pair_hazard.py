"""The timing-pair hazard (issue 19): a charge the ledger pairs off with another order's charge
as "timing" must never make a charged uncertain order look uncharged (a wrong "not placed").

Order Y (confirmed, cost C) was charged early and its answer recorded late; uncertain order U
(cost C) was charged in between. Counting Y at submitted_at, the intervals read -C (Y's charge,
not yet recorded), -C (U's charge), +C (Y recorded): the second and third cancel as "timing",
so U's window showed no money gone. The charge span (intervals.place_charges_in_span) moves Y's
charge to the earliest interval of its span where the balance fell by it, which leaves U's
charge unexplained in U's window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from energydash.balances.evidence import judge
from energydash.balances.models import BalanceSnapshot
from energydash.orders.evidence import MAYBE_CHARGED, NONE_CHARGED
from energydash.orders.models import Order, Status
from tests.balances.factories import OTHER_ADDRESS, order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
C = 7_205_000


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reading(account, seconds: float, balance_sun: int) -> None:
    BalanceSnapshot.objects.create(
        account=account, balance_sun=balance_sun, taken_at=at(seconds), source="refresh"
    )


def sent(account, created: float, submitted: float, status: str, address=OTHER_ADDRESS) -> Order:
    o = order(account, cost_sun=None, quoted_cost_sun=C, status=status, created=at(created))
    Order.objects.filter(pk=o.pk).update(submitted_at=at(submitted), unit_price_sun=55)
    o.refresh_from_db()
    return o


def test_a_timing_pair_with_an_earlier_charge_never_hides_an_uncertain_charge(netts_account):
    reading(netts_account, 0, 100_000_000)
    sent(netts_account, 1, 8, Status.COMPLETED)  # Y: charged at 2, answer recorded at 8
    reading(netts_account, 3, 100_000_000 - C)
    u = sent(netts_account, 4, 6, Status.UNKNOWN, address="TLH7SvXi7iwxKH4zVn8NqG5dDescQdVh2J")
    reading(netts_account, 7, 100_000_000 - 2 * C)  # U charged at 5
    reading(netts_account, 9, 100_000_000 - 2 * C)
    reading(netts_account, 120, 100_000_000 - 2 * C)
    assert judge(u).verdict == MAYBE_CHARGED


def test_a_true_timing_pair_still_lets_an_uncharged_order_be_not_placed(netts_account):
    """Y charged inside U's window and recorded after it: -C then +C is timing, U was not
    charged (no review flood from ordinary timing)."""
    reading(netts_account, 0, 100_000_000)
    u = sent(netts_account, 4, 6, Status.UNKNOWN, address="TLH7SvXi7iwxKH4zVn8NqG5dDescQdVh2J")
    sent(netts_account, 5, 8, Status.COMPLETED)  # Y: charged at 5.5, recorded at 8
    reading(netts_account, 7, 100_000_000 - C)
    reading(netts_account, 9, 100_000_000 - C)
    reading(netts_account, 120, 100_000_000 - C)
    assert judge(u).verdict == NONE_CHARGED
