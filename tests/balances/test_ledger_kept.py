"""The ledger counts money as orders/money.py does (one definition of kept), and a refund heard
after an order was final lands at refunded_at on its order, never as a top-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from energydash.balances import ledger, ledger_checks
from energydash.balances.models import BalanceSnapshot
from energydash.balances.services import record_balance
from energydash.orders.models import Order, Status
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TRX = 1_000_000


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def refresh(account, minutes: float, balance_sun: int) -> None:
    with time_machine.travel(at(minutes), tick=False):
        record_balance(account, balance_sun, source="refresh")


def verdicts(account) -> list[tuple[str, int]]:
    ends = BalanceSnapshot.objects.filter(account=account).values_list("taken_at", flat=True)
    return [(iv.kind, iv.residual_sun) for iv in ledger.build_intervals(account, ends)]


def charged(account, minutes: float, cost: int, **fields) -> Order:
    o = order(account, cost_sun=cost, created=at(minutes - 0.1))
    Order.objects.filter(pk=o.pk).update(
        submitted_at=at(minutes), provider_ref=f"p-{o.pk}", **fields
    )
    return Order.objects.get(pk=o.pk)


def test_a_failed_after_acceptance_order_without_a_refund_figure_is_kept_money(itrx_account):
    """itrx 0/43 with no refund: money.py counts the 4 TRX as kept, and so must the ledger."""
    refresh(itrx_account, 0, 100 * TRX)
    o = charged(itrx_account, 1, 4 * TRX, status=Status.FAILED, finished_at=at(2))
    refresh(itrx_account, 5, 96 * TRX)  # the provider kept it
    assert o.kept_sun == 4 * TRX
    assert verdicts(itrx_account) == [("explained", 0)]


def test_a_refunded_order_without_a_figure_is_refunded_in_full_in_both(itrx_account):
    refresh(itrx_account, 0, 100 * TRX)
    o = charged(itrx_account, 1, 4 * TRX, status=Status.REFUNDED, finished_at=at(2))
    refresh(itrx_account, 5, 100 * TRX)
    assert o.kept_sun == 0
    assert verdicts(itrx_account) == [("explained", 0)]


def late_refund(o: Order, minutes: float, amount: int) -> None:
    Order.objects.filter(pk=o.pk).update(
        refund_sun=(o.refund_sun or 0) + amount,
        late_refund_sun=(o.late_refund_sun or 0) + amount,
        refunded_at=at(minutes),
    )


def test_a_late_refund_counts_at_refunded_at_not_at_finished_at(tronzap_account):
    refresh(tronzap_account, 0, 100 * TRX)
    o = charged(tronzap_account, 1, 4 * TRX, status=Status.COMPLETED, finished_at=at(2))
    refresh(tronzap_account, 5, 96 * TRX)
    late_refund(o, 59, 4 * TRX)  # the provider refunded and the console heard it at once
    refresh(tronzap_account, 60, 100 * TRX)
    assert verdicts(tronzap_account) == [("explained", 0), ("explained", 0)]


def test_a_top_up_that_a_later_heard_refund_explains_is_attributed_to_it(tronzap_account):
    """The provider refunds at 20 min; the late-refund check hears it at 3 h. The rise is the
    refund, not a deposit, and the interval where it is heard is no discrepancy."""
    tronzap_account.alert_emails = "ops@example.com"
    tronzap_account.save(update_fields=["alert_emails"])
    refresh(tronzap_account, 0, 100 * TRX)
    o = charged(tronzap_account, 1, 4 * TRX, status=Status.COMPLETED, finished_at=at(2))
    refresh(tronzap_account, 5, 96 * TRX)
    refresh(tronzap_account, 25, 97 * TRX)  # refunded 1 TRX (tronzap's own rounding: exact here)
    refresh(tronzap_account, 120, 97 * TRX + 1)  # a new change point, nothing happened
    late_refund(o, 180, 1 * TRX)
    refresh(tronzap_account, 181, 97 * TRX + 1)
    kinds = [k for k, _ in verdicts(tronzap_account)]
    assert "topup" not in kinds and "discrepancy" not in kinds
    ends = BalanceSnapshot.objects.filter(account=tronzap_account).values_list(
        "taken_at", flat=True
    )
    ivs = ledger.build_intervals(tronzap_account, ends)
    rise = next(iv for iv in ivs if iv.ended_at == at(25))
    assert [(r.order_id, r.amount_sun) for r in rise.late_refunds] == [(o.pk, 1 * TRX)]
    assert rise.refunds_sun == 1 * TRX
    assert sum(iv.residual_sun for iv in ivs) == 1  # sums stay exact (1 sun of rounding)
    assert ledger_checks.check_discrepancies(tronzap_account, now=at(400)) == []
    assert mail.outbox == []


def test_the_ledger_page_names_the_refund_a_rise_is_attributed_to(viewer_client, tronzap_account):
    refresh(tronzap_account, 0, 100 * TRX)
    o = charged(tronzap_account, 1, 4 * TRX, status=Status.COMPLETED, finished_at=at(2))
    refresh(tronzap_account, 5, 96 * TRX)
    refresh(tronzap_account, 25, 97 * TRX)
    late_refund(o, 180, 1 * TRX)
    refresh(tronzap_account, 181, 97 * TRX + 1)
    html = viewer_client.get(f"/ledger/{tronzap_account.code}/").content.decode()
    assert f"late refund of {o.short_code}" in html


def test_a_late_refund_with_no_matching_rise_is_a_discrepancy(tronzap_account):
    """The provider says it refunded, but the balance never rose: that is reported."""
    refresh(tronzap_account, 0, 100 * TRX)
    o = charged(tronzap_account, 1, 4 * TRX, status=Status.COMPLETED, finished_at=at(2))
    refresh(tronzap_account, 5, 96 * TRX)
    late_refund(o, 180, 1 * TRX)
    refresh(tronzap_account, 181, 96 * TRX)
    assert verdicts(tronzap_account)[-1] == ("discrepancy", -1 * TRX)


def test_a_deposit_of_another_size_stays_a_top_up(tronzap_account):
    refresh(tronzap_account, 0, 100 * TRX)
    o = charged(tronzap_account, 1, 4 * TRX, status=Status.COMPLETED, finished_at=at(2))
    refresh(tronzap_account, 5, 96 * TRX)
    refresh(tronzap_account, 25, 146 * TRX)  # a 50 TRX deposit
    late_refund(o, 180, 1 * TRX)
    refresh(tronzap_account, 181, 147 * TRX)
    assert [k for k, _ in verdicts(tronzap_account)] == ["explained", "topup", "explained"]
