"""Per-hour and per-day order rollups, kept right on every order change and rebuildable.

The dashboard, the charts, the orders list's totals and the daily-cost export read these rows
instead of the orders table, so their cost depends on the number of days shown, not on the number
of orders (a year of orders is a few million rows; a year of rollups a few hundred thousand).

How they stay right (exactly once, under any number of concurrent workers): an order change does
not add a delta; it *recomputes* the (account, local hour) bucket the order belongs to from the
orders themselves, then that (account, local day) from the hourly rows, inside the transaction
of the change and under a lock on (account, day):

* PostgreSQL: a transaction-scoped advisory lock. The recompute statements run after the lock is
  granted, so under READ COMMITTED they see every change committed before, including the one of
  the transaction that held the lock last; two concurrent changes in one bucket therefore end
  with the later recompute counting both.
* SQLite: one writer at a time; the order's UPDATE (or our DELETE) already holds the write lock.

Drafts are left out: an order enters the rollups with its first transition (sent, refused or
unknown), so saving a draft, the first write of every placement, recomputes nothing (~4 ms of
each placement, issue 9). Drafts live for the length of one placing request (one interrupted
before sending is moved on by the poller after two minutes); a figure that counts them (the
orders list's total) adds them from the orders table's open-status index. Orders awaiting
approval are left out the same way (nothing was sent; they enter when sent or rejected). That
first entry is the one change that is added as a delta (add_sent_order): its before-image is
known exactly (nothing), so the delta is as exact as a recompute and costs the same however
busy the hour.

A recompute is idempotent, so running it twice, late, or for an order that did not move is
harmless, and a code path that forgot to call it is repaired by the next change in that bucket
or by `manage.py rebuild_rollups`. A delta (`x = x + d`) would be cheaper per change but needs
the exact before-image of every writer and never heals (the first entry above aside); a bucket
holds ~100 orders per account per hour even at a million orders a quarter, read through the
(account, created) index.

Buckets are local hours in settings.TIME_ZONE: hour_start is the first instant of that local
hour, so the 24 h chart reads hours and every other figure reads the local `day` column, with no
time-zone function per row in SQL. Changing TIME_ZONE needs `manage.py rebuild_rollups`: the
zone the rows were built in is recorded (RollupZone, by the first write and by every rebuild),
and the system check balances.checks.check_rollup_zone refuses to start while it differs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from energydash.balances.models import DailyOrderRollup, HourlyOrderRollup, RollupZone
from energydash.balances.ranges import local_midnight, local_tz
from energydash.orders.models import UNSENT, Order, Status
from energydash.orders.money import spend_sql

HOUR = timedelta(hours=1)
# Namespace for the advisory lock keys, far from small integers other code might lock.
_LOCK_BASE = 0x0ED0 << 40

_COST = "COALESCE(o.cost_sun, o.quoted_cost_sun, 0)"
_ENERGY = "COALESCE(o.energy, 0)"
_BURN = "CAST(COALESCE(o.energy, 0) AS BIGINT) * o.burn_sun_per_energy"
_FIGURES = (
    f"COUNT(*), SUM({_COST}), SUM(CAST({_ENERGY} AS BIGINT)), SUM({_BURN}), SUM({spend_sql('o')})"
)
# The figures each rollup row adds up (in _FIGURES' order), and the SQL pieces built from them.
_MEASURES = ("orders", "cost_sun", "energy", "burn_sun", "spend_sun")
_MEASURE_LIST = ", ".join(_MEASURES)
_SUMS = ", ".join(f"SUM({m})" for m in _MEASURES)
_COLUMNS = f"account_id, hour_start, day, status, kind, {_MEASURE_LIST}"
_DAY_COLUMNS = f"account_id, day, status, kind, {_MEASURE_LIST}"


def _set_measures(table: str | None = None) -> str:
    """An upsert's SET: the new figures (a recompute), or added to `table`'s row (a delta)."""
    if table is None:
        return ", ".join(f"{m} = EXCLUDED.{m}" for m in _MEASURES)
    return ", ".join(f"{m} = {table}.{m} + EXCLUDED.{m}" for m in _MEASURES)


# The zone this process knows is recorded (set once the recording transaction committed), so
# rollup writes after the first cost no statement for it.
_zone_recorded: str | None = None


def _note_zone() -> None:
    """Record the zone the rollups are being written in, unless a zone is already recorded
    (a different recorded zone means older rows: only a rebuild may replace it)."""
    global _zone_recorded
    zone = settings.TIME_ZONE
    if _zone_recorded == zone:
        return
    RollupZone.objects.bulk_create([RollupZone(pk=1, zone=zone)], ignore_conflicts=True)

    def remember() -> None:
        global _zone_recorded
        if RollupZone.objects.filter(pk=1, zone=zone).exists():
            _zone_recorded = zone

    transaction.on_commit(remember)


def bucket_of(moment: datetime) -> tuple[datetime, date]:
    """The local hour an instant falls in (as its first instant) and its local calendar day."""
    local = moment.astimezone(local_tz())
    offset = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
    return moment - offset, local.date()


def _tables() -> tuple[str, str, str]:
    q = connection.ops.quote_name
    return (
        q(HourlyOrderRollup._meta.db_table),
        q(DailyOrderRollup._meta.db_table),
        q(Order._meta.db_table),
    )


def _lock(account_id: int, day: date) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)",
                [_LOCK_BASE + account_id * 1_000_000 + day.toordinal()],
            )


def refresh_bucket(account_id: int, created: datetime) -> None:
    """Recompute the hour and the day `created` falls in for this account, from the orders."""
    hour_start, day = bucket_of(created)
    hours, days, orders = _tables()
    ops = connection.ops
    start, end = (
        ops.adapt_datetimefield_value(hour_start),
        ops.adapt_datetimefield_value(hour_start + HOUR),
    )
    day_value = ops.adapt_datefield_value(day)
    # No savepoint: a failed recompute must fail the order change it belongs to, not be rolled
    # back alone (and a savepoint is two more round trips per change).
    with transaction.atomic(savepoint=False):
        _note_zone()
        _lock(account_id, day)
        if connection.vendor == "postgresql":
            _refresh_in_one_statement(account_id, hour_start, day)
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {hours} WHERE account_id = %s AND hour_start = %s",
                [account_id, start],
            )
            cursor.execute(
                f"INSERT INTO {hours} ({_COLUMNS}) "
                f"SELECT o.account_id, %s, %s, o.status, o.kind, {_FIGURES} FROM {orders} o "
                "WHERE o.account_id = %s AND o.created >= %s AND o.created < %s "
                "AND o.status NOT IN (%s, %s) GROUP BY o.account_id, o.status, o.kind",
                [start, day_value, account_id, start, end, *UNSENT],
            )
            _refresh_days(cursor, "account_id = %s AND day = %s", [account_id, day_value])


def add_sent_order(order_id: int, account_id: int, created: datetime) -> None:
    """An order that has just left `draft` (in this transaction): add it to its hour and day.

    Drafts are not in the rollups, so the order's arrival is the whole change: on PostgreSQL
    one upsert adds its figures, read from the order row as this transaction wrote it, to the
    hourly and the daily row, under the same (account, day) lock as a recompute. That is exact
    whatever else runs: a recompute that took the lock before this one could not see the
    uncommitted order, and one after it sees it committed and recounts everything. It costs
    the same for an hour of 10 orders or of 10,000, where a recompute reads them all (every
    placement does this once). SQLite recomputes (one writer; no time goal there).
    """
    if connection.vendor != "postgresql":
        refresh_bucket(account_id, created)
        return
    hour_start, day = bucket_of(created)
    hours, days, orders = _tables()
    sql = f"""
        WITH sent (status, kind, {_MEASURE_LIST}) AS (
            SELECT o.status, o.kind, {_FIGURES} FROM {orders} o
            WHERE o.id = %(order)s AND o.status NOT IN (%(draft)s, %(awaiting)s)
            GROUP BY o.status, o.kind
        ), put_hour AS (
            INSERT INTO {hours} ({_COLUMNS})
            SELECT %(account)s, %(start)s, %(day)s, status, kind, {_MEASURE_LIST} FROM sent
            ON CONFLICT (account_id, hour_start, status, kind) DO UPDATE SET {_set_measures(hours)}
        )
        INSERT INTO {days} ({_DAY_COLUMNS})
        SELECT %(account)s, %(day)s, status, kind, {_MEASURE_LIST} FROM sent
        ON CONFLICT (account_id, day, status, kind) DO UPDATE SET {_set_measures(days)}
    """
    params = {
        "order": order_id,
        "draft": Status.DRAFT,
        "awaiting": Status.AWAITING_APPROVAL,
        "account": account_id,
        "start": hour_start,
        "day": day,
    }
    with transaction.atomic(savepoint=False):
        _note_zone()
        _lock(account_id, day)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _refresh_in_one_statement(account_id: int, hour_start: datetime, day: date) -> None:
    """PostgreSQL: the hour and the day of refresh_bucket in one statement (one round trip
    after the lock instead of four; placement runs two of these, issue 9).

    Data-modifying CTEs share one snapshot, so the day is summed from the *other* hours of the
    day as stored plus this hour as just computed (`fresh_rows`), not from the hours being written.
    Rows are upserted and the (status, kind) rows that vanished deleted: the two touch disjoint
    rows, so no unique key is deleted and inserted in one statement.
    """
    hours, days, orders = _tables()
    start, end = hour_start, hour_start + HOUR
    day_start, day_end = local_midnight(day), local_midnight(day + timedelta(days=1))
    sql = f"""
        WITH fresh_rows (status, kind, {_MEASURE_LIST}) AS (
            SELECT o.status, o.kind, {_FIGURES} FROM {orders} o
            WHERE o.account_id = %(account)s AND o.created >= %(start)s AND o.created < %(end)s
                AND o.status NOT IN (%(draft)s, %(awaiting)s)
            GROUP BY o.status, o.kind
        ), gone_hours AS (
            DELETE FROM {hours} h
            WHERE h.account_id = %(account)s AND h.hour_start = %(start)s AND NOT EXISTS (
                SELECT 1 FROM fresh_rows f WHERE f.status = h.status AND f.kind = h.kind)
        ), put_hours AS (
            INSERT INTO {hours} ({_COLUMNS})
            SELECT %(account)s, %(start)s, %(day)s, status, kind, {_MEASURE_LIST}
            FROM fresh_rows
            ON CONFLICT (account_id, hour_start, status, kind) DO UPDATE SET {_set_measures()}
        ), day_rows (status, kind, {_MEASURE_LIST}) AS (
            SELECT status, kind, {_SUMS} FROM (
                SELECT status, kind, {_MEASURE_LIST} FROM {hours}
                WHERE account_id = %(account)s AND hour_start >= %(day_start)s
                    AND hour_start < %(day_end)s AND day = %(day)s AND hour_start <> %(start)s
                UNION ALL SELECT status, kind, {_MEASURE_LIST} FROM fresh_rows
            ) both_parts GROUP BY status, kind
        ), gone_days AS (
            DELETE FROM {days} d
            WHERE d.account_id = %(account)s AND d.day = %(day)s AND NOT EXISTS (
                SELECT 1 FROM day_rows r WHERE r.status = d.status AND r.kind = d.kind)
        )
        INSERT INTO {days} ({_DAY_COLUMNS})
        SELECT %(account)s, %(day)s, status, kind, {_MEASURE_LIST} FROM day_rows
        ON CONFLICT (account_id, day, status, kind) DO UPDATE SET {_set_measures()}
    """
    params = {
        "account": account_id,
        "start": start,
        "end": end,
        "day": day,
        "day_start": day_start,
        "day_end": day_end,
        "draft": Status.DRAFT,
        "awaiting": Status.AWAITING_APPROVAL,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refresh_days(cursor, where: str, params: list) -> None:
    hours, days, _ = _tables()
    cursor.execute(f"DELETE FROM {days} WHERE {where}", params)
    cursor.execute(
        f"INSERT INTO {days} ({_DAY_COLUMNS}) "
        f"SELECT account_id, day, status, kind, {_SUMS} "
        f"FROM {hours} WHERE {where} GROUP BY account_id, day, status, kind",
        params,
    )


def refresh_order(order: Order) -> None:
    refresh_bucket(order.account_id, order.created)


def refresh_orders(orders: Iterable[tuple[int, datetime]]) -> int:
    """Recompute the buckets of many (account id, created) pairs once each; returns how many."""
    buckets = {(account_id, bucket_of(created)[0]) for account_id, created in orders}
    for account_id, hour_start in sorted(buckets):
        refresh_bucket(account_id, hour_start)
    return len(buckets)


def rebuild() -> int:
    """Recompute every rollup row from the orders (one transaction); returns the hourly rows."""
    hours, days, orders = _tables()
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Writers recomputing a bucket wait for this rebuild, then recompute on top of it.
                cursor.execute(f"LOCK TABLE {hours}, {days} IN EXCLUSIVE MODE")
            cursor.execute(f"DELETE FROM {hours}")
            if connection.vendor == "postgresql":
                _rebuild_hours_in_sql(cursor)
            else:
                _rebuild_hours_in_python()
            _refresh_days(cursor, "1 = %s", [1])
            # An earlier migration (0006) rebuilds before the zone's table exists: 0010 records.
            recorded = RollupZone._meta.db_table in connection.introspection.table_names(cursor)
        if recorded:
            RollupZone.objects.update_or_create(pk=1, defaults={"zone": settings.TIME_ZONE})
        return HourlyOrderRollup.objects.count()


def _rebuild_hours_in_sql(cursor) -> None:
    hours, _, orders = _tables()
    local = "(o.created AT TIME ZONE %s)"
    cursor.execute(
        f"INSERT INTO {hours} ({_COLUMNS}) "
        f"SELECT o.account_id, o.created - ({local} - date_trunc('hour', {local})), "
        f"CAST({local} AS date), o.status, o.kind, {_FIGURES} FROM {orders} o "
        "WHERE o.status NOT IN (%s, %s) GROUP BY 1, 2, 3, 4, 5",
        [*[local_tz().key] * 3, *UNSENT],
    )


def _rebuild_hours_in_python() -> None:
    """SQLite has no time-zone arithmetic: stream the orders once and add them up here."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    rows = (
        Order.objects.exclude(status__in=UNSENT)
        .order_by()
        .only(
            "account",
            "created",
            "status",
            "kind",
            "cost_sun",
            "quoted_cost_sun",
            "refund_sun",
            "provider_ref",
            "energy",
            "burn_sun_per_energy",
        )
    )
    for o in rows.iterator(5000):
        hour_start, day = bucket_of(o.created)
        figures = sums[(o.account_id, hour_start, day, o.status, o.kind)]
        energy = o.energy or 0
        figures[0] += 1
        figures[1] += o.cost_or_quote_sun
        figures[2] += energy
        figures[3] += energy * o.burn_sun_per_energy
        figures[4] += o.spend_sun
    HourlyOrderRollup.objects.bulk_create(
        (
            HourlyOrderRollup(
                account_id=a,
                hour_start=h,
                day=d,
                status=s,
                kind=k,
                orders=f[0],
                cost_sun=f[1],
                energy=f[2],
                burn_sun=f[3],
                spend_sun=f[4],
            )
            for (a, h, d, s, k), f in sums.items()
        ),
        batch_size=2000,
    )


def _on_order_saved(sender: type[Order], instance: Order, **kwargs: object) -> None:
    if kwargs.get("raw"):
        return  # fixtures: rebuild_rollups afterwards
    if kwargs.get("created") and instance.status in UNSENT:
        return  # drafts are not in the rollups: nothing to recompute
    refresh_order(instance)


# What the order rollups add up besides the status: an update that changes none of these (a note,
# a poll's tx hashes) leaves every rollup as it was.
ROLLUP_FIELDS = frozenset(
    {
        "cost_sun",
        "quoted_cost_sun",
        "refund_sun",
        "provider_ref",
        "energy",
        "burn_sun_per_energy",
        "kind",
        "account",
        "created",
    }
)


def on_order_changed(
    order: Order, from_status: str, to_status: str, fields: Collection[str]
) -> None:
    """An order's conditional UPDATE (orders.transitions.transition) just matched: bring its
    buckets along, in that transaction and under the (account, day) lock (orders.hooks)."""
    if from_status in UNSENT and to_status in UNSENT:
        return  # approved (awaiting -> draft): still not sent, still not in the rollups
    if from_status in UNSENT:
        # Its first entry in the rollups (drafts are left out): added, not recounted.
        add_sent_order(order.pk, order.account_id, order.created)
    elif to_status != from_status or ROLLUP_FIELDS.intersection(fields):
        refresh_bucket(order.account_id, order.created)


def connect_signals() -> None:
    """Order.save()/create()/delete() keep rollups right; queryset .update() callers refresh
    them themselves (orders.transitions.transition does, through on_order_changed)."""
    post_save.connect(_on_order_saved, sender=Order, dispatch_uid="rollups-order-saved")
    post_delete.connect(_on_order_saved, sender=Order, dispatch_uid="rollups-order-deleted")
