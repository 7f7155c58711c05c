"""/api/v1/: quotes, routed orders with idempotency keys, balances, health, batches."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection
from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, NinjaAPI, Query

from energydash.api import problems
from energydash.api.auth import TokenAuth, require_operator
from energydash.api.events import router as events_router
from energydash.api.models import ApiToken
from energydash.api.problems import Problem
from energydash.api.schemas import (
    BalanceOut,
    BatchIn,
    BatchOut,
    HealthOut,
    OrderDetail,
    OrderIn,
    OrderPage,
    Period,
    QuoteOut,
)
from energydash.api.serializers import detail_json, order_json, route_attempts, trx
from energydash.lib.tron import InvalidAddress, parse_trx, validate_address
from energydash.orders.models import OPEN, Order, Route, Status
from energydash.orders.paging import PAGE_SIZES, SORTS, BadCursor, keyset_page
from energydash.orders.routing import RouteRequest, body_hash, candidates, route_order
from energydash.providers.models import ProviderAccount

api = NinjaAPI(
    title="energydash API",
    version="1",
    description="Rent TRON energy through the cheapest eligible provider account. "
    "Authenticate with 'Authorization: Bearer <token>'. Errors are RFC 9457 problem details "
    "with a stable `code`. Money is integer sun, with exact TRX strings beside it.",
    urls_namespace="api",
    auth=TokenAuth(),
)
problems.install(api)
# GET /api/v1/events (api/events.py): the webhook events to catch up after downtime.
api.add_router("/events", events_router)

STATUS_FILTERS = [*Status.values, "open"]

# ISO 8601 and PostgreSQL allow offsets up to ±15:59; a larger one is refused, not sent on.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


def _address(value: str) -> str:
    try:
        return validate_address(value.strip())
    except InvalidAddress as exc:
        raise Problem(422, "invalid_address", f"Not a valid TRON address: {exc}.") from None


def _sun(value: Decimal | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_trx(str(value))
    except ValueError as exc:
        raise Problem(422, "invalid_amount", f"{field}: {exc}") from None


def _account(name_or_id: str | None) -> ProviderAccount | None:
    if not name_or_id:
        return None
    accounts = ProviderAccount.objects.filter(enabled=True)
    try:
        found = accounts.filter(code=uuid.UUID(name_or_id)).first()
    except ValueError:
        found = accounts.filter(name=name_or_id).first()
    if found is None:
        raise Problem(
            422,
            "unknown_account",
            f"No enabled provider account named {name_or_id!r}. GET /api/v1/quotes lists them; "
            "omit `account` to route to the cheapest.",
        )
    return found


@api.get("/quotes", response=list[QuoteOut], summary="Prices from every enabled account")
def quotes(
    request: HttpRequest,
    energy: int = Query(..., ge=1, le=100_000_000),
    period: Period = "1H",
    address: str = Query(..., min_length=1, max_length=64),
) -> list[dict]:
    wanted = RouteRequest(receive_address=_address(address), energy=energy, period=period)
    rows = candidates(wanted)
    return [
        {
            "account": c.account.name,
            "account_id": str(c.account.code),
            "provider": c.account.provider,
            "priority": c.account.priority,
            "total_sun": c.price_sun,
            "total_trx": trx(c.price_sun),
            "eligible": c.eligible,
            "reason": c.reason,
            "best": i == 0 and c.eligible,
        }
        for i, c in enumerate(rows)
    ]


@api.post(
    "/orders",
    response={200: OrderDetail},
    summary="Place an order, routed to the cheapest eligible account (idempotent)",
)
def create_order(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
) -> dict:
    token: ApiToken = request.auth
    require_operator(token)
    wanted = RouteRequest(
        receive_address=_address(payload.address),
        energy=payload.energy,
        period=payload.period,
        activate=payload.activate,
        account=_account(payload.account),
        max_cost_sun=_sun(payload.max_cost_trx, "max_cost_trx"),
    )
    digest = body_hash(payload.model_dump(mode="json"))
    key = f"api:{token.pk}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    route, same_body = route_order(
        key,
        wanted,
        via=token.placed_via,
        token=token,
        digest=digest,
        wait_seconds=settings.ENERGYDASH_API_IDEMPOTENCY_WAIT_SECONDS,
    )
    if not same_body:
        raise Problem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body; nothing was "
            "sent. Use a new key for a new order.",
        )
    return _route_result(route)


def _route_result(route: Route) -> dict:
    if route.status == Route.Status.PENDING:
        raise Problem(
            409,
            "request_in_progress",
            "An earlier request with this Idempotency-Key is still being placed; retry with the "
            "same key and body to get its result.",
            headers={"Retry-After": "2"},
        )
    if route.order is None:
        raise Problem(
            422,
            "no_route",
            route.problem or "No account could take this order; nothing was charged.",
            attempts=route_attempts(route),
        )
    return detail_json(Order.objects.select_related("account").get(pk=route.order_id))


@api.get("/orders/{order_id}", response=OrderDetail, summary="One order with its attempts")
def get_order(request: HttpRequest, order_id: uuid.UUID) -> dict:
    order = Order.objects.select_related("account").filter(code=order_id).first()
    if order is None:
        raise Problem(404, "order_not_found", f"No order with id {order_id}.")
    return detail_json(order)


@api.get("/orders", response=OrderPage, summary="Orders, newest first, keyset paginated")
def list_orders(
    request: HttpRequest,
    status: str | None = Query(None, description="An order status, or 'open'."),
    since: datetime | None = Query(None, description="Only orders created at or after this."),  # noqa: B008
    cursor: str | None = Query(None, max_length=200, description="The last next_cursor."),
    limit: int = Query(50, description=f"Page size: one of {', '.join(map(str, PAGE_SIZES))}."),
) -> dict:
    rows = Order.objects.select_related("account")
    if status:
        if status not in STATUS_FILTERS:
            raise Problem(
                422, "invalid_status", f"status must be one of {', '.join(STATUS_FILTERS)}."
            )
        rows = rows.filter(status__in=OPEN) if status == "open" else rows.filter(status=status)
    if since is not None:
        if timezone.is_naive(since):
            raise Problem(422, "invalid_since", "Give `since` with a time zone, e.g. ...Z.")
        if abs(since.utcoffset() or timedelta()) > MAX_UTC_OFFSET:
            raise Problem(
                422,
                "invalid_since",
                "The time zone offset of `since` must be within ±15:59, e.g. +08:00 or Z.",
            )
        rows = rows.filter(created__gte=since.astimezone(UTC))
    if limit not in PAGE_SIZES:
        raise Problem(
            422, "invalid_limit", f"limit must be one of {', '.join(map(str, PAGE_SIZES))}."
        )
    try:
        page = keyset_page(rows, SORTS["-created"], after=cursor or "", size=limit)
    except BadCursor:
        raise Problem(
            422, "invalid_cursor", "The cursor is not one this API returned; start without it."
        ) from None
    next_cursor = page.next_cursor if page.has_next else None
    return {"items": [order_json(o) for o in page.rows], "next_cursor": next_cursor}


@api.get("/balances", response=list[BalanceOut], summary="Last known balance of every account")
def balances(request: HttpRequest) -> list[dict]:
    from energydash.balances.models import AccountBalanceState

    states = {s.account_id: s for s in AccountBalanceState.objects.all()}
    result = []
    for account in ProviderAccount.objects.all():
        state = states.get(account.pk)
        balance = state.balance_sun if state else None
        result.append(
            {
                "account": account.name,
                "account_id": str(account.code),
                "provider": account.provider,
                "enabled": account.enabled,
                "balance_sun": balance,
                "balance_trx": trx(balance),
                "as_of": state.as_of.isoformat() if state and state.as_of else None,
                "refresh_error": state.last_error if state else "",
                "low_balance_threshold_sun": account.low_balance_threshold_sun,
            }
        )
    return result


@api.get(
    "/health",
    auth=None,
    response={200: HealthOut, 503: HealthOut},
    summary="Database and background worker (no authentication)",
)
def health(request: HttpRequest) -> tuple[int, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception as exc:  # the point of a health check: report, never raise
        database = f"error: {type(exc).__name__}"
    worker, seen = _worker_state()
    ok = database == "ok" and worker == "ok"
    body = {
        "status": "ok" if ok else "degraded",
        "database": database,
        "worker": worker,
        "worker_last_seen": seen.isoformat() if seen else None,
    }
    return (200 if ok else 503), body


def _worker_state() -> tuple[str, datetime | None]:
    """A django-q2 cluster reporting its stats, or a task finished recently.

    Cluster stats live in the broker's cache (shared only with Redis); the finished-task time is
    in the database, so it works with the ORM broker too: the schedules run every minute.
    """
    try:
        from django_q.models import Task
        from django_q.status import Stat

        if Stat.get_all():
            return "ok", timezone.now()
        last = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    except Exception as exc:
        return f"error: {type(exc).__name__}", None
    stale = timedelta(minutes=settings.ENERGYDASH_HEALTH_WORKER_STALE_MINUTES)
    if last is None:
        return "no worker has run a task", None
    if timezone.now() - last > stale:
        return "stale: no task finished recently", last
    return "ok", last


# Batches --------------------------------------------------------------------------------------


@api.post("/batches", response={202: BatchOut, 200: BatchOut}, summary="Start a bulk order")
def create_batch(
    request: HttpRequest,
    payload: BatchIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
) -> tuple[int, dict]:
    from energydash.batches import services
    from energydash.batches.models import Batch

    token: ApiToken = request.auth
    require_operator(token)
    digest = body_hash(payload.model_dump(mode="json"))
    key = f"api:{token.pk}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    existing = Batch.objects.filter(key=key).first()
    if existing is not None:
        if existing.body_hash != digest:
            raise Problem(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different batch; nothing was "
                "started. Use a new key for a new batch.",
            )
        return 200, batch_json(existing)
    rows = [
        (n, [line.address, str(line.energy or "")], line.address[:120])
        for n, line in enumerate(payload.lines, start=1)
    ]
    lines, errors = services.parse_rows(rows, payload.energy)
    if errors:
        raise Problem(
            422,
            "invalid_lines",
            f"{len(errors)} line(s) are not valid; nothing was started. See `errors`.",
            errors=[{"line": e.number, "error": e.error} for e in errors],
        )
    try:
        batch = services.create_batch(
            lines,
            period=payload.period,
            activate=payload.activate,
            max_cost_sun=_sun(payload.max_cost_trx, "max_cost_trx"),
            via=token.placed_via,
            token=token,
            key=key,
            digest=digest,
        )
    except IntegrityError:
        # Another request with this key created the batch first (the key is unique): answer
        # as a repeated key does, with that batch, or 422 if the body differs.
        if not Batch.objects.filter(key=key).exists():
            raise
        return create_batch(request, payload, idempotency_key)
    services.plan(batch)
    services.start(batch)
    return 202, batch_json(batch)


@api.get("/batches/{batch_id}", response=BatchOut, summary="A bulk order's progress and lines")
def get_batch(request: HttpRequest, batch_id: uuid.UUID) -> dict:
    from energydash.batches.models import Batch

    batch = Batch.objects.filter(code=batch_id).first()
    if batch is None:
        raise Problem(404, "batch_not_found", f"No batch with id {batch_id}.")
    return batch_json(batch)


def batch_json(batch) -> dict:  # noqa: ANN001  (Batch; imported lazily)
    from energydash.batches.services import progress

    figures = progress(batch)
    lines = batch.lines.select_related("plan_account", "order")
    return {
        "id": str(batch.code),
        "status": batch.status,
        **{k: figures[k] for k in ("total", "placed", "failed", "review", "cancelled")},
        "remaining": figures["remaining"],
        "spent_sun": figures["spent_sun"],
        "spent_trx": trx(figures["spent_sun"]),
        "planned_total_sun": batch.planned_total_sun,
        "planned_total_trx": trx(batch.planned_total_sun),
        "lines": [
            {
                "number": line.number,
                "address": line.address,
                "energy": line.energy,
                "status": line.status,
                "planned_account": line.plan_account.name if line.plan_account else None,
                "planned_price_sun": line.plan_price_sun,
                "order_id": str(line.order.code) if line.order else None,
                "order_status": line.order.status if line.order else None,
                "error": line.error or line.plan_error,
            }
            for line in lines
        ],
    }
