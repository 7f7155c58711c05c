"""The ledger's evidence on an uncertain order looks where its charge could be: from the moment
the request left to a slack after its answer was given up on. Money that moved later (a deposit,
another order's charge or refund not yet recorded) neither proves nor hides this order's charge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from energydash.balances.evidence import judge
from energydash.balances.services import record_balance
from energydash.orders.evidence import MAYBE_CHARGED, NO_EVIDENCE, NONE_CHARGED
from energydash.orders.models import Order, Status
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TRX = 1_000_000


def uncertain(account) -> Order:
    o = order(account, cost_sun=None, quoted_cost_sun=4 * TRX, status=Status.UNKNOWN, created=T0)
    Order.objects.filter(pk=o.pk).update(submitted_at=T0 + timedelta(seconds=2))
    return Order.objects.get(pk=o.pk)


def readings(account, *points: tuple[float, int]) -> None:
    for minutes, trx in points:
        record_balance(
            account, trx * TRX, source="refresh", taken_at=T0 + timedelta(minutes=minutes)
        )


def test_a_deposit_after_the_charge_window_does_not_hide_a_charge(itrx_account):
    readings(itrx_account, (-1, 100), (2, 100), (5, 150))
    assert judge(uncertain(itrx_account)).verdict == NONE_CHARGED


def test_money_gone_after_the_charge_window_is_not_this_orders(itrx_account):
    readings(itrx_account, (-1, 100), (2, 100), (5, 90))
    assert judge(uncertain(itrx_account)).verdict == NONE_CHARGED


def test_a_deposit_inside_the_charge_window_could_hide_it(itrx_account):
    readings(itrx_account, (-1, 100), (0.5, 150), (2, 150))
    evidence = judge(uncertain(itrx_account))
    assert evidence.verdict == MAYBE_CHARGED and "could hide a charge" in evidence.words


def test_money_gone_inside_the_charge_window_is_a_charge(itrx_account):
    readings(itrx_account, (-1, 100), (0.5, 96), (2, 96))
    assert judge(uncertain(itrx_account)).verdict == MAYBE_CHARGED


def test_no_reading_after_the_window_is_no_evidence_yet(itrx_account):
    readings(itrx_account, (-1, 100), (0.5, 100))  # within 60 s of the answer given up on
    assert judge(uncertain(itrx_account)).verdict == NO_EVIDENCE
