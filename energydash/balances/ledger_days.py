"""The ledger's daily summary, kept per (account, local day) like the rollups (issue 23).

A day's figures are computed from its intervals (balances.intervals: the readings taken that
local day, each with its predecessor, with the neighbours a timing run needs), and stored in
LedgerDay. The 90-day summary then reads 90 rows and computes only today, so its cost follows
the days shown, not the orders or readings.

How the rows stay exact, under any number of concurrent writers:

* Every writer of what the ledger reads marks the stored days its change may move *stale*, in
  its own transaction: services.record_balance (the only writer of readings: the instant it
  wrote, and the one a heartbeat row slid from), the order transition hook and Order.save() /
  delete() (an order's money and times all lie between its `created` and now). A day may move
  when the change lies at or before the end of the last interval its computation read
  (`span_hi`; NULL while no reading bounds it, and then every change marks it).
* A writer marks under a shared per-account lock; a day is recomputed and stored under that lock
  held exclusively (PostgreSQL advisory locks; SQLite has one writer and the console opens
  IMMEDIATE transactions). So a recompute sees every change committed before it, and a change
  committed after it marks the stored row stale again: no row outlives a change it missed. The
  exclusive lock is only tried, never waited for (while writers hold it the day is computed and
  not stored), so no writer ever queues behind a reader.
* A row built for another time zone or another rounding tolerance is recomputed on read.
  `manage.py rebuild_rollups` recomputes every row; a missing or stale row is recomputed by the
  first page that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from energydash.balances.intervals import TIMING, build_intervals_with_span
from energydash.balances.models import BalanceSnapshot, LedgerDay
from energydash.orders.models import UNSENT, Order
from energydash.providers.models import ProviderAccount

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from energydash.balances.ledger import Day

# pg_advisory_xact_lock(int, int) key space: (this namespace, account id). The two-key space
# does not overlap the one-bigint keys the rollups lock.
_LOCK_NAMESPACE = 0x1ED6E

# What the ledger reads of an order besides its status: a transition changing none of these
# (a poll's tx hashes, a note) moves no ledger day.
LEDGER_FIELDS = frozenset(
    {
        "cost_sun",
        "quoted_cost_sun",
        "refund_sun",
        "late_refund_sun",
        "refunded_at",
        "submitted_at",
        "finished_at",
        "provider_ref",
        "account",
        "created",
    }
)

FIGURES = (
    "opening_sun",
    "closing_sun",
    "charges_sun",
    "possible_sun",
    "refunds_sun",
    "topups_sun",
    "discrepancies_sun",
    "timing_sun",
    "intervals",
)


# --- writers -------------------------------------------------------------------------------


def _lock_shared(account_id: int) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: the writer's transaction already holds the database's one write lock
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [_LOCK_NAMESPACE, account_id])


def _try_lock_exclusive(account_id: int) -> bool:
    """The recompute's lock, never waited for: a reader queued for it would make every writer
    asking for the shared lock queue behind it, and a writer that holds another lock another
    writer waits for (the balance state row, an order) would close a cycle. Busy: the day is
    computed and not stored. SQLite: the IMMEDIATE transaction holds the one write lock."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, account_id])
        return bool(cursor.fetchone()[0])


def touch(account_id: int, since: datetime) -> None:
    """A change of the account's ledger at or after `since` is being written in this
    transaction: mark every stored day it may move stale (module docstring)."""
    _lock_shared(account_id)
    LedgerDay.objects.filter(
        Q(span_hi__isnull=True) | Q(span_hi__gte=since), account_id=account_id, stale=False
    ).update(stale=True)


def on_order_changed(order: Order, from_status: str, to_status: str, fields: Iterable[str]) -> None:
    """orders.transitions.transition matched: mark the days the order's money may move."""
    if from_status in UNSENT and to_status in UNSENT:
        return  # never sent: charges nothing, covers nothing
    if to_status != from_status or LEDGER_FIELDS.intersection(fields):
        touch(order.account_id, order.created)


def _on_order_saved(sender: type[Order], instance: Order, **kwargs: object) -> None:
    if kwargs.get("raw"):
        return  # fixtures: rebuild_rollups afterwards
    if kwargs.get("created") and instance.status in UNSENT:
        return  # a draft: in no interval
    touch(instance.account_id, instance.created)


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_on_order_saved, sender=Order, dispatch_uid="ledger-days-order-saved")
    post_delete.connect(_on_order_saved, sender=Order, dispatch_uid="ledger-days-order-deleted")


# --- one day -------------------------------------------------------------------------------


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def _balance_before(account: ProviderAccount, moment: datetime) -> int | None:
    return (
        BalanceSnapshot.objects.filter(account=account, taken_at__lt=moment)
        .order_by("-taken_at", "-id")
        .values_list("balance_sun", flat=True)
        .first()
    )


def compute_day(account: ProviderAccount, day: date, tz: ZoneInfo) -> tuple[Day, datetime | None]:
    """The day's figures from its intervals (those ending at its readings), and the last
    instant whose change can move them (None: no reading bounds it yet).

    Opening: the balance before the day's first reading (its first interval's start); closing:
    its last reading. A day without a reading opens and closes at the last balance before it.
    """
    from energydash.balances.ledger import Day

    start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    ends = BalanceSnapshot.objects.filter(account=account, taken_at__gte=start, taken_at__lt=end)
    times = list(ends.values_list("taken_at", flat=True))
    entry = Day(day)
    if not times:
        entry.opening_sun = entry.closing_sun = _balance_before(account, end)
        return entry, end
    intervals, span_hi = build_intervals_with_span(account, times)
    for iv in intervals:
        entry.intervals += 1
        entry.charges_sun += iv.charges_sun
        entry.possible_sun += iv.possible_sun
        entry.refunds_sun += iv.refunds_sun
        entry.topups_sun += iv.topup_sun
        entry.discrepancies_sun += iv.discrepancy_sun
        if iv.kind == TIMING:
            entry.timing_sun += iv.residual_sun
    if intervals:
        entry.opening_sun = intervals[0].start_balance_sun
        entry.closing_sun = intervals[-1].end_balance_sun
    else:  # only the account's very first reading: nothing before it
        entry.opening_sun = _balance_before(account, start)
        entry.closing_sun = _balance_before(account, end)
    # A late reading may still be inserted into the day itself.
    return entry, (max(span_hi, end) if span_hi is not None else None)


def _store(account: ProviderAccount, day: date, tz: ZoneInfo) -> tuple[Day, bool]:
    """Recompute one day and store it under the account's lock held exclusively; whether it
    was stored (not while writers hold the lock: then only computed)."""
    with transaction.atomic():
        if not _try_lock_exclusive(account.pk):
            return compute_day(account, day, tz)[0], False
        entry, span_hi = compute_day(account, day, tz)
        LedgerDay.objects.update_or_create(
            account=account,
            day=day,
            defaults={
                "zone": str(tz),
                "tolerance_sun": account.ledger_tolerance_sun or 0,
                "stale": False,
                "span_hi": span_hi,
                **{name: getattr(entry, name) for name in FIGURES},
            },
        )
    return entry, True


def days(account: ProviderAccount, first: date, last: date, today: date, tz: ZoneInfo) -> list[Day]:
    """The account's days first..last, oldest first: stored rows where they are fresh, the
    others recomputed (and stored, for days before `today`)."""
    from energydash.balances.ledger import Day

    tolerance = account.ledger_tolerance_sun or 0
    stored = {
        row.day: row
        for row in LedgerDay.objects.filter(
            account=account, day__gte=first, day__lte=min(last, today - timedelta(days=1))
        )
        if not row.stale and row.zone == str(tz) and row.tolerance_sun == tolerance
    }
    result = []
    day = first
    while day <= last:
        row = stored.get(day)
        if row is not None:
            result.append(Day(day, **{name: getattr(row, name) for name in FIGURES}))
        elif day < today:
            result.append(_store(account, day, tz)[0])
        else:
            result.append(compute_day(account, day, tz)[0])
        day += timedelta(days=1)
    return result


def rebuild(accounts: Iterable[ProviderAccount] | None = None) -> int:
    """Recompute every account's days, from its first reading's day to yesterday; returns the
    rows written. Rows of days without readings before the first are not kept."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    written = 0
    for account in accounts if accounts is not None else ProviderAccount.objects.all():
        LedgerDay.objects.filter(account=account).delete()
        first = (
            BalanceSnapshot.objects.filter(account=account)
            .order_by("taken_at", "id")
            .values_list("taken_at", flat=True)
            .first()
        )
        if first is None:
            continue
        day = timezone.localtime(first, tz).date()
        while day < today:
            written += _store(account, day, tz)[1]
            day += timedelta(days=1)
    return written
