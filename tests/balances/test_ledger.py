"""The ledger: intervals between balance readings explained by orders, or flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from energydash.balances import ledger
from energydash.balances.models import BalanceSnapshot
from energydash.orders.models import Order, Status
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TRX = 1_000_000


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reading(account, minutes: float, balance_trx: float, source: str = "refresh"):
    return BalanceSnapshot.objects.create(
        account=account, balance_sun=int(balance_trx * TRX), taken_at=at(minutes), source=source
    )


def placed(account, minutes: float, cost_trx: float, status: str = Status.COMPLETED, **extra):
    o = order(account, cost_sun=int(cost_trx * TRX), status=status, created=at(minutes - 0.01))
    fields = {"submitted_at": at(minutes), **extra}
    if status in (Status.COMPLETED, Status.REFUNDED, Status.FAILED) and "finished_at" not in extra:
        fields["finished_at"] = at(minutes + 1)
    Order.objects.filter(pk=o.pk).update(**fields)
    return Order.objects.get(pk=o.pk)


def kinds(account, since=None) -> list[tuple[str, int]]:
    ends = BalanceSnapshot.objects.filter(account=account).values_list("taken_at", flat=True)
    return [(iv.kind, iv.residual_sun) for iv in ledger.build_intervals(account, ends)]


# --- unexplained_decrease_sun -------------------------------------------------------------


def test_no_reading_after_since_is_no_evidence(itrx_account):
    reading(itrx_account, 0, 100)
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) is None


def test_no_readings_at_all_is_no_evidence(itrx_account):
    assert ledger.unexplained_decrease_sun(itrx_account, at(0)) is None


def test_flat_balance_since_is_zero(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 100)
    assert ledger.unexplained_decrease_sun(itrx_account, at(5)) == 0


def test_charge_without_order_is_counted_in_straddling_interval(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 96)
    # since lies inside the interval: that interval overlaps, so its decrease counts.
    assert ledger.unexplained_decrease_sun(itrx_account, at(5)) == 4 * TRX


def test_confirmed_charge_explains_the_decrease(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4)
    reading(itrx_account, 10, 96)
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 0


def test_unknown_order_does_not_explain_its_own_charge(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.UNKNOWN)
    reading(itrx_account, 10, 96)
    assert ledger.unexplained_decrease_sun(itrx_account, at(3)) == 4 * TRX


def test_until_bounds_the_intervals(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 98)  # 2 TRX gone
    reading(itrx_account, 20, 98)
    reading(itrx_account, 30, 95)  # 3 TRX gone, after until
    assert ledger.unexplained_decrease_sun(itrx_account, at(1), at(15)) == 2 * TRX
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 5 * TRX
    assert ledger.unexplained_decrease_sun(itrx_account, at(12), at(15)) == 0


def test_top_ups_do_not_offset_decreases(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 90)
    reading(itrx_account, 20, 90)
    reading(itrx_account, 30, 200)  # a deposit later does not hide the 10 TRX
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 10 * TRX


def test_other_accounts_do_not_count(itrx_account, tronzap_account):
    reading(itrx_account, 0, 100)
    placed(tronzap_account, 3, 4)
    reading(itrx_account, 10, 96)
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 4 * TRX
