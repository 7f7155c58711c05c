"""Bulk orders: parse, plan, run (each line routed as its own order), cancel, report.

Each line's route key is "batch:<batch code>:<line number>", so running a batch again (after a
crash, a cancel, or a second `place_batch` of the same file) skips every line already placed
and never sends a line twice.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from energydash.batches.models import Batch, BatchLine
from energydash.core.models import AuditEvent
from energydash.lib.tron import InvalidAddress, exact_trx, validate_address
from energydash.orders.models import SPEND_STATUSES, Order, Route
from energydash.orders.money import SPEND
from energydash.orders.routing import RouteRequest, candidates, no_route_problem, route_order

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


def needs_approval(batch: Batch) -> bool:
    """Planned total above ENERGYDASH_BATCH_APPROVAL_ABOVE_TRX and not yet approved."""
    threshold = settings.ENERGYDASH_BATCH_APPROVAL_ABOVE_SUN
    return (
        threshold is not None and batch.planned_total_sun > threshold and batch.approved_at is None
    )


def start(batch: Batch) -> bool:
    """Confirm a planned (or resume a cancelled) batch and queue it for the worker; a batch
    that needs approval goes to "awaiting approval" instead and nothing is placed."""
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
    return queue(batch, resumable)


def queue(batch: Batch, from_statuses: tuple[str, ...], **fields: Any) -> bool:
    """From one of `from_statuses` to queued, once (a conditional UPDATE), and hand it to the
    worker after the commit."""
    from django_q.tasks import async_task

    with transaction.atomic():
        queued = Batch.objects.filter(pk=batch.pk, status__in=from_statuses).update(
            status=Batch.Status.QUEUED, cancel_requested=False, finished_at=None, **fields
        )
        if not queued:
            return False
        batch.lines.filter(status=BatchLine.Status.CANCELLED).update(
            status=BatchLine.Status.PENDING
        )
        transaction.on_commit(
            lambda: async_task("energydash.batches.tasks.run_batch", batch.pk, group="batches")
        )
    batch.refresh_from_db()
    return True


def cancel(batch: Batch) -> bool:
    """Stop after the line being placed now; a planned batch is simply not run."""
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
    return done


def run_batch(
    batch_id: int,
    *,
    client: httpx.Client | None = None,
    budget_seconds: float | None = None,
) -> Batch | None:
    """Place every pending line in order; stops early when cancelled. Safe to run again.

    With budget_seconds, returns once that time is used up, leaving the batch running with lines
    pending: the worker task then queues the next slice, so no single task outlives django-q2's
    timeout however long the batch is.
    """
    claimed = Batch.objects.filter(
        pk=batch_id, status__in=(Batch.Status.QUEUED, Batch.Status.RUNNING)
    ).update(status=Batch.Status.RUNNING)
    batch = Batch.objects.filter(pk=batch_id).first()
    if not claimed or batch is None:
        return batch
    if batch.started_at is None:
        Batch.objects.filter(pk=batch_id).update(started_at=timezone.now())
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    for line in batch.lines.filter(status=BatchLine.Status.PENDING).order_by("number"):
        if Batch.objects.filter(pk=batch_id, cancel_requested=True).exists():
            batch.lines.filter(status=BatchLine.Status.PENDING).update(
                status=BatchLine.Status.CANCELLED
            )
            Batch.objects.filter(pk=batch_id).update(
                status=Batch.Status.CANCELLED, finished_at=timezone.now()
            )
            batch.refresh_from_db()
            return batch
        run_line(batch, line, client=client)
        if deadline is not None and time.monotonic() >= deadline:
            break  # at least one line per slice, so every slice makes progress
    if not batch.lines.filter(status=BatchLine.Status.PENDING).exists():
        Batch.objects.filter(pk=batch_id, status=Batch.Status.RUNNING).update(
            status=Batch.Status.FINISHED, finished_at=timezone.now()
        )
    batch.refresh_from_db()
    return batch


LINE_STATUS = {
    Route.Status.PLACED: BatchLine.Status.PLACED,
    Route.Status.FAILED: BatchLine.Status.FAILED,
    Route.Status.UNKNOWN: BatchLine.Status.REVIEW,
    # The line's order is above its account's approval threshold: it waits for a person.
    Route.Status.AWAITING: BatchLine.Status.AWAITING,
}


def run_line(batch: Batch, line: BatchLine, *, client: httpx.Client | None = None) -> BatchLine:
    route, _same = route_order(
        f"batch:{batch.code}:{line.number}",
        _request(batch, line),
        via=batch.via,
        actor=batch.created_by,
        token=batch.token,
        client=client,
        wait_seconds=30,
    )
    if route.status == Route.Status.PENDING:  # another worker is on this line; leave it pending
        return line
    line.route = route
    line.order = route.order
    line.status = LINE_STATUS[route.status]
    line.error = route.problem
    line.save(update_fields=["route", "order", "status", "error"])
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
