"""The ledger's questions over balance intervals (balances.intervals holds the rules).

- unexplained_decrease_sun: did money leave since a moment that no confirmed order explains?
  The evidence an order's review rests on.
- intervals_page and daily_summary: the ledger pages.
- settled_episodes: the findings ledger_checks e-mails once (one per episode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from energydash.balances.intervals import (
    CHARGED,
    DISCREPANCY,
    POSSIBLE,
    POSSIBLE_STATUSES,
    TIMING_WINDOW,
    TOPUP,
    Interval,
    build_intervals,
)
from energydash.balances.models import BalanceSnapshot
from energydash.orders.models import Order
from energydash.providers.models import ProviderAccount


def _end_bound(account: ProviderAccount, until: datetime) -> datetime | None:
    """taken_at of the first reading at or after `until` (the end of the interval holding it)."""
    first = (
        BalanceSnapshot.objects.filter(account=account, taken_at__gte=until)
        .order_by("taken_at", "id")
        .values_list("taken_at", flat=True)
        .first()
    )
    return first


def unexplained_decrease_sun(
    account: ProviderAccount, since: datetime, until: datetime | None = None
) -> int | None:
    """Sun that left the account since `since` (to `until`) that no confirmed order explains.

    Sums the unexplained decreases (never netted against top-ups) of every interval between
    consecutive readings that overlaps [since, until], including the interval that straddles
    `since`. Possible charges (unknown / needs_review orders) explain nothing here, so an order
    whose fate is being decided cannot explain its own charge. Decreases cancelled by an equal
    top-up in the adjacent interval (the timing case in balances.intervals) are not counted.

    None when there is no reading after `since`: there is no evidence either way.
    """
    readings = BalanceSnapshot.objects.filter(account=account, taken_at__gt=since)
    if until is not None:
        end = _end_bound(account, until)
        if end is not None:
            readings = readings.filter(taken_at__lte=end)
    if not readings.exists():
        return None
    intervals = build_intervals(account, readings.values_list("taken_at", flat=True))
    return sum(iv.decrease_sun for iv in intervals if iv.overlaps(since, until))


# --- pages, daily summary and findings ------------------------------------------------------

PAGE_SIZE = 50
ORDERS_PER_INTERVAL = 10


def intervals_page(account: ProviderAccount, page_number: object) -> tuple[Any, list[Interval]]:
    """One page of the account's intervals, newest first, with the orders placed in each.

    Pagination runs over the account's readings (index account + taken_at); the intervals of a
    page are one annotated query, and their orders one more, bounded by the page's time span.
    """
    from django.core.paginator import Paginator

    readings = BalanceSnapshot.objects.filter(account=account).order_by("-taken_at", "-id")
    page = Paginator(readings.values_list("taken_at", flat=True), PAGE_SIZE).get_page(page_number)
    intervals = build_intervals(account, list(page.object_list))
    attach_orders(account, intervals)
    intervals.reverse()
    return page, intervals


def moved_money(iv: Interval) -> bool:
    """Whether anything happened to the money in this interval: the balance changed, or orders
    charged, refunded or may have charged in it. An unchanged heartbeat interval did not."""
    return bool(
        iv.change_sun
        or iv.charges_sun
        or iv.refunds_sun
        or iv.possible_cover_sun
        or iv.orders
        or iv.late_refunds
        or iv.moved_charges
    )


@dataclass
class UnchangedRun:
    """Consecutive intervals in which no money moved, shown as one ledger row."""

    started_at: datetime
    ended_at: datetime
    readings: int
    balance_sun: int
    kind: str = "unchanged"


def fold_unchanged(intervals: list[Interval]) -> list[Interval | UnchangedRun]:
    """The intervals (in the order given) with each run of unchanged ones folded into one row.

    Works in either direction: a run's span is the earliest start to the latest end of its
    intervals. The balance is the run's (it did not change).
    """
    rows: list[Interval | UnchangedRun] = []
    for iv in intervals:
        if moved_money(iv):
            rows.append(iv)
            continue
        last = rows[-1] if rows else None
        if isinstance(last, UnchangedRun):
            last.started_at = min(last.started_at, iv.started_at)
            last.ended_at = max(last.ended_at, iv.ended_at)
            last.readings += 1
        else:
            rows.append(UnchangedRun(iv.started_at, iv.ended_at, 1, iv.end_balance_sun))
    return rows


def attach_orders(account: ProviderAccount, intervals: list[Interval]) -> None:
    """Put each interval's orders (charged, possibly charged or refunded in it) on it.

    An order whose charge moved to an earlier interval (intervals.place_charges_in_span: the
    balance fell there, between its sending and when energydash gave up waiting for its
    answer) is listed where the money moved, not under the interval holding its submitted_at."""
    if not intervals:
        return
    lo = min(iv.started_at for iv in intervals)
    hi = max(iv.ended_at for iv in intervals)
    in_span = (
        Q(submitted_at__gt=lo, submitted_at__lte=hi)
        | Q(finished_at__gt=lo, finished_at__lte=hi)
        | Q(refunded_at__gt=lo, refunded_at__lte=hi)
    )
    rows = (
        Order.objects.filter(account=account)
        .filter(in_span)
        .filter(CHARGED | Q(status__in=POSSIBLE_STATUSES) | Q(refund_sun__gt=0))
        .order_by("submitted_at", "id")[: ORDERS_PER_INTERVAL * len(intervals) * 2]
    )
    moved_from = {
        (m.order_id, id(iv)) for iv in intervals for m in iv.moved_charges if m.role == "moved"
    }
    moved_to = {
        (m.order_id, id(iv)) for iv in intervals for m in iv.moved_charges if m.role == "charged"
    }
    for o in rows:
        for iv in intervals:
            charged_here = (o.pk, id(iv)) in moved_to or (
                (o.pk, id(iv)) not in moved_from and _within(iv, o.submitted_at)
            )
            hit = charged_here or _within(iv, o.finished_at) or _within(iv, o.refunded_at)
            if hit and len(iv.orders) < ORDERS_PER_INTERVAL:
                iv.orders.append(o)


def _within(iv: Interval, when: datetime | None) -> bool:
    return when is not None and iv.started_at < when <= iv.ended_at


@dataclass
class Day:
    """One local day of the ledger: opening and closing balance and what moved it."""

    day: Any
    opening_sun: int | None = None
    closing_sun: int | None = None
    charges_sun: int = 0
    possible_sun: int = 0
    refunds_sun: int = 0
    topups_sun: int = 0
    discrepancies_sun: int = 0
    timing_sun: int = 0
    intervals: int = 0

    @property
    def change_sun(self) -> int | None:
        if self.opening_sun is None or self.closing_sun is None:
            return None
        return self.closing_sun - self.opening_sun


def daily_summary(account: ProviderAccount, days: int, now: datetime | None = None) -> list[Day]:
    """The last `days` local days (the current time zone), newest first.

    An interval belongs to the local day its closing reading was taken, so a day's opening
    balance is the balance before its first reading and closing - opening equals the sum of its
    intervals' changes: refunds - charges + top-ups - discrepancies (possibly charged and timing
    amounts are shown apart). Days before today come from the per-day rows balances.ledger_days
    keeps exact (a day is computed from its own intervals and the neighbours a timing run
    needs); today is computed.
    """
    from django.utils import timezone

    from energydash.balances import ledger_days

    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days - 1)
    return list(reversed(ledger_days.days(account, first_day, today, today, tz)))


@dataclass
class Episode:
    """Money that went missing, from a discrepancy until the ledger is explained again.

    Neighbouring intervals that are discrepancies, top-ups or possibly charged belong to one
    episode; an explained (exactly, by rounding or by timing) interval ends it. It is reported
    once, keyed by the reading that opens its first discrepancy (change points never move).
    """

    intervals: list[Interval]

    @property
    def first(self) -> Interval:
        return self.intervals[0]

    @property
    def key(self) -> str:
        return f"reading:{self.first.start_id}"

    @property
    def started_at(self) -> datetime:
        return self.first.started_at

    @property
    def ended_at(self) -> datetime:
        return self.intervals[-1].ended_at

    @property
    def start_balance_sun(self) -> int:
        return self.first.start_balance_sun

    @property
    def end_balance_sun(self) -> int:
        return self.intervals[-1].end_balance_sun

    def total(self, name: str) -> int:
        return sum(getattr(iv, name) for iv in self.intervals)


def episodes(intervals: list[Interval]) -> list[Episode]:
    """Group contiguous intervals (oldest first) into discrepancy episodes."""
    found: list[Episode] = []
    current: Episode | None = None
    previous: Interval | None = None
    for iv in intervals:
        if current is not None and previous is not None and iv.start_id != previous.end_id:
            current = None
        if iv.kind == DISCREPANCY:
            if current is None:
                current = Episode([iv])
                found.append(current)
            else:
                current.intervals.append(iv)
        elif iv.kind in (TOPUP, POSSIBLE) and current is not None:
            current.intervals.append(iv)
        else:
            current = None
        previous = iv
    return found


def settled_episodes(
    account: ProviderAccount,
    since: datetime,
    now: datetime,
    grace: timedelta = TIMING_WINDOW,
) -> list[Episode]:
    """Discrepancy episodes whose first discrepancy ends after `since` and can no longer turn
    out to be timing: it ended at least `grace` (the timing window) before `now`, so no later
    interval can cancel it. An episode grows as readings come; its key does not change.
    """
    ends = BalanceSnapshot.objects.filter(account=account, taken_at__gt=since, taken_at__lte=now)
    intervals = build_intervals(account, ends.values_list("taken_at", flat=True))
    return [e for e in episodes(intervals) if now - e.first.ended_at >= grace]
