"""Bulk orders: parse, plan, run (each line routed as its own order), cancel, report.

Each line's route key is "batch:<batch code>:<line number>", so running a batch again (after a
crash, a cancel, or a second `place_batch` of the same file) skips every line already placed
and never sends a line twice.
"""

from __future__ import annotations

import csv
import functools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from energydash.batches.models import Batch, BatchLine
from energydash.core.models import AuditEvent
from energydash.core.roles import ADMIN
from energydash.lib.tron import InvalidAddress, exact_trx, validate_address
from energydash.orders import placement
from energydash.orders.activation import known_active
from energydash.orders.candidates import Candidate
from energydash.orders.models import SPEND_STATUSES, Order, Route
from energydash.orders.money import SPEND
from energydash.orders.routing import RouteRequest, candidates, no_route_problem, route_order
from energydash.orders.spec import adapter_class
from energydash.providers.models import ProviderAccount

logger = logging.getLogger("energydash.batches")

MAX_LINES = 5000
MAX_ENERGY = 100_000_000


@dataclass(frozen=True)
class ParsedLine:
    number: int
    address: str
    energy: int


@dataclass(frozen=True)
class LineError:
    number: int
    text: str
    error: str


def parse(text: str, default_energy: int) -> tuple[list[ParsedLine], list[LineError]]:
    """Lines of `address` or `address,energy` (CSV; a header row is skipped; blanks ignored)."""
    rows: list[tuple[int, list[str] | None, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            cells = next(csv.reader([raw]), [])
        except csv.Error:
            cells = None
        rows.append((number, cells, raw[:120]))
    if rows and rows[0][1] and rows[0][1][0].strip().lower() == "address":
        rows = rows[1:]
    return parse_rows(rows, default_energy)


def parse_rows(
    rows: list[tuple[int, list[str] | None, str]], default_energy: int
) -> tuple[list[ParsedLine], list[LineError]]:
    """Check each (line number, cells, original text): address, then optional energy."""
    lines: list[ParsedLine] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for number, row, raw in rows:
        cells = [c.strip() for c in row] if row is not None else None
        if cells is not None and not any(cells):
            continue
        if cells is None or (len(cells) > 2 and any(cells[2:])):
            errors.append(LineError(number, raw, "Expected 'address' or 'address,energy'."))
            continue
        try:
            address = validate_address(cells[0])
        except InvalidAddress as exc:
            errors.append(LineError(number, raw, f"Not a valid TRON address: {exc}."))
            continue
        energy = default_energy
        if len(cells) > 1 and cells[1]:
            amount = cells[1].replace("_", "").replace(",", "")
            if not amount.isdigit() or not 0 < int(amount) <= MAX_ENERGY:
                errors.append(
                    LineError(
                        number, raw, f"Energy must be a whole number from 1 to {MAX_ENERGY:,}."
                    )
                )
                continue
            energy = int(amount)
        if address in seen:
            errors.append(LineError(number, raw, f"Same address as line {seen[address]}."))
            continue
        seen[address] = number
        lines.append(ParsedLine(number, address, energy))
    if len(lines) > MAX_LINES:
        errors.append(LineError(0, "", f"At most {MAX_LINES:,} addresses per batch."))
    return lines, errors


def create_batch(
    lines: list[ParsedLine],
    *,
    period: str,
    via: str,
    activate: bool = False,
    max_cost_sun: int | None = None,
    actor: Any = None,
    token: Any = None,
    key: str | None = None,
    digest: str = "",
) -> Batch:
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        batch = Batch.objects.create(
            key=key,
            body_hash=digest,
            via=via,
            created_by=user,
            token=token,
            period=period,
            activate=activate,
            max_cost_sun=max_cost_sun,
        )
        BatchLine.objects.bulk_create(
            BatchLine(batch=batch, number=i, address=line.address, energy=line.energy)
            for i, line in enumerate(lines, start=1)
        )
    return batch


def _request(batch: Batch, line: BatchLine) -> RouteRequest:
    return RouteRequest(
        receive_address=line.address,
        energy=line.energy,
        period=batch.period,
        activate=batch.activate,
        max_cost_sun=batch.max_cost_sun,
    )


def plan(batch: Batch, *, client: httpx.Client | None = None) -> Batch:
    """Route every line on paper: the account and price it would go to now, and the total.

    Prices do not depend on the address (without activation), so each distinct energy amount
    is quoted once rather than once per line.
    """
    lines = list(batch.lines.all())
    by_energy: dict[int, tuple[Any, int | None, str]] = {}
    for line in lines:
        if line.energy not in by_energy:
            rows = candidates(_request(batch, line), client=client)
            top = rows[0] if rows and rows[0].eligible else None
            by_energy[line.energy] = (
                (top.account, top.price_sun, "") if top else (None, None, no_route_problem(rows))
            )
        line.plan_account, line.plan_price_sun, line.plan_error = by_energy[line.energy]
    BatchLine.objects.bulk_update(lines, ["plan_account", "plan_price_sun", "plan_error"])
    batch.planned_total_sun = sum(line.plan_price_sun or 0 for line in lines)
    batch.save(update_fields=["planned_total_sun"])
    return batch


def lease_seconds() -> float:
    return float(settings.ENERGYDASH_BATCH_LEASE_SECONDS)


def stalled(batch: Batch, now: datetime | None = None) -> bool:
    """Queued or running, and no worker has held its lease for a whole lease period: the worker
    died (or was never started). A slice handing over to the next is not stalled."""
    if batch.status not in (Batch.Status.QUEUED, Batch.Status.RUNNING):
        return False
    now = now or timezone.now()
    last_alive = batch.lease_until or batch.queued_at or batch.started_at or batch.created
    return last_alive < now - timedelta(seconds=lease_seconds())


def _queue(batch_id: int) -> None:
    from django_q.tasks import async_task

    async_task("energydash.batches.tasks.run_batch", batch_id, group="batches")


def needs_approval(batch: Batch) -> bool:
    """Planned total above ENERGYDASH_BATCH_APPROVAL_ABOVE_TRX and not yet approved."""
    threshold = settings.ENERGYDASH_BATCH_APPROVAL_ABOVE_SUN
    return (
        threshold is not None and batch.planned_total_sun > threshold and batch.approved_at is None
    )


def start(batch: Batch) -> bool:
    """Confirm a planned batch, resume a cancelled one, or resume a stalled one (its worker
    died): queue it for a worker. A batch that needs approval goes to "awaiting approval"
    instead and nothing is placed. False when there is nothing to start (running live, finished).
    """
    resumable = (Batch.Status.PLANNED, Batch.Status.CANCELLED)
    if needs_approval(batch):
        asked = Batch.objects.filter(pk=batch.pk, status__in=resumable).update(
            status=Batch.Status.AWAITING,
            cancel_requested=False,
            finished_at=None,
            approval_requested_at=timezone.now(),
        )
        batch.refresh_from_db()
        if asked:
            AuditEvent.record(
                "batch.approval_requested",
                batch,
                actor=batch.created_by,
                actor_label=batch.via,
                details={"planned_total_sun": batch.planned_total_sun},
            )
        return bool(asked)
    return queue_batch(batch, resumable)


def queue_batch(batch: Batch, from_statuses: tuple[str, ...], **fields: Any) -> bool:
    """From one of `from_statuses` to queued, once (a conditional UPDATE), or resume a stalled
    batch; hand it to the worker after the commit."""
    now = timezone.now()
    with transaction.atomic():
        queued = Batch.objects.filter(pk=batch.pk, status__in=from_statuses).update(
            status=Batch.Status.QUEUED,
            cancel_requested=False,
            finished_at=None,
            queued_at=now,
            **fields,
        )
        if not queued:
            batch.refresh_from_db()
            if not stalled(batch, now):
                return False
            # Resume: the lapsed lease lets the next worker take it from the last settled line.
            Batch.objects.filter(pk=batch.pk).update(queued_at=now)
        batch.lines.filter(status=BatchLine.Status.CANCELLED).update(
            status=BatchLine.Status.PENDING
        )
        transaction.on_commit(lambda: _queue(batch.pk))
    batch.refresh_from_db()
    return True


def resume_stalled(now: datetime | None = None) -> list[Batch]:
    """The watchdog (every minute): queue every stalled batch again, and raise one alert for
    each stalled longer than ENERGYDASH_BATCH_STALL_ALERT_MINUTES. Returns the stalled batches.
    """
    now = now or timezone.now()
    horizon = now - timedelta(seconds=lease_seconds())
    lapsed = Q(lease_until__lt=horizon) | Q(lease_until__isnull=True, queued_at__lt=horizon)
    found = list(
        Batch.objects.filter(lapsed, status__in=(Batch.Status.QUEUED, Batch.Status.RUNNING))
    )
    alert_after = timedelta(minutes=settings.ENERGYDASH_BATCH_STALL_ALERT_MINUTES)
    for batch in found:
        if not stalled(batch, now):
            continue
        _queue(batch.pk)
        last_alive = batch.lease_until or batch.queued_at or batch.created
        if last_alive < now - alert_after:
            _alert_stalled(batch, last_alive, now)
    return found


def _alert_stalled(batch: Batch, since: datetime, now: datetime) -> bool:
    """One alert per stall: claimed with a conditional UPDATE, so two watchdogs send one."""
    claimed = Batch.objects.filter(pk=batch.pk, stall_alerted_at__isnull=True).update(
        stall_alerted_at=now
    )
    if not claimed:
        return False
    figures = progress(batch)
    minutes = int((now - since).total_seconds() // 60)
    text = (
        f"Batch {batch.short_code} has had no live worker for {minutes} minutes with "
        f"{figures['remaining']} of {figures['total']} lines still pending. It has been queued "
        "again; if no worker takes it, check that the qcluster is running, then press Resume "
        "on the batch page."
    )
    logger.error("batch %s stalled: %s", batch.short_code, text)
    AuditEvent.record(
        "batch.stalled",
        batch,
        actor_label="batches:watchdog",
        details={"batch": str(batch.code), "minutes": minutes, **figures},
    )
    recipients = _admin_emails()
    if recipients:
        try:
            send_mail(f"Batch {batch.short_code} is stalled", text, None, recipients)
        except Exception:  # the audit row and the log line stand; the e-mail is best effort
            logger.exception("could not e-mail the stall of batch %s", batch.short_code)
    return True


def _admin_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    admins = users.filter(groups__name=ADMIN) | users.filter(is_superuser=True)
    return sorted(set(admins.values_list("email", flat=True)))


def cancel(batch: Batch) -> bool:
    """Stop after the lines being placed now; a planned batch is simply not run."""
    if Batch.objects.filter(pk=batch.pk, status=Batch.Status.PLANNED).update(
        status=Batch.Status.CANCELLED, finished_at=timezone.now()
    ):
        batch.refresh_from_db()
        return True
    changed = Batch.objects.filter(
        pk=batch.pk, status__in=(Batch.Status.QUEUED, Batch.Status.RUNNING)
    )
    done = bool(changed.update(cancel_requested=True))
    batch.refresh_from_db()
    if done and stalled(batch):  # no worker will ever see the request: cancel it here
        _cancel_pending(batch.pk)
        batch.refresh_from_db()
    return done


def _cancel_pending(batch_id: int) -> None:
    BatchLine.objects.filter(batch_id=batch_id, status=BatchLine.Status.PENDING).update(
        status=BatchLine.Status.CANCELLED
    )
    Batch.objects.filter(pk=batch_id).update(
        status=Batch.Status.CANCELLED,
        finished_at=timezone.now(),
        lease_owner="",
        lease_until=timezone.now(),
    )


class Lease:
    """A worker's hold on a batch: taken with one conditional UPDATE (one holder at a time),
    renewed by a heartbeat every third of ENERGYDASH_BATCH_LEASE_SECONDS, given up at the end of
    a slice. A worker that dies stops renewing it, and once it lapses another worker takes it
    and resumes from the last settled line. If a renewal finds the lease taken (this worker was
    frozen past it), `lost` is set and the worker stops sending new lines.
    """

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        self.owner = uuid.uuid4().hex
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0

    def acquire(self) -> tuple[bool, str]:
        """Take the lease if free or lapsed; (taken, the previous owner)."""
        now = timezone.now()
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner="")
        rows = Batch.objects.filter(
            free, pk=self.batch_id, status__in=(Batch.Status.QUEUED, Batch.Status.RUNNING)
        )
        previous = rows.values_list("lease_owner", flat=True).first()
        taken = rows.update(
            status=Batch.Status.RUNNING,
            lease_owner=self.owner,
            lease_until=now + timedelta(seconds=lease_seconds()),
            stall_alerted_at=None,
        )
        self._renewed = time.monotonic()
        return bool(taken), previous or ""

    def renew(self) -> bool:
        now = timezone.now()
        kept = Batch.objects.filter(pk=self.batch_id, lease_owner=self.owner).update(
            lease_until=now + timedelta(seconds=lease_seconds())
        )
        self._renewed = time.monotonic()
        if not kept:
            self.lost.set()
        return bool(kept)

    def renew_if_due(self) -> None:
        """Renew inline (when no heartbeat thread runs: inside a test's transaction)."""
        if self._thread is None and time.monotonic() - self._renewed >= lease_seconds() / 3:
            self.renew()

    def start_heartbeat(self) -> None:
        def beat() -> None:
            try:
                while not self._stop.wait(lease_seconds() / 3):
                    try:
                        if not self.renew():
                            return
                    except Exception:  # the database is away: try again next beat
                        logger.exception("batch %s heartbeat failed", self.batch_id)
            finally:
                connection.close()

        self._thread = threading.Thread(target=beat, name=f"batch-{self.batch_id}-lease")
        self._thread.daemon = True
        self._thread.start()

    def release(self) -> None:
        """Give the lease up (the end of a slice): the next slice takes it at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        Batch.objects.filter(pk=self.batch_id, lease_owner=self.owner).update(
            lease_owner="", lease_until=timezone.now()
        )


def run_batch(
    batch_id: int,
    *,
    client: httpx.Client | None = None,
    budget_seconds: float | None = None,
    concurrency: int | None = None,
) -> Batch | None:
    """Place every pending line; stops early when cancelled. Safe to run again, and at once.

    The run holds the batch's lease (Lease): a second worker finds it held and returns. When the
    lease was taken over from a worker that died, the routes that worker left half way are
    resumed: each line's route key "batch:<code>:<number>" and each attempt's order key make
    every line be sent at most once, whoever resumes it.

    Lines run `concurrency` at a time per account (ENERGYDASH_BATCH_CONCURRENCY), in threads
    that wait on the provider. With budget_seconds, returns once that time is used up, leaving
    the batch running with lines pending: the worker task then queues the next slice, so no
    single task outlives django-q2's timeout however long the batch is.
    """
    lease = Lease(batch_id)
    taken, previous = lease.acquire()
    batch = Batch.objects.filter(pk=batch_id).first()
    if not taken or batch is None:
        return batch
    batch.slice_ran = True  # type: ignore[attr-defined]  (tasks.py: queue the next slice)
    if previous:
        _take_over_routes(batch)
    in_transaction = connection.in_atomic_block
    if not in_transaction:
        lease.start_heartbeat()
    try:
        if batch.started_at is None:
            Batch.objects.filter(pk=batch_id).update(started_at=timezone.now())
        per_account = concurrency or settings.ENERGYDASH_BATCH_CONCURRENCY
        sequential = in_transaction or per_account <= 1
        runner = _Runner(batch, lease, client, per_account, sequential)
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        cancelled = runner.run(deadline)
    finally:
        lease.release()
    if cancelled:
        _cancel_pending(batch_id)
    elif not batch.lines.filter(status=BatchLine.Status.PENDING).exists():
        Batch.objects.filter(pk=batch_id, status=Batch.Status.RUNNING).update(
            status=Batch.Status.FINISHED, finished_at=timezone.now()
        )
    batch.refresh_from_db()
    batch.slice_ran = True  # type: ignore[attr-defined]
    return batch


def _take_over_routes(batch: Batch) -> None:
    """A dead worker's half-routed lines: their routes' claims end now (the lease proved it
    dead), so this worker resumes them; an attempt it had sent is found by its key, not sent."""
    Route.objects.filter(
        key__startswith=f"batch:{batch.code}:", status=Route.Status.PENDING
    ).update(claimed_until=None)


class _Runner:
    """Feeds the pending lines to a pool, `per_account` at a time for each account."""

    def __init__(
        self,
        batch: Batch,
        lease: Lease,
        client: httpx.Client | None,
        per_account: int,
        sequential: bool,
    ) -> None:
        self.batch, self.lease, self.client = batch, lease, client
        self.per_account, self.sequential = per_account, sequential
        self.quotes = LineQuotes(batch, client)
        self.slots: dict[int, threading.BoundedSemaphore] = {}
        self.gates: dict[int, threading.BoundedSemaphore] = {}
        self._gates_lock = threading.Lock()

    # Two bounds per account: `per_account` placing requests in flight (the gate, held only
    # around the send: placement.send_gate), and twice that many lines in progress (the slot),
    # so a line's database work before and after its send overlaps another line's send
    # instead of holding one of the account's requests.
    LINES_PER_SEND = 2

    def _slot(self, account_id: int) -> threading.BoundedSemaphore:
        if account_id not in self.slots:
            self.slots[account_id] = threading.BoundedSemaphore(
                self.per_account * self.LINES_PER_SEND
            )
        return self.slots[account_id]

    def _gate(self, account_id: int) -> threading.BoundedSemaphore:
        with self._gates_lock:
            if account_id not in self.gates:
                self.gates[account_id] = threading.BoundedSemaphore(self.per_account)
            return self.gates[account_id]

    def _cancelled(self) -> bool:
        return Batch.objects.filter(pk=self.batch.pk, cancel_requested=True).exists()

    def run(self, deadline: float | None) -> bool:
        """Run lines until none is pending, the deadline, a cancel or a lost lease; True when
        cancelled."""
        pending = list(self.batch.lines.filter(status=BatchLine.Status.PENDING).order_by("number"))
        if self.sequential:
            for line in pending:
                if self._cancelled():
                    return True
                if self.lease.lost.is_set():
                    return False
                self.lease.renew_if_due()
                run_line(self.batch, line, client=self.client, first=self.quotes.get(line))
                if deadline is not None and time.monotonic() >= deadline:
                    break  # at least one line per slice, so every slice makes progress
            return False
        accounts = max(1, ProviderAccount.objects.filter(enabled=True).count())
        failures: list[BaseException] = []
        pool = _Pool(min(len(pending), self.per_account * self.LINES_PER_SEND * accounts))
        cancelled = False
        try:
            for n, line in enumerate(pending):
                if n % self.per_account == 0 and self._cancelled():
                    cancelled = True
                    break
                if self.lease.lost.is_set() or failures:
                    break
                first = self.quotes.get(line)
                slot = self._slot(first.account.pk if first is not None else 0)
                slot.acquire()
                pool.submit(functools.partial(self._line, line, first, slot, failures))
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            pool.join()  # every line sent is waited for, whatever stopped the feeding
        if failures:
            raise failures[0]
        return cancelled

    def _line(
        self,
        line: BatchLine,
        first: Candidate | None,
        slot: threading.BoundedSemaphore,
        failures: list[BaseException],
    ) -> None:
        gated = placement.send_gate.set(self._gate)
        try:
            run_line(self.batch, line, client=self.client, first=first)
            if line.status == BatchLine.Status.FAILED and first is not None:
                self.quotes.forget(line)  # a refused price: the next line asks again
        except BaseException as exc:  # a database error: the lease lapses, a worker resumes
            logger.exception("batch %s line %s failed", self.batch.short_code, line.number)
            failures.append(exc)
        finally:
            placement.send_gate.reset(gated)
            slot.release()


class _Pool:
    """Threads that run the lines they are handed, each on one database connection of its own
    for the whole run (closed when it ends), not one connection per line."""

    def __init__(self, size: int) -> None:
        self.jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._work, name=f"batch-line-{i}", daemon=True)
            for i in range(max(1, size))
        ]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                job()
        finally:
            connection.close()

    def submit(self, job: Callable[[], None]) -> None:
        self.jobs.put(job)

    def join(self) -> None:
        for _thread in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join()


class LineQuotes:
    """The quote each line is placed on, shared by the lines of a run (issue 23: provider calls).

    Lines of one energy amount share one routing quote while it is fresh
    (ENERGYDASH_QUOTE_VALID_SECONDS): the first line asks every account, the next lines are
    placed on that answer without asking again, and a stale or refused quote is asked again.
    Without `activate`, a price depends on the address only where the provider activates an
    inactive recipient unasked, at cost (Netts): its quote is shared when it counted activation
    (an upper bound for any address), else only with addresses known to be active. The others
    charge no activation unless asked (TronZap refuses an inactive address, nothing charged).
    With `activate` each line quotes for itself, as the cost then depends on the address.
    """

    def __init__(self, batch: Batch, client: httpx.Client | None) -> None:
        self.batch, self.client = batch, client
        self._lock = threading.Lock()
        self._by_energy: dict[int, Candidate] = {}

    def get(self, line: BatchLine) -> Candidate | None:
        if self.batch.activate:
            return None
        with self._lock:
            found = self._by_energy.get(line.energy)
        if found is not None and found.fresh() and self._fits(found, line.address):
            return found
        rows = candidates(_request(self.batch, line), client=self.client)
        top = rows[0] if rows and rows[0].eligible else None
        with self._lock:
            if top is not None:
                self._by_energy[line.energy] = top
            else:
                self._by_energy.pop(line.energy, None)
        return top

    def forget(self, line: BatchLine) -> None:
        with self._lock:
            self._by_energy.pop(line.energy, None)

    @staticmethod
    def _fits(found: Candidate, address: str) -> bool:
        quote = found.quote
        if quote is None or quote.activation_sun:  # activation counted: an upper bound
            return True
        if adapter_class(found.account).activates_unasked:
            return known_active(address)
        return True


LINE_STATUS = {
    Route.Status.PLACED: BatchLine.Status.PLACED,
    Route.Status.FAILED: BatchLine.Status.FAILED,
    Route.Status.UNKNOWN: BatchLine.Status.REVIEW,
    # The line's order is above its account's approval threshold: it waits for a person.
    Route.Status.AWAITING: BatchLine.Status.AWAITING,
}


def run_line(
    batch: Batch,
    line: BatchLine,
    *,
    client: httpx.Client | None = None,
    first: Candidate | None = None,
) -> BatchLine:
    route, _same = route_order(
        f"batch:{batch.code}:{line.number}",
        _request(batch, line),
        via=batch.via,
        actor=batch.created_by,
        token=batch.token,
        client=client,
        wait_seconds=30,
        first=first,
    )
    if route.status == Route.Status.PENDING:  # another worker is on this line; leave it pending
        return line
    line.route = route
    line.order = route.order
    line.status = LINE_STATUS[route.status]
    line.error = route.problem
    # Only a pending line settles: the route decides the outcome once, and a line two workers
    # both finish is written once (the second finds it settled).
    BatchLine.objects.filter(pk=line.pk, status=BatchLine.Status.PENDING).update(
        route=route, order=route.order, status=line.status, error=line.error
    )
    return line


def progress(batch: Batch) -> dict[str, Any]:
    counts = dict(
        batch.lines.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    total = sum(counts.values())
    spent = Order.objects.filter(
        pk__in=batch.lines.filter(order__isnull=False).values("order_id"),
        status__in=SPEND_STATUSES,
    ).aggregate(total=Sum(SPEND))["total"]
    placed = counts.get(BatchLine.Status.PLACED, 0)
    failed = counts.get(BatchLine.Status.FAILED, 0)
    review = counts.get(BatchLine.Status.REVIEW, 0)
    remaining = counts.get(BatchLine.Status.PENDING, 0)
    awaiting = counts.get(BatchLine.Status.AWAITING, 0)
    handled = placed + failed + review + awaiting
    return {
        "total": total,
        "placed": placed,
        "failed": failed,
        "review": review,
        "awaiting": awaiting,
        "cancelled": counts.get(BatchLine.Status.CANCELLED, 0),
        "remaining": remaining,
        "handled": handled,
        "percent": round(100 * handled / total) if total else 100,
        "spent_sun": int(spent or 0),
    }


RESULT_COLUMNS = (
    "line",
    "address",
    "energy",
    "line_status",
    "account",
    "order_id",
    "order_status",
    "cost_trx",
    "error",
)


def result_rows(batch: Batch) -> list[list[str]]:
    rows = []
    for line in batch.lines.select_related("order__account"):
        order = line.order
        cost = None
        if order is not None:
            cost = order.cost_sun if order.cost_sun is not None else order.quoted_cost_sun
        rows.append(
            [
                str(line.number),
                line.address,
                str(line.energy),
                line.status,
                order.account.name if order else "",
                str(order.code) if order else "",
                order.status if order else "",
                exact_trx(cost) or "",
                line.error,
            ]
        )
    return rows
