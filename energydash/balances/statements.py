"""Monthly statement of one provider account, from the ledger's intervals (balances.intervals).

A month is the calendar month in settings.TIME_ZONE. As on the ledger's daily summary, an
interval belongs to the month its closing reading was taken in, so the months of an account
tile its history and

    closing - opening = refunds - charges + top-ups - discrepancies + other

holds exactly, in sun, where

- charges: confirmed charges (orders/money.py CHARGED at their cost), placed at submitted_at;
- refunds: what charged orders got back (money.refunded_sql, late refunds when heard);
- kept: charges - refunds, the money that left for good in the month;
- top-ups: rises no order explains (deposits); discrepancies: money gone that no order, not
  even an unresolved one, accounts for;
- other: the rest of the unexplained change: provider rounding, timing runs that cancel, and
  decreases that unresolved (unknown / needs-review) orders may explain;
- orders: charged orders submitted in the month; unresolved ones are counted apart.

Opening is the balance at the last reading before the month (None when the account has no
reading before it: then the month's first reading opens it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.utils import timezone

from energydash.balances.intervals import TOPUP, Interval, build_intervals
from energydash.balances.models import BalanceSnapshot
from energydash.providers.models import ProviderAccount


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month holding `month`, in the current time zone."""
    tz = timezone.get_current_timezone()
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(following, time.min, tzinfo=tz),
    )


@dataclass
class Statement:
    account: ProviderAccount
    month: date
    start: datetime
    end: datetime
    opening_sun: int | None = None
    opening_known: bool = False  # a reading before the month gave the opening balance
    closing_sun: int | None = None
    charges_sun: int = 0
    refunds_sun: int = 0
    topups_sun: int = 0
    discrepancies_sun: int = 0
    other_sun: int = 0
    possible_sun: int = 0
    orders: int = 0
    unresolved_orders: int = 0
    topups: list[Interval] = field(default_factory=list)

    @property
    def kept_sun(self) -> int:
        return self.charges_sun - self.refunds_sun

    @property
    def change_sun(self) -> int | None:
        if self.opening_sun is None or self.closing_sun is None:
            return None
        return self.closing_sun - self.opening_sun


def monthly_statement(account: ProviderAccount, month: date) -> Statement:
    start, end = month_bounds(month)
    st = Statement(account=account, month=start.date(), start=start, end=end)
    readings = BalanceSnapshot.objects.filter(account=account)
    # As on the daily summary, an interval belongs to the local day of its closing reading: one
    # closing at exactly midnight on the 1st is this month's.
    before = (
        readings.filter(taken_at__lt=start)
        .order_by("-taken_at", "-id")
        .values_list("balance_sun", flat=True)
        .first()
    )
    ends = readings.filter(taken_at__gte=start, taken_at__lt=end)
    intervals = build_intervals(account, ends.values_list("taken_at", flat=True))
    if before is not None:
        st.opening_sun, st.opening_known = int(before), True
    elif intervals:
        st.opening_sun = intervals[0].start_balance_sun
    elif (
        first := ends.order_by("taken_at", "id").values_list("balance_sun", flat=True).first()
    ) is not None:
        st.opening_sun = int(first)  # a single reading in the month, none before
    st.closing_sun = intervals[-1].end_balance_sun if intervals else st.opening_sun
    for iv in intervals:
        st.charges_sun += iv.charges_sun
        st.refunds_sun += iv.refunds_sun
        st.topups_sun += iv.topup_sun
        st.discrepancies_sun += iv.discrepancy_sun
        st.possible_sun += iv.possible_sun
        st.orders += iv.charged_count
        st.unresolved_orders += iv.possible_count
        if iv.kind == TOPUP:
            st.topups.append(iv)
    st.other_sun = sum(iv.residual_sun for iv in intervals) - st.topups_sun + st.discrepancies_sun
    return st


def recent_months(count: int = 12) -> list[date]:
    """The first days of the current month and the `count - 1` before it, newest first."""
    today = timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months
