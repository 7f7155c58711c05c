from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from energydash.balances.models import BalanceSnapshot
from energydash.balances.services import record_balance, state_for

T0 = timezone.now().replace(microsecond=0) - timedelta(days=2)


def history(account) -> list[tuple[int, int, str]]:
    """(minutes after T0, balance, source) of every stored row."""
    rows = BalanceSnapshot.objects.filter(account=account).order_by("taken_at", "id")
    return [(int((r.taken_at - T0).total_seconds() // 60), r.balance_sun, r.source) for r in rows]


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def test_a_balance_from_an_order_response_is_recorded_as_current(itrx_account):
    snapshot = record_balance(itrx_account, 813_900_029_257, source="order", taken_at=at(0))
    assert snapshot.balance_sun == 813_900_029_257
    assert snapshot.source == "order"
    state = state_for(itrx_account)
    assert (state.balance_sun, state.as_of, state.source) == (813_900_029_257, at(0), "order")


def test_every_change_is_kept_as_its_own_row(itrx_account):
    for minute, balance in [(0, 100), (5, 90), (10, 95), (15, 90)]:
        record_balance(itrx_account, balance, source="refresh", taken_at=at(minute))
    assert [b for _, b, _ in history(itrx_account)] == [100, 90, 95, 90]


def test_an_unchanged_balance_keeps_the_change_point_and_one_sliding_heartbeat(
    settings, itrx_account
):
    settings.ENERGYDASH_BALANCE_HEARTBEAT_MINUTES = 60
    for minute in range(0, 24 * 60 + 1, 5):  # a day of five-minute polls, all the same balance
        record_balance(itrx_account, 500, source="refresh", taken_at=at(minute))
    rows = history(itrx_account)
    assert rows[0][0] == 0  # the change point never moves
    assert rows[-1][0] == 24 * 60  # the newest row says "still 500 at the last poll"
    assert len(rows) <= 30  # about one per heartbeat, instead of 289
    gaps = [b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False)]
    assert max(gaps) <= 60


def test_the_change_point_of_a_run_keeps_its_time_and_source(itrx_account):
    record_balance(itrx_account, 100, source="refresh", taken_at=at(0))
    record_balance(itrx_account, 90, source="order", taken_at=at(3))
    record_balance(itrx_account, 90, source="refresh", taken_at=at(5))
    record_balance(itrx_account, 90, source="refresh", taken_at=at(10))
    record_balance(itrx_account, 90, source="refresh", taken_at=at(15))
    assert history(itrx_account) == [(0, 100, "refresh"), (3, 90, "order"), (15, 90, "refresh")]


def test_a_late_reading_is_inserted_in_order_and_does_not_replace_the_current_balance(
    itrx_account,
):
    record_balance(itrx_account, 100, source="refresh", taken_at=at(0))
    record_balance(itrx_account, 80, source="refresh", taken_at=at(10))
    record_balance(itrx_account, 90, source="order", taken_at=at(5))
    assert [b for _, b, _ in history(itrx_account)] == [100, 90, 80]
    assert state_for(itrx_account).balance_sun == 80


def test_a_refresh_reading_clears_the_refresh_error_and_an_order_reading_does_not(itrx_account):
    state = state_for(itrx_account)
    state.last_error, state.error_since = "provider unavailable", at(0)
    state.save()
    record_balance(itrx_account, 10, source="order", taken_at=at(1))
    assert state_for(itrx_account).last_error == "provider unavailable"
    record_balance(itrx_account, 10, source="refresh", taken_at=at(2))
    state = state_for(itrx_account)
    assert (state.last_error, state.error_since) == ("", None)


def test_it_refuses_an_unknown_source_and_ignores_a_non_integer_balance(itrx_account):
    with pytest.raises(ValueError):
        record_balance(itrx_account, 10, source="guess")
    assert record_balance(itrx_account, 10.5, source="order") is None  # type: ignore[arg-type]
    assert not BalanceSnapshot.objects.exists()
