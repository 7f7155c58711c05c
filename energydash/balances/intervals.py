"""Ledger intervals: every change of an account's balance explained by its orders, or flagged.

The rules and the one SQL statement that applies them; balances.ledger asks its questions
(evidence for a decision, pages, days, findings) over these intervals.

Intervals. An interval is two consecutive balance readings of one account, (t0, b0) and (t1, b1)
(BalanceSnapshot rows ordered by taken_at, id). Its balance change b1 - b0 must equal
refunds - charges of that account's orders that fall in (t0, t1]. What is left over is the
*unexplained* change: positive is a *top-up* (money came in that no order explains, normally a
deposit), negative is a *discrepancy* (money left that no order accounts for).

Which timestamp places money in an interval (the rule the README repeats):

- A charge is placed at the order's ``submitted_at``: the moment energydash recorded that the
  provider accepted the order (or that the send ended in doubt). itrx answers an order with the
  balance after it, and that balance is recorded (``orders.hooks.balance_reported``) right after
  ``submitted_at`` is written, so the charge lands in the interval that ends at that order
  snapshot. The amount is ``cost_sun`` (the provider's figure), else ``quoted_cost_sun``.
- Charged: orders submitted, delegating, completed or refunded, and failed orders that the
  provider had accepted (they carry a provider order id). Failed orders without a provider id
  (refused, or concluded "not placed") and drafts charge nothing.
- A refund is placed at ``finished_at``, when energydash recorded the final state that carries
  it. The amount is ``refund_sun``; a refunded order without a figure, or a failed order the
  provider had accepted, is assumed refunded in full (so a provider that keeps the money of a
  failed order shows as a discrepancy, which is what the operator should see).
- *Possible charges*: orders in ``unknown`` or ``needs_review``, at their cost or quoted cost.
  They are summed at ``submitted_at`` (shown apart), but the provider may have charged any time
  after the request left: from ``created`` (the draft is saved just before the request is sent;
  nothing else creates orders) to ``submitted_at`` (for a lost answer, when the timeout fired).
  So an interval overlapping that span can hold the charge (``possible_cover_sun``), and in
  the ledger a decrease no larger than that is "possibly charged", not a discrepancy (the
  order's own review settles it). At a provider that activates a recipient unasked (Netts),
  an order whose quote did not count activation, to an address not known to be active (no
  order to it completed before it was sent), may have cost the quote plus the activation fee,
  and covers both. ``unexplained_decrease_sun`` does NOT let them explain
  anything: it answers "did money leave that no confirmed order accounts for?", and the order
  being decided must not explain its own charge.

Timing. The provider moves money slightly before energydash records it: a refresh can read a
balance after the provider charged but before ``submitted_at`` is written, or after the provider
refunded but before the poll recorded it, and with several orders in flight the answers arrive
in any order. That shows as a run of neighbouring intervals whose unexplained changes cancel
(a discrepancy and a top-up of the same sun, or -4, +8, -4 TRX); the run ends within
TIMING_WINDOW of where it began. Such a run is classified *explained (timing)* and never alerts.

Charge span. The provider charged an order somewhere between when its request left
(``started_at``) and ``submitted_at``; for a lost answer (the order went unknown and was later
settled as placed) ``submitted_at`` is when energydash gave up waiting, seconds after the charge,
and a reading may lie between. Then the interval before that reading shows the charge missing
and the one holding ``submitted_at`` counts it, where it may offset an unresolved order's charge
instead of a top-up (so no timing run cancels, and a false discrepancy opens). So a confirmed
charge moves to the earliest interval ending inside its span whose unexplained decrease equals
it (place_charges_in_span); money only moves inside the order's own span and sums stay exact.
A provider may also take the money just after energydash gave up waiting (still processing the
request): when the interval holding submitted_at shows an unexplained rise of at least the
charge (money counted that had not left), the charge moves to the first later interval, within
the charge slack (ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS), whose unexplained decrease is at
least it (place_charges_after_give_up): a rise and a fall a timing run would pair anyway, which
an unresolved order's charge in the later interval would otherwise keep from cancelling.

Rounding. TronZap and Netts show balances to 0.01 TRX, so a reading is off by up to that much:
an interval whose unexplained change is within the account's ``ledger_tolerance_sun`` is
*explained (rounding)*, and a timing run cancels to within it. (Rounding errors do not add up:
over any run of intervals the residuals telescope to the error of its two end readings.)

Stale readings. An order answer's "balance after" is the provider's state when it processed
that order; if another reading was recorded while the request was in flight, the answer may be
older than it. services.record_balance keeps such a reading only on its order (never as an
interval boundary), so it cannot open a false discrepancy.

Compaction. Balance history keeps change points and slides a heartbeat row forward over a flat
run (``services.record_balance``); deleting or sliding flat rows merges intervals, and sums over
merged intervals stay exact, so the ledger is unaffected by how many flat readings are kept.

Efficiency. One set-based SQL statement per range (_interval_sql): the readings of one account
in a time range (index account + taken_at) with LAG() for each one's predecessor, merged with
that account's orders sent and finished in the range (indexes account + submitted_at and
account + finished_at, each range read once) and grouped per interval. Never a subquery per
reading; nothing scans a whole table; Python only walks the readings of the range.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Q,
    QuerySet,
)
from django.utils.translation import gettext_lazy as _

from energydash.balances.models import BalanceSnapshot
from energydash.balances.ranges import row_datetime
from energydash.orders import money
from energydash.orders.activation import unquoted_activation_sun
from energydash.orders.models import POSSIBLE_STATUSES, Order
from energydash.orders.models import Status as OrderStatus
from energydash.providers.models import ProviderAccount

CHARGED = money.CHARGED

EXPLAINED = "explained"
TIMING = "timing"
POSSIBLE = "possible"
TOPUP = "topup"
DISCREPANCY = "discrepancy"
ROUNDING = "rounding"
KIND_LABELS = {
    EXPLAINED: _("Explained"),
    ROUNDING: _("Explained (rounding)"),
    TIMING: _("Explained (timing)"),
    POSSIBLE: _("Possibly charged (unresolved orders)"),
    TOPUP: _("Top-up"),
    DISCREPANCY: _("Discrepancy"),
}

# A timing run must close (its last interval start) within this of where it opened (its first
# interval's end). It is also how long a discrepancy waits before it is e-mailed.
TIMING_WINDOW = timedelta(minutes=10)

# One definition of charged, cost and refund: orders/money.py (the rollups, the order page and
# the ledger all read it from there).
CHARGED_SQL = money.charged_sql("o")
POSSIBLE_SQL = money.possible_sql("o")
COST_SQL = money.cost_sql("o")
# The refund counted at finished_at: what money.py counts as refunded, less the part heard
# after the order was final (late_refund_sun), which counts at refunded_at.
REFUND_SQL = f"{money.refunded_sql('o')} - COALESCE(o.late_refund_sun, 0)"
LATE_REFUND_SQL = "COALESCE(o.late_refund_sun, 0)"


def _interval_sql() -> str:
    """The intervals of one account's readings in [lo, hi] and their order sums, set-based.

    The readings (index account + taken_at, LAG for each one's predecessor) and the account's
    orders sent or finished in the range (indexes account + submitted_at and
    account + finished_at, each read once) are merged into one stream ordered by time, orders
    before a reading of the same instant. A running count of readings numbers the stream, so
    an order belongs to the next reading (interval (prev_at, taken_at]), and one GROUP BY adds
    up each interval. Cost: one pass over the range's readings and orders, no subquery per
    reading.
    """
    snapshots = BalanceSnapshot._meta.db_table
    orders = Order._meta.db_table
    charged = f"CASE WHEN {CHARGED_SQL} THEN 1 ELSE 0 END"
    possible = f"CASE WHEN {POSSIBLE_SQL} THEN 1 ELSE 0 END"
    # The orders' filter on the range is on the reading before the first one, as in LAG.
    return (
        "WITH s AS (SELECT s.id, s.taken_at, s.balance_sun, s.source, "
        "LAG(s.id) OVER w AS prev_id, LAG(s.taken_at) OVER w AS prev_at, "
        "LAG(s.balance_sun) OVER w AS prev_balance "
        f"FROM {snapshots} s WHERE s.account_id = %s AND s.taken_at >= %s AND s.taken_at <= %s "
        "WINDOW w AS (ORDER BY s.taken_at, s.id)), "
        "ev AS ("
        "SELECT s.taken_at AS t, 1 AS k, s.id AS sid, 0 AS charges, 0 AS charged, "
        "0 AS possible, 0 AS possible_n, 0 AS refunds, 0 AS late FROM s "
        "UNION ALL "
        f"SELECT o.submitted_at, 0, NULL, {charged} * {COST_SQL}, {charged}, "
        f"{possible} * {COST_SQL}, {possible}, 0, 0 FROM {orders} o "
        "WHERE o.account_id = %s AND o.submitted_at >= %s AND o.submitted_at <= %s "
        f"AND ({CHARGED_SQL} OR {POSSIBLE_SQL}) "
        "UNION ALL "
        f"SELECT o.finished_at, 0, NULL, 0, 0, 0, 0, {REFUND_SQL}, 0 FROM {orders} o "
        "WHERE o.account_id = %s AND o.finished_at >= %s AND o.finished_at <= %s "
        f"AND ({REFUND_SQL}) <> 0 "
        # A refund heard after the order was final counts when it was heard (refunded_at).
        "UNION ALL "
        f"SELECT o.refunded_at, 0, NULL, 0, 0, 0, 0, 0, {LATE_REFUND_SQL} FROM {orders} o "
        "WHERE o.account_id = %s AND o.refunded_at >= %s AND o.refunded_at <= %s "
        "AND o.late_refund_sun > 0), "
        "numbered AS (SELECT ev.*, SUM(k) OVER (ORDER BY t, k, sid ROWS UNBOUNDED PRECEDING) "
        "AS n FROM ev), "
        "sums AS (SELECT CASE WHEN k = 1 THEN n ELSE n + 1 END AS bucket, MAX(sid) AS sid, "
        "SUM(charges) AS charges, SUM(charged) AS charged, SUM(possible) AS possible, "
        "SUM(possible_n) AS possible_n, SUM(refunds) AS refunds, SUM(late) AS late FROM numbered "
        "GROUP BY CASE WHEN k = 1 THEN n ELSE n + 1 END) "
        "SELECT s.id, s.taken_at, s.balance_sun, s.source, s.prev_id, s.prev_at, s.prev_balance, "
        "sums.charges, sums.charged, sums.possible, sums.possible_n, sums.refunds, sums.late "
        "FROM s JOIN sums ON sums.sid = s.id WHERE s.prev_id IS NOT NULL "
        "ORDER BY s.taken_at, s.id"
    )


def _fetch_intervals(account: ProviderAccount, lo: datetime, hi: datetime) -> list[Interval]:
    """Intervals whose readings both lie in [lo, hi], oldest first: one SQL statement."""
    from django.db import connection

    datetime_field = BalanceSnapshot._meta.get_field("taken_at")
    params = [
        account.pk,
        datetime_field.get_db_prep_value(lo, connection),
        datetime_field.get_db_prep_value(hi, connection),
    ] * 4
    with connection.cursor() as cursor:
        cursor.execute(_interval_sql(), params)
        rows = cursor.fetchall()
    return [
        Interval(
            start_id=prev_id,
            started_at=row_datetime(prev_at),
            start_balance_sun=int(prev_balance),
            end_id=pk,
            ended_at=row_datetime(taken_at),
            end_balance_sun=int(balance),
            end_source=source,
            charges_sun=int(charges),
            charged_count=int(charged_count),
            possible_sun=int(possible),
            possible_count=int(possible_count),
            refunds_sun=int(refunds) + int(late),
            residual_sun=int(balance) - int(prev_balance) + int(charges) - int(refunds) - int(late),
        )
        for (
            pk,
            taken_at,
            balance,
            source,
            prev_id,
            prev_at,
            prev_balance,
            charges,
            charged_count,
            possible,
            possible_count,
            refunds,
            late,
        ) in rows
    ]


@dataclass(frozen=True)
class LateRefund:
    """A refund heard after its order was final, placed in an interval: `heard` where the
    console recorded it (refunded_at), `rise` where the balance rose by it before that."""

    order_id: int
    short_code: str
    amount_sun: int
    heard_at: datetime
    role: str  # "rise": the rise it explains is here; "moved": heard here, counted at the rise


@dataclass(frozen=True)
class MovedCharge:
    """A confirmed charge counted in an earlier interval than its submitted_at: `charged` where
    the balance fell by it, `moved` where submitted_at lies (place_charges_in_span)."""

    order_id: int
    short_code: str
    amount_sun: int
    submitted_at: datetime
    role: str  # "charged" or "moved"
    after_give_up: bool = False  # taken just after energydash gave up waiting, not before


@dataclass
class Interval:
    """Two consecutive readings and what the orders between them explain."""

    start_id: int
    started_at: datetime
    start_balance_sun: int
    end_id: int
    ended_at: datetime
    end_balance_sun: int
    end_source: str
    charges_sun: int
    charged_count: int
    possible_sun: int
    possible_count: int
    refunds_sun: int
    residual_sun: int
    timing: bool = False
    tolerance_sun: int = 0
    possible_cover_sun: int = 0  # uncertain orders whose possible charge could lie here
    orders: list[Order] = field(default_factory=list)
    late_refunds: list[LateRefund] = field(default_factory=list)
    moved_charges: list[MovedCharge] = field(default_factory=list)

    @property
    def within_tolerance(self) -> bool:
        return abs(self.residual_sun) <= self.tolerance_sun

    @property
    def change_sun(self) -> int:
        return self.end_balance_sun - self.start_balance_sun

    @property
    def explained_sun(self) -> int:
        """The change the confirmed orders account for (refunds minus charges)."""
        return self.refunds_sun - self.charges_sun

    @property
    def kind(self) -> str:
        if self.residual_sun == 0:
            return EXPLAINED
        if self.within_tolerance:
            return ROUNDING
        if self.timing:
            return TIMING
        if self.residual_sun > 0:
            return TOPUP
        if -self.residual_sun <= self.possible_cover_sun + self.tolerance_sun:
            return POSSIBLE
        return DISCREPANCY

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def decrease_sun(self) -> int:
        """Unexplained decrease counting confirmed orders only (0 for timing and rounding)."""
        if self.residual_sun >= 0 or self.timing or self.within_tolerance:
            return 0
        return -self.residual_sun

    @property
    def topup_sun(self) -> int:
        return self.residual_sun if self.kind == TOPUP else 0

    @property
    def discrepancy_sun(self) -> int:
        """Money gone beyond what confirmed and possible charges can account for."""
        if self.kind != DISCREPANCY:
            return 0
        return -self.residual_sun - self.possible_cover_sun

    def overlaps(self, since: datetime, until: datetime | None) -> bool:
        return self.ended_at > since and (until is None or self.started_at < until)


def build_intervals(account: ProviderAccount, end_times: Any) -> list[Interval]:
    """Intervals ending at the given readings' times, oldest first, timing runs marked.

    One SQL query for the intervals, one for the account's uncertain orders near them. The
    neighbours needed to recognise a timing run at either edge are fetched too (the intervals
    within TIMING_WINDOW of the range, and one more reading beyond), then dropped.
    """
    return build_intervals_with_span(account, end_times)[0]


def build_intervals_with_span(
    account: ProviderAccount, end_times: Any
) -> tuple[list[Interval], datetime | None]:
    """build_intervals, and the last instant whose change can alter its answer: the end of the
    last interval it read, or None when no reading bounds that yet (the answer may then change
    with any later order or reading). balances.ledger_days keys its cache on it."""
    times = list(end_times) if not isinstance(end_times, QuerySet) else None
    if times is None:
        bounds = end_times.order_by().values_list("taken_at", flat=True)
        times = list(bounds)
    if not times:
        return [], None
    first, last = min(times), max(times)
    readings = BalanceSnapshot.objects.filter(account=account)
    before = (  # the start of the first interval
        readings.filter(taken_at__lt=first)
        .order_by("-taken_at", "-id")
        .values_list("taken_at", flat=True)
        .first()
    )
    lo = None
    if before is not None:  # an interval opening a run that closes in the first one ends here
        lo = (
            readings.filter(taken_at__lt=before - TIMING_WINDOW)
            .order_by("-taken_at", "-id")
            .values_list("taken_at", flat=True)
            .first()
        )
    hi = (  # a run opened in the last interval closes in one starting by last + window
        readings.filter(taken_at__gt=last + TIMING_WINDOW)
        .order_by("taken_at", "id")
        .values_list("taken_at", flat=True)
        .first()
    )
    lo = lo or (before - TIMING_WINDOW if before is not None else first)
    bounded = hi is not None
    hi = hi or last + TIMING_WINDOW
    late = _late_refunds(account, lo, hi)
    if late:  # the rise a late refund explains lies between its order's end and when heard
        lo = min(lo, *(finished for _, _, finished, _, _ in late))
        heard = max(at for _, _, _, at, _ in late)
        if heard >= hi:
            after = readings.filter(taken_at__gte=heard).order_by("taken_at", "id")
            bound = after.values_list("taken_at", flat=True).first()
            bounded = bound is not None
            hi = bound or heard
    intervals = _fetch_intervals(account, lo, hi)
    tolerance = account.ledger_tolerance_sun or 0
    for iv in intervals:
        iv.tolerance_sun = tolerance
    place_charges_in_span(intervals, _spanning_charges(account, intervals))
    place_charges_after_give_up(intervals, _given_up_charges(account, intervals))
    _cover_possible(account, intervals)
    match_late_refunds(intervals, late)
    mark_timing(intervals)
    return [iv for iv in intervals if first <= iv.ended_at <= last], (hi if bounded else None)


def _late_refunds(account: ProviderAccount, lo: datetime, hi: datetime) -> list[tuple]:
    """(id, code, finished_at, refunded_at, amount) of the account's late refunds whose span
    from the order's end to when the refund was heard overlaps [lo, hi]."""
    rows = Order.objects.filter(
        account=account,
        late_refund_sun__gt=0,
        refunded_at__gt=lo,
        finished_at__lt=hi,
        finished_at__isnull=False,
    ).order_by("refunded_at", "id")
    return list(rows.values_list("pk", "code", "finished_at", "refunded_at", "late_refund_sun"))


def match_late_refunds(intervals: list[Interval], late: list[tuple]) -> None:
    """Attribute a rise to the late refund that explains it (module docstring, "Late refunds").

    The provider refunds when it refunds; energydash hears of it at its next late-refund check,
    hours later perhaps. So the balance rises in one interval (a top-up to the correlated sums)
    and the refund is counted in a later one (short of money: a discrepancy to them). For each
    late refund, the earliest interval after its order ended whose unexplained rise equals the
    refund (within the tolerance), while the interval where it was heard lacks that money, takes
    the refund: both become explained, and the sums stay exact (the refund only moves)."""
    for pk, code, finished, heard, amount in late:
        holder = next((iv for iv in intervals if iv.started_at < heard <= iv.ended_at), None)
        if holder is None or holder.residual_sun > -amount + holder.tolerance_sun:
            continue
        rise = next(
            (
                iv
                for iv in intervals
                if iv.ended_at > finished
                and iv.ended_at <= holder.started_at
                and abs(iv.residual_sun - amount) <= iv.tolerance_sun
            ),
            None,
        )
        if rise is None:
            continue
        short = str(code)[:8]
        rise.refunds_sun += amount
        rise.residual_sun -= amount
        holder.refunds_sun -= amount
        holder.residual_sun += amount
        rise.late_refunds.append(LateRefund(pk, short, amount, heard, "rise"))
        holder.late_refunds.append(LateRefund(pk, short, amount, heard, "moved"))


def _spanning_charges(account: ProviderAccount, intervals: list[Interval]) -> list[tuple]:
    """(id, code, sent, submitted_at, cost) of the account's charged orders that could move
    (place_charges_in_span): sent before a short interval ended, submitted_at after it. Only
    asked when an interval is short; few rows (orders in flight across a reading)."""
    short = [iv for iv in intervals if iv.residual_sun < -iv.tolerance_sun]
    if not short:
        return []
    first, last = short[0].ended_at, short[-1].ended_at
    rows = (
        Order.objects.filter(
            money.CHARGED,
            account=account,
            created__lt=last,
            submitted_at__gt=first,
            submitted_at__lte=intervals[-1].ended_at,
        )
        .annotate(charge=money.COST)
        .order_by("submitted_at", "id")
        .values_list("pk", "code", "created", "approved_at", "submitted_at", "charge")
    )
    return [
        (pk, code, approved or created, submitted, charge)
        for pk, code, created, approved, submitted, charge in rows
        if charge
    ]


def place_charges_in_span(intervals: list[Interval], charges: list[tuple]) -> None:
    """Move a confirmed charge to the interval where the balance fell by it (module docstring,
    "Charge span").

    A charge is counted at submitted_at, but the provider charged somewhere between when the
    request left (started_at: approval, else creation) and then; for an answer that was lost,
    submitted_at is when energydash gave up waiting, seconds later, and a reading can fall in
    between. For each such order, the earliest interval ending inside that span whose
    unexplained decrease equals the charge (within the tolerance) takes it from the interval
    holding submitted_at. The money only moves inside the order's own span, so the sums stay
    exact and a decrease nothing explains stays unexplained (in one interval or the other).

    Intervals are in time order (ends ascending, each starting where a reading before it
    ended), so both searches bisect on the ends: O(charges x log intervals) plus the few
    intervals inside each span, not charges x intervals (a busy day at 1M orders: 2,000 charges
    and 900 intervals took half a second)."""
    ends = [iv.ended_at for iv in intervals]
    n = len(intervals)
    for pk, code, sent, submitted, amount in charges:
        holder = None
        for i in range(bisect_left(ends, submitted), n):
            iv = intervals[i]
            if iv.started_at >= submitted:  # starts only grow from here: nothing holds it
                break
            if iv.started_at < submitted <= iv.ended_at:
                holder = iv
                break
        if holder is None:
            continue
        earlier = None
        for i in range(bisect_right(ends, sent), n):
            iv = intervals[i]
            if iv.ended_at > holder.started_at:
                break
            if abs(iv.residual_sun + amount) <= iv.tolerance_sun:
                earlier = iv
                break
        if earlier is None:
            continue
        short = str(code)[:8]
        earlier.charges_sun += amount
        earlier.charged_count += 1
        earlier.residual_sun += amount
        holder.charges_sun -= amount
        holder.charged_count -= 1
        holder.residual_sun -= amount
        earlier.moved_charges.append(MovedCharge(pk, short, amount, submitted, "charged"))
        holder.moved_charges.append(MovedCharge(pk, short, amount, submitted, "moved"))


def _given_up_charges(account: ProviderAccount, intervals: list[Interval]) -> list[tuple]:
    """(id, code, submitted_at, cost) of the account's charged orders recorded in an interval
    that shows a surplus (money recorded as charged that had not left) followed by a short one
    (place_charges_after_give_up). Only asked when both exist; few rows."""
    surplus = [iv for iv in intervals if iv.residual_sun > iv.tolerance_sun]
    short = [iv for iv in intervals if iv.residual_sun < -iv.tolerance_sun]
    if not surplus or not short or surplus[0].ended_at >= short[-1].ended_at:
        return []
    rows = (
        Order.objects.filter(
            money.CHARGED,
            account=account,
            submitted_at__gt=surplus[0].started_at,
            submitted_at__lte=surplus[-1].ended_at,
        )
        .annotate(charge=money.COST)
        .order_by("submitted_at", "id")
        .values_list("pk", "code", "submitted_at", "charge")
    )
    return [row for row in rows if row[3]]


def place_charges_after_give_up(intervals: list[Interval], charges: list[tuple]) -> None:
    """Move a confirmed charge to the interval just after submitted_at where the balance fell
    by it, when the interval holding submitted_at shows that money still there (module
    docstring, "Charge span"): a provider may take the money while energydash, having given up
    waiting (submitted_at), no longer listens. Only within the charge slack after submitted_at
    (ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS, the time reconciliation allows for it), only
    out of a holder whose unexplained rise is at least the charge (it replaces a rise and a fall
    that a timing run would pair anyway, and keeps sums exact), into the first later interval
    whose unexplained decrease is at least the charge."""
    from django.conf import settings

    slack = timedelta(seconds=settings.ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS)
    for pk, code, submitted, amount in charges:
        holder = next((iv for iv in intervals if iv.started_at < submitted <= iv.ended_at), None)
        if holder is None or holder.residual_sun < amount - holder.tolerance_sun:
            continue
        later = next(
            (
                iv
                for iv in intervals
                if holder.ended_at <= iv.started_at < submitted + slack
                and iv.residual_sun <= -amount + iv.tolerance_sun
            ),
            None,
        )
        if later is None:
            continue
        short = str(code)[:8]
        later.charges_sun += amount
        later.charged_count += 1
        later.residual_sun += amount
        holder.charges_sun -= amount
        holder.charged_count -= 1
        holder.residual_sun -= amount
        later.moved_charges.append(MovedCharge(pk, short, amount, submitted, "charged", True))
        holder.moved_charges.append(MovedCharge(pk, short, amount, submitted, "moved", True))


def _cover_possible(account: ProviderAccount, intervals: list[Interval]) -> None:
    """Each interval's possible_cover_sun: the uncertain orders whose request left before it
    ended and whose answer was given up on (submitted_at) after it began. Few rows: only
    orders still unknown or in review, on the index account + status + created.

    At a provider that activates a recipient unasked (Netts), an order whose quote did not
    count activation, to an address not known to be active (no order to it completed before
    this one was sent), may have cost its quote plus the activation fee: it covers both
    (module docstring, "Possible charges")."""
    for iv in intervals:
        iv.possible_cover_sun = iv.possible_sun
    if not intervals:
        return
    lo, hi = intervals[0].started_at, intervals[-1].ended_at
    rows = (
        Order.objects.filter(account=account, status__in=POSSIBLE_STATUSES, created__lte=hi)
        .filter(Q(submitted_at__gt=lo) | Q(submitted_at__isnull=True))
        .annotate(possible=money.COST)
        .values_list(
            "created",
            "submitted_at",
            "possible",
            "cost_sun",
            "quoted_cost_sun",
            "unit_price_sun",
            "energy",
            "receive_address",
        )
    )
    spans = [
        (
            sent,
            given_up,
            cost + _unasked_activation(account, sent, stated, quoted, unit, energy, to),
        )
        for sent, given_up, cost, stated, quoted, unit, energy, to in rows
    ]
    if not spans:
        return
    for iv in intervals:
        iv.possible_cover_sun = sum(
            cost
            for sent, given_up, cost in spans
            if sent < iv.ended_at and (given_up is None or given_up > iv.started_at)
        )


def _unasked_activation(
    account: ProviderAccount,
    sent: datetime,
    stated: int | None,
    quoted: int | None,
    unit: Any,
    energy: int | None,
    address: str,
) -> int:
    """The activation an unresolved order may have been charged beyond its quote (0 when the
    provider stated its charge, the quote counted activation, the provider never activates
    unasked, or an order to the address completed before this one was sent)."""
    if stated is not None:
        return 0
    fee = unquoted_activation_sun(account.provider, quoted, unit, energy)
    if not fee:
        return 0
    active = Order.objects.filter(
        receive_address=address, status=OrderStatus.COMPLETED, finished_at__lte=sent
    ).exists()
    return 0 if active else fee


def mark_timing(intervals: list[Interval]) -> None:
    """Mark runs of neighbouring intervals whose unexplained changes cancel (module docstring).

    From each interval outside its tolerance, add the following residuals until the sum is back
    within tolerance; the run counts if its closing interval starts within TIMING_WINDOW of the
    opening interval's end. Runs do not overlap; sums stay exact (only the verdict changes).
    """
    n, i = len(intervals), 0
    while i < n:
        opening = intervals[i]
        closed = None
        if not opening.within_tolerance and not opening.timing:
            total = opening.residual_sun
            for j in range(i + 1, n):
                iv = intervals[j]
                if iv.start_id != intervals[j - 1].end_id:
                    break
                if iv.started_at - opening.ended_at > TIMING_WINDOW:
                    break
                total += iv.residual_sun
                if abs(total) <= opening.tolerance_sun:
                    closed = j
                    break
        if closed is None:
            i += 1
            continue
        for iv in intervals[i : closed + 1]:
            if not iv.within_tolerance:
                iv.timing = True
        i = closed + 1
