"""Per-hour balance rollups: each local hour's lowest, highest and last reading, with their times.

The 7/30/90-day balance charts draw, per chart bucket, the lowest, highest and last reading
(chartdata.balance_points). A bucket of whole hours has exactly the low, high and last of its
hours, so the charts read these rows (24 per account per day) instead of the snapshots (one every
few minutes): a 30-day chart reads 720 rows, not ~9,000-33,000. The 24 h chart reads snapshots.

How they stay right: exactly one writer. services.record_balance writes every snapshot (insert,
or the heartbeat compaction sliding the newest row forward) and calls refresh_hours for the hour
it wrote and, for a slide, the hour the row left, in the same transaction and under the account's
state row lock (the lock that already serialises one account's history). A refresh *recomputes*
the hour from its snapshots (a dozen rows through the (account, taken_at) index), so it is exact
whatever was there before, and an hour the compaction emptied loses its row. `rebuild()`
(`manage.py rebuild_rollups`, seed_bench_data, the migration) recomputes all of them under an
EXCLUSIVE table lock on PostgreSQL, as the order rollups do (SQLite has one writer).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction

from energydash.balances.models import BalanceSnapshot, HourlyBalanceRollup
from energydash.balances.ranges import local_tz, row_datetime
from energydash.balances.rollups import HOUR, bucket_of

_COLUMNS = "account_id, hour_start, readings, low_sun, low_at, high_sun, high_at, last_sun, last_at"


def _figures(rows: list[tuple[int, datetime, int]]) -> dict:
    """Low, high and last of (balance, taken_at, id) rows, ties to the earliest (as the SQL)."""
    low = min(rows, key=lambda r: (r[0], r[1], r[2]))
    high = min(rows, key=lambda r: (-r[0], r[1], r[2]))
    last = max(rows, key=lambda r: (r[1], r[2]))
    return {
        "readings": len(rows),
        "low_sun": low[0],
        "low_at": low[1],
        "high_sun": high[0],
        "high_at": high[1],
        "last_sun": last[0],
        "last_at": last[1],
    }


def refresh_hours(account_id: int, moments: Iterable[datetime]) -> None:
    """Recompute the hours these instants fall in for the account, from its snapshots.

    Call inside the transaction that wrote the snapshots, holding the account's state row lock
    (services.record_balance does): that lock is what keeps one writer per account.
    """
    for hour_start in sorted({bucket_of(moment)[0] for moment in moments}):
        rows = list(
            BalanceSnapshot.objects.filter(
                account_id=account_id, taken_at__gte=hour_start, taken_at__lt=hour_start + HOUR
            )
            .order_by()
            .values_list("balance_sun", "taken_at", "id")
        )
        hour = HourlyBalanceRollup.objects.filter(account_id=account_id, hour_start=hour_start)
        if not rows:
            hour.delete()
            continue
        figures = _figures(rows)
        HourlyBalanceRollup.objects.bulk_create(
            [HourlyBalanceRollup(account_id=account_id, hour_start=hour_start, **figures)],
            update_conflicts=True,
            unique_fields=["account", "hour_start"],
            update_fields=list(figures),
        )


def rebuild() -> int:
    """Recompute every hourly balance row from the snapshots (one transaction); returns rows."""
    q = connection.ops.quote_name
    table = q(HourlyBalanceRollup._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            cursor.execute(f"DELETE FROM {table}")
            if connection.vendor == "postgresql":
                _rebuild_in_sql(cursor, table, q(BalanceSnapshot._meta.db_table))
            else:
                _rebuild_in_python()
        return HourlyBalanceRollup.objects.count()


def _rebuild_in_sql(cursor, table: str, snapshots: str) -> None:
    local = "(s.taken_at AT TIME ZONE %s)"

    def first(value: str, order: str) -> str:
        return f"(ARRAY_AGG({value} ORDER BY {order}))[1]"

    low, high = "balance_sun, taken_at, id", "balance_sun DESC, taken_at, id"
    cursor.execute(
        f"INSERT INTO {table} ({_COLUMNS}) "
        f"SELECT account_id, hour_start, COUNT(*), {first('balance_sun', low)}, "
        f"{first('taken_at', low)}, {first('balance_sun', high)}, {first('taken_at', high)}, "
        f"{first('balance_sun', 'taken_at DESC, id DESC')}, MAX(taken_at) FROM ("
        f" SELECT s.account_id, s.balance_sun, s.taken_at, s.id, "
        f" s.taken_at - ({local} - date_trunc('hour', {local})) AS hour_start FROM {snapshots} s"
        ") readings GROUP BY account_id, hour_start",
        [local_tz().key] * 2,
    )


def _rebuild_in_python() -> None:
    """SQLite has no time-zone arithmetic: stream the snapshots in order and cut them by hour."""
    rows = BalanceSnapshot.objects.order_by("account_id", "taken_at", "id").values_list(
        "account_id", "balance_sun", "taken_at", "id"
    )
    batch: list[HourlyBalanceRollup] = []
    key: tuple[int, datetime] | None = None
    hour: list[tuple[int, datetime, int]] = []

    def flush() -> None:
        if key is not None and hour:
            batch.append(
                HourlyBalanceRollup(account_id=key[0], hour_start=key[1], **_figures(hour))
            )

    for account_id, balance, taken_at, pk in rows.iterator(5000):
        this = (account_id, bucket_of(taken_at)[0])
        if this != key:
            flush()
            key, hour = this, []
            if len(batch) >= 2000:
                HourlyBalanceRollup.objects.bulk_create(batch)
                batch = []
        hour.append((balance, taken_at, pk))
    flush()
    HourlyBalanceRollup.objects.bulk_create(batch)


def hour_width(start: datetime, end: datetime, buckets: int) -> int:
    """Whole hours per chart bucket: at most `buckets` buckets, each exactly some hours."""
    return max(1, math.ceil((end - start).total_seconds() / 3600 / max(buckets, 1)))


def rollup_points(
    account_id: int, start: datetime, end: datetime, buckets: int
) -> list[tuple[datetime, int]]:
    """Per bucket of whole local hours from `start` (a local hour's start): the lowest, highest
    and last reading, read from the hourly rows and downsampled in SQL (<= 3 rows per bucket)."""
    width = hour_width(start, end, buckets) * 3600
    ops = connection.ops
    table = ops.quote_name(HourlyBalanceRollup._meta.db_table)
    if connection.vendor == "postgresql":
        bucket = "FLOOR(EXTRACT(EPOCH FROM (hour_start - %s)) / %s)"
    else:
        bucket = "CAST(ROUND((julianday(hour_start) - julianday(%s)) * 86400.0) / %s AS INTEGER)"
    sql = (
        "SELECT low_at, low_sun, high_at, high_sun, last_at, last_sun, lo, hi, la FROM ("
        " SELECT *,"
        "  ROW_NUMBER() OVER (PARTITION BY b ORDER BY low_sun, low_at) AS lo,"
        "  ROW_NUMBER() OVER (PARTITION BY b ORDER BY high_sun DESC, high_at) AS hi,"
        "  ROW_NUMBER() OVER (PARTITION BY b ORDER BY last_at DESC) AS la"
        f" FROM (SELECT low_at, low_sun, high_at, high_sun, last_at, last_sun, {bucket} AS b"
        f"  FROM {table} WHERE account_id = %s AND hour_start >= %s AND hour_start <= %s) hours"
        ") ranked WHERE lo = 1 OR hi = 1 OR la = 1"
    )
    start_value = ops.adapt_datetimefield_value(start)
    params = [start_value, width, account_id, start_value, ops.adapt_datetimefield_value(end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    points: set[tuple[datetime, int]] = set()
    for low_at, low, high_at, high, last_at, last, lo, hi, la in rows:
        for wanted, at, value in ((lo, low_at, low), (hi, high_at, high), (la, last_at, last)):
            if wanted == 1:
                points.add((row_datetime(at), value))
    return sorted(point for point in points if point[0] <= end)
