"""Issue 19, finding 3: the ledger attributes readings correctly, so no false discrepancy e-mail.

Each scenario is one a careful operator met: concurrent itrx answers recorded out of order, a
refresh read while an answer was being lost, a timing pair at the left edge of a range, balances
rounded to 0.01 TRX, and one e-mail per episode naming the orders that could explain it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from energydash.balances import ledger, ledger_checks
from energydash.balances.models import BalanceSnapshot, LedgerFlag
from energydash.balances.services import record_balance
from energydash.orders.models import Order, Status
from energydash.orders.placement_outcome import record_placed
from energydash.providers.results import PlacedOrder
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TRX = 1_000_000


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sun(trx: str) -> int:
    from decimal import Decimal

    return int(Decimal(trx) * TRX)


def alerts_to(account) -> None:
    account.alert_emails = "ops@example.com"
    account.save(update_fields=["alert_emails"])


def refresh(account, minutes: float, balance_sun: int) -> None:
    with time_machine.travel(at(minutes), tick=False):
        record_balance(account, balance_sun, source="refresh")


def draft(account, minutes: float, cost_sun: int) -> Order:
    """An order whose request left at `minutes` (the draft is saved just before it is sent)."""
    return order(
        account, cost_sun=None, quoted_cost_sun=cost_sun, status=Status.DRAFT, created=at(minutes)
    )


def answer(o: Order, minutes: float, cost_sun: int, balance_after_sun: int) -> Order:
    """The provider's answer to the placing request, recorded at `minutes` (the real path)."""
    placed = PlacedOrder(
        provider_ref=f"serial-{o.pk}",
        status=Status.SUBMITTED,
        raw_status="",
        cost_sun=cost_sun,
        balance_after_sun=balance_after_sun,
        energy=65_000,
        tx_hashes=(),
        raw={"errno": 0, "amount": cost_sun, "balance": balance_after_sun},
    )
    with time_machine.travel(at(minutes), tick=False):
        record_placed(o, placed, None, "console")
    return Order.objects.get(pk=o.pk)


def verdicts(account) -> list[tuple[str, int]]:
    ends = BalanceSnapshot.objects.filter(account=account).values_list("taken_at", flat=True)
    return [(iv.kind, iv.residual_sun) for iv in ledger.build_intervals(account, ends)]


def unexplained(account) -> list[str]:
    return [k for k, _ in verdicts(account) if k in ("discrepancy", "topup")]


# --- 1. answers of concurrent orders recorded out of order --------------------------------------


def test_concurrent_itrx_answers_recorded_out_of_order_send_no_alarm(itrx_account):
    alerts_to(itrx_account)
    refresh(itrx_account, 0, 100 * TRX)
    first, second = draft(itrx_account, 1, 4 * TRX), draft(itrx_account, 1.01, 4 * TRX)
    never = draft(itrx_account, 1.02, 4 * TRX)  # a third request, never charged (its answer lost)
    Order.objects.filter(pk=never.pk).update(status=Status.UNKNOWN, submitted_at=at(1.5))
    # itrx charged `first` (100 -> 96), then `second` (96 -> 92); the answer to `second` is
    # recorded before the answer to `first`, which carries the older balance.
    answer(second, 1.05, 4 * TRX, 92 * TRX)
    answer(first, 1.06, 4 * TRX, 96 * TRX)
    refresh(itrx_account, 5, 92 * TRX)
    refresh(itrx_account, 30, 92 * TRX)

    assert unexplained(itrx_account) == []
    assert ledger_checks.check_discrepancies(itrx_account, now=at(120)) == []
    assert mail.outbox == []
    # the never-charged order's evidence: nothing left unexplained since it was sent
    assert ledger.unexplained_decrease_sun(itrx_account, never.created) == 0
    # the history still ends at the true balance and the sums stay exact
    ivs = ledger.build_intervals(
        itrx_account,
        BalanceSnapshot.objects.filter(account=itrx_account).values_list("taken_at", flat=True),
    )
    assert sum(iv.change_sun for iv in ivs) == -8 * TRX
    assert sum(iv.residual_sun for iv in ivs) == 0


def test_the_stale_answer_is_kept_on_its_order(itrx_account):
    refresh(itrx_account, 0, 100 * TRX)
    first, second = draft(itrx_account, 1, 4 * TRX), draft(itrx_account, 1.01, 4 * TRX)
    answer(second, 1.05, 4 * TRX, 92 * TRX)
    first = answer(first, 1.06, 4 * TRX, 96 * TRX)
    assert first.balance_after_sun == 96 * TRX  # the provider's words stay on the order
    from energydash.balances.models import AccountBalanceState

    assert AccountBalanceState.objects.get(account=itrx_account).balance_sun == 92 * TRX


def test_an_answer_with_no_other_reading_in_flight_still_ends_its_interval(itrx_account):
    refresh(itrx_account, 0, 100 * TRX)
    one = draft(itrx_account, 1, 4 * TRX)
    answer(one, 1.05, 4 * TRX, 96 * TRX)
    assert BalanceSnapshot.objects.filter(account=itrx_account, source="order").count() == 1
    assert verdicts(itrx_account) == [("explained", 0)]


# --- 2. a lost answer: the possible charge counts from the moment the request left ---------------


def test_a_refresh_while_an_answer_is_lost_is_possibly_charged_not_a_discrepancy(itrx_account):
    alerts_to(itrx_account)
    refresh(itrx_account, 0, 100 * TRX)
    lost = draft(itrx_account, 1, 4 * TRX)
    # The provider charged when the request arrived; the send timed out 20 s later.
    Order.objects.filter(pk=lost.pk).update(status=Status.UNKNOWN, submitted_at=at(1 + 20 / 60))
    refresh(itrx_account, 1.1, 96 * TRX)  # read between the two
    refresh(itrx_account, 10, 96 * TRX)
    refresh(itrx_account, 20, 96 * TRX)
    kinds = [k for k, _ in verdicts(itrx_account)]
    assert kinds[0] == "possible" and set(kinds[1:]) == {"explained"}
    assert ledger_checks.check_discrepancies(itrx_account, now=at(120)) == []
    # reconciliation later finds it charged: its charge cancels the drop, never alerting
    Order.objects.filter(pk=lost.pk).update(status=Status.COMPLETED, cost_sun=4 * TRX)
    assert unexplained(itrx_account) == []
    assert ledger_checks.check_discrepancies(itrx_account, now=at(120)) == []
    assert mail.outbox == []


# --- 3. the left edge of a range ----------------------------------------------------------------


def test_a_timing_pair_at_the_left_edge_of_a_range_is_timing_not_a_top_up(tronzap_account):
    refresh(tronzap_account, 0, 100 * TRX)
    o = order(tronzap_account, cost_sun=4 * TRX, status=Status.COMPLETED, created=at(9))
    refresh(tronzap_account, 10, 96 * TRX)  # the provider charged; energydash records it at 12
    Order.objects.filter(pk=o.pk).update(submitted_at=at(12), finished_at=at(13))
    refresh(tronzap_account, 20, 96 * TRX)
    (iv,) = ledger.build_intervals(tronzap_account, [at(20)])
    # The order was sent at 9, before the reading at 10: its charge is placed in the interval
    # that fell by it (intervals.place_charges_in_span), so this one is plainly explained.
    assert (iv.kind, iv.topup_sun, iv.charges_sun) == ("explained", 0, 0)
    assert [m.role for m in iv.moved_charges] == ["moved"]


# --- 4. balances rounded to 0.01 TRX ------------------------------------------------------------


def test_netts_and_tronzap_default_to_their_published_precision(
    itrx_account, tronzap_account, netts_account
):
    assert netts_account.ledger_tolerance_sun == 10_000
    assert tronzap_account.ledger_tolerance_sun == 10_000
    assert itrx_account.ledger_tolerance_sun == 0  # itrx reports balances in sun


def test_a_rounded_balance_is_explained_by_rounding(netts_account):
    refresh(netts_account, 0, sun("100.00"))
    o = order(netts_account, cost_sun=sun("3.575"), status=Status.COMPLETED, created=at(2.9))
    Order.objects.filter(pk=o.pk).update(submitted_at=at(3), finished_at=at(4))
    refresh(netts_account, 10, sun("96.43"))  # 96.425 shown to 0.01 TRX
    (iv,) = ledger.build_intervals(netts_account, [at(10)])
    assert (iv.kind, iv.residual_sun, iv.topup_sun) == ("rounding", 5_000, 0)


def test_a_rounded_timing_pair_sends_no_alarm(netts_account):
    alerts_to(netts_account)
    refresh(netts_account, 0, sun("96.43"))  # 96.425
    o = order(netts_account, cost_sun=sun("10.195"), status=Status.COMPLETED, created=at(9))
    refresh(netts_account, 10, sun("86.23"))  # charged before energydash recorded it
    Order.objects.filter(pk=o.pk).update(submitted_at=at(12), finished_at=at(13))
    refresh(netts_account, 20, sun("86.23"))
    assert unexplained(netts_account) == []
    assert ledger_checks.check_discrepancies(netts_account, now=at(120)) == []
    assert mail.outbox == []


def test_a_real_discrepancy_beyond_the_tolerance_still_alerts(netts_account):
    alerts_to(netts_account)
    refresh(netts_account, 0, sun("100.00"))
    refresh(netts_account, 10, sun("99.50"))
    refresh(netts_account, 20, sun("99.50"))
    (alert,) = ledger_checks.check_discrepancies(netts_account, now=at(120))
    assert "0.500000 TRX" in alert.problem
    assert len(mail.outbox) == 1


def test_the_tolerance_is_set_per_account_in_admin_and_bad_input_changes_nothing(
    admin_client_, netts_account
):
    from energydash.providers.admin import ProviderAccountForm
    from energydash.providers.audit import TRACKED_FIELDS

    assert "ledger_tolerance_sun" in TRACKED_FIELDS
    data = {
        "name": netts_account.name,
        "provider": "netts",
        "enabled": True,
        "egress_ip": "203.0.113.7",
        "low_balance_threshold_sun": "100",
        "priority": 0,
        "timeout_seconds": 20,
        "connect_timeout_seconds": 5,
    }
    form = ProviderAccountForm({**data, "ledger_tolerance_sun": "-0.01"}, instance=netts_account)
    assert not form.is_valid() and "ledger_tolerance_sun" in form.errors
    form = ProviderAccountForm({**data, "ledger_tolerance_sun": "5"}, instance=netts_account)
    assert not form.is_valid() and "ledger_tolerance_sun" in form.errors  # at most 1 TRX
    netts_account.refresh_from_db()
    assert netts_account.ledger_tolerance_sun == 10_000
    form = ProviderAccountForm({**data, "ledger_tolerance_sun": "0.02"}, instance=netts_account)
    assert form.is_valid(), form.errors
    form.save()
    netts_account.refresh_from_db()
    assert netts_account.ledger_tolerance_sun == 20_000


def test_the_ledger_page_shows_the_tolerance_and_rounding_rows(viewer_client, netts_account):
    refresh(netts_account, 0, sun("100.00"))
    o = order(netts_account, cost_sun=sun("3.575"), status=Status.COMPLETED, created=at(2.9))
    Order.objects.filter(pk=o.pk).update(submitted_at=at(3), finished_at=at(4))
    refresh(netts_account, 10, sun("96.43"))
    html = viewer_client.get(f"/ledger/{netts_account.code}/").content.decode()
    assert "Rounding tolerance: 0.010000 TRX" in html
    assert 'data-kind="rounding"' in html and "Explained (rounding)" in html


# --- 5. one e-mail per episode, naming the orders that could explain it --------------------------


def test_adjacent_discrepancies_are_one_episode_and_one_email_naming_the_orders(itrx_account):
    alerts_to(itrx_account)
    refresh(itrx_account, 0, 100 * TRX)
    doubtful = draft(itrx_account, 5, sun("0.5"))
    Order.objects.filter(pk=doubtful.pk).update(status=Status.NEEDS_REVIEW, submitted_at=at(5.3))
    refresh(itrx_account, 10, 98 * TRX)
    refresh(itrx_account, 20, 95 * TRX)
    (alert,) = ledger_checks.check_discrepancies(itrx_account, now=at(40))
    body = mail.outbox[0].body
    # 2 + 3 TRX gone in one episode, 0.5 of which the unresolved order could be
    assert "4.500000 TRX" in alert.problem
    assert f"/orders/{doubtful.code}/" in body
    # the episode grows; still the same finding
    refresh(itrx_account, 30, 94 * TRX)
    assert ledger_checks.check_discrepancies(itrx_account, now=at(60)) == []
    assert len(mail.outbox) == 1 and LedgerFlag.objects.count() == 1
    # once the ledger is explained again, a new loss is a new episode
    refresh(itrx_account, 40, 94 * TRX)
    refresh(itrx_account, 50, 93 * TRX)
    refresh(itrx_account, 60, 93 * TRX)
    (again,) = ledger_checks.check_discrepancies(itrx_account, now=at(90))
    assert "1.000000 TRX" in again.problem
    assert len(mail.outbox) == 2


# --- one writer: concurrent answers race for the balance history ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_order_answers_keep_exactly_one_reading_and_the_state_agrees(itrx_account):
    import threading

    from django.db import connection
    from django.utils import timezone

    from energydash.balances.models import AccountBalanceState
    from energydash.orders import hooks

    record_balance(
        itrx_account, 100 * TRX, source="refresh", taken_at=timezone.now() - timedelta(seconds=5)
    )
    sent = timezone.now()  # eight requests left together; their answers race to be recorded
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def answer_arrives(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            hooks.balance_reported(itrx_account, (96 - 4 * n) * TRX, sent)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer_arrives, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    (kept,) = BalanceSnapshot.objects.filter(account=itrx_account, source="order")
    assert AccountBalanceState.objects.get(account=itrx_account).balance_sun == kept.balance_sun
