"""/api/v1/: quotes, routed orders with idempotency keys, balances, health, batches."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection
from django.http import HttpRequest
from django.utils import timezone
from ninja import Body, Header, Query, Status
from pydantic import WithJsonSchema

from energydash.api import contract, problems
from energydash.api.auth import TokenAuth, require_operator, require_scope
from energydash.api.events import router as events_router
from energydash.api.models import ApiToken, Scope
from energydash.api.problems import Problem
from energydash.api.schemas import (
    ADDRESS_PATTERN,
    BalanceOut,
    BatchIn,
    BatchOut,
    HealthOut,
    OrderDetail,
    OrderIn,
    OrderPage,
    Period,
    QuoteOut,
    ReadyIn,
    ReadyOut,
    ScorecardOut,
)
from energydash.api.serializers import (
    detail_json,
    order_json,
    ready_json,
    route_attempts,
    trx,
)
from energydash.api.watch import router as watch_router
from energydash.lib.tron import InvalidAddress, parse_trx, validate_address
from energydash.orders.models import OPEN, Order, ReadyCheck, Route, RouteAttempt
from energydash.orders.models import Status as OrderStatus
from energydash.orders.paging import PAGE_SIZES, SORTS, BadCursor, keyset_page
from energydash.orders.readiness import ReadyRefused, open_check, queue_check, usdt_units
from energydash.orders.routing import (
    RouteRequest,
    body_hash,
    candidates,
    route_request,
    seconds_left,
)
from energydash.orders.scorecards import Scorecard, scorecards
from energydash.providers.models import ProviderAccount

api = contract.DocumentedAPI(
    title="energydash API",
    version="1",
    description="Rent TRON energy through the cheapest eligible provider account. "
    "Authenticate with 'Authorization: Bearer <token>'. Errors are RFC 9457 problem details "
    "with a stable `code`. Money is integer sun, with exact TRX strings beside it.",
    urls_namespace="api",
    auth=TokenAuth(),
    parser=contract.JsonOnly(),
)
problems.install(api)
# GET /api/v1/events (api/events.py): the webhook events to catch up after downtime.
api.add_router("/events", events_router)
# /api/v1/watch-rules (api/watch.py): watch rules and their history.
api.add_router("/watch-rules", watch_router)

STATUS_FILTERS = [*OrderStatus.values, "open"]
StatusFilter = Literal[tuple(STATUS_FILTERS)]  # type: ignore[valid-type]
CURSOR_SALT = "energydash.api.orders.cursor"
DateTimeText = Annotated[
    str, WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 40})
]

# ISO 8601 and PostgreSQL allow offsets up to ±15:59; a larger one is refused, not sent on.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


class OperatorAuth(TokenAuth):
    """A token that may place: checked before the body, so a viewer learns nothing from it."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = super().authenticate(request, token)
        if found is not None:
            require_operator(found)
        return found


_only_params = problems.only_params


def _address(value: str) -> str:
    try:
        return validate_address(value)
    except InvalidAddress as exc:
        raise Problem(422, "invalid_address", f"Not a valid TRON address: {exc}.") from None


def _sun(value: str | None, field: str) -> int | None:
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


@api.get(
    "/quotes",
    response={200: list[QuoteOut]},
    summary="Prices from every enabled account",
)
def quotes(
    request: HttpRequest,
    energy: int = Query(..., ge=1, le=100_000_000),
    period: Period = "1H",
    address: str = Query(..., min_length=34, max_length=34, pattern=ADDRESS_PATTERN),
) -> list[dict]:
    require_scope(request.auth, Scope.QUOTE)
    _only_params(request, "energy", "period", "address")
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
            "verified_percent": c.verified_percent,
            "effective_price_sun": c.effective_sun,
            "standing": c.standing,
            "note": c.note,
        }
        for i, c in enumerate(rows)
    ]


def _scorecard_json(
    account: ProviderAccount, card: Scorecard | None, hours: int, since: datetime
) -> dict:
    card = card or Scorecard(account_id=account.pk, since=since)
    return {
        "account": account.name,
        "account_id": str(account.code),
        "provider": account.provider,
        "enabled": account.enabled,
        "hours": hours,
        **card.as_json(),
    }


SCORECARD_HOURS = Query(
    None,
    ge=1,
    le=24 * 366,
    description="Window in hours (default ENERGYDASH_SCORECARD_WINDOW_HOURS, 24).",
)


@api.get(
    "/scorecards",
    response=list[ScorecardOut],
    summary="Every account's scorecard from our own orders over a window",
)
def scorecard_list(request: HttpRequest, hours: int | None = SCORECARD_HOURS) -> list[dict]:
    require_scope(request.auth, Scope.READ)
    _only_params(request, "hours")
    hours = hours or settings.ENERGYDASH_SCORECARD_WINDOW_HOURS
    since = timezone.now() - timedelta(hours=hours)
    cards = scorecards(since)
    return [
        _scorecard_json(a, cards.get(a.pk), hours, since)
        for a in ProviderAccount.objects.order_by("name")
    ]


@api.get(
    "/accounts/{account_id}/scorecard",
    response=ScorecardOut,
    summary="One account's scorecard (account id or name)",
)
def scorecard_one(
    request: HttpRequest, account_id: str, hours: int | None = SCORECARD_HOURS
) -> dict:
    require_scope(request.auth, Scope.READ)
    _only_params(request, "hours")
    account = _any_account(account_id)
    hours = hours or settings.ENERGYDASH_SCORECARD_WINDOW_HOURS
    since = timezone.now() - timedelta(hours=hours)
    card = scorecards(since, account_ids=[account.pk]).get(account.pk)
    return _scorecard_json(account, card, hours, since)


def _any_account(name_or_id: str) -> ProviderAccount:
    """An account, enabled or not, by id (its code) or name; 404 otherwise."""
    found = None
    if "\x00" in name_or_id:
        raise Problem(404, "unknown_account", "No such provider account.")
    try:
        found = ProviderAccount.objects.filter(code=uuid.UUID(name_or_id)).first()
    except ValueError:
        pass
    found = found or ProviderAccount.objects.filter(name=name_or_id[:200]).first()
    if found is None:
        raise Problem(404, "unknown_account", f"No provider account {name_or_id[:100]!r}.")
    return found


@api.post(
    "/orders",
    response={201: OrderDetail, 200: OrderDetail, 202: OrderDetail},
    summary="Place an order of any kind, routed to the cheapest eligible account (idempotent)",
    description="201 with the new order; 200 with the same order when the same "
    "Idempotency-Key and body are sent again (a replay: nothing is sent twice); 202 with "
    "status awaiting_approval when the order is above its account's approval threshold: saved "
    "and not sent until another person approves it in the console (webhook "
    "order.awaiting_approval).",
    auth=OperatorAuth(),
)
def create_order(
    request: HttpRequest,
    payload: OrderIn = Body(...),  # noqa: B008
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
) -> Status:
    token: ApiToken = request.auth
    require_scope(token, Scope.PLACE)
    wanted = RouteRequest(
        kind=payload.kind,
        receive_address=payload.address,
        energy=getattr(payload, "energy", None),
        period=getattr(payload, "period", ""),
        activate=getattr(payload, "activate", False),
        to_address=getattr(payload, "to_address", None) or "",
        account=_account(payload.account),
        max_cost_sun=_sun(payload.max_cost_trx, "max_cost_trx"),
    )
    body = payload.model_dump(mode="json")
    if body["kind"] == "energy":
        # Digests of energy orders stay as they were before kinds (no "kind" key), so a key
        # sent before an upgrade still replays.
        body.pop("kind")
    digest = body_hash(body)
    key = f"api:{token.pk}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    done = route_request(
        key,
        wanted,
        via=token.placed_via,
        token=token,
        digest=digest,
        wait_seconds=settings.ENERGYDASH_API_IDEMPOTENCY_WAIT_SECONDS,
    )
    if not done.same_body:
        raise Problem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body; nothing was "
            "sent. Use a new key for a new order.",
        )
    detail = _route_result(done.route)
    if detail["status"] == OrderStatus.AWAITING_APPROVAL:
        return Status(202, detail)
    return Status(201 if done.routed_here else 200, detail)


@api.post(
    "/ready",
    response={202: ReadyOut, 200: ReadyOut},
    summary="Make an address ready to send USDT now: activate, buy only the deficit, wait",
    description="Records a ready check and answers at once (202, state `working`, with its id); "
    "a worker then checks activation (activating through a provider that offers it), reads the "
    "energy and bandwidth available, estimates the transfer's energy (triggerconstantcontract "
    "with a recipient, else 131,000) plus headroom, buys only the deficit through best-price "
    "routing (limits and approvals apply; a deficit below every provider's minimum is rounded up "
    "to the smallest minimum) and waits for it on chain up to deadline_seconds. Follow it with "
    "GET /ready/{id}; the token's webhook gets `ready.ready` or `ready.not_ready` when it ends. "
    "The same Idempotency-Key and body answer the same check (200); two requests for one "
    "address buy at most one deficit (the second waits for the first, then reads the chain).",
    auth=OperatorAuth(),
)
def ready(
    request: HttpRequest,
    payload: ReadyIn = Body(...),  # noqa: B008
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
) -> Status:
    token: ApiToken = request.auth
    require_scope(token, Scope.PLACE)
    _only_params(request)
    key = f"api:{token.pk}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    try:
        answer = open_check(
            key,
            payload.address,
            recipient=payload.recipient or "",
            usdt=usdt_units(payload.usdt),
            deadline_seconds=payload.deadline_seconds,
            via=token.placed_via,
            token=token,
        )
    except ReadyRefused as exc:
        raise Problem(422, "invalid_request", f"{exc}; nothing was done.") from None
    if not answer.same_body:
        raise Problem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body; nothing was "
            "done. Use a new key for a new request.",
        )
    if answer.done_here:
        queue_check(answer.check)
        return Status(202, ready_json(answer.check))
    return Status(200, ready_json(answer.check))


@api.get(
    "/ready/{check_id}",
    response={200: ReadyOut},
    summary="One ready check: working, or its answer",
)
def get_ready(request: HttpRequest, check_id: int) -> dict:
    require_scope(request.auth, Scope.READ)
    _only_params(request)
    check = (
        ReadyCheck.objects.select_related("route__order", "activation_route__order")
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Problem(404, "ready_check_not_found", f"No ready check with id {check_id}.")
    return ready_json(check)


def _route_result(route: Route) -> dict:
    if route.status == Route.Status.PENDING:
        wait = seconds_left(route)
        raise Problem(
            409,
            "request_in_progress",
            "An earlier request with this Idempotency-Key is still being placed; retry with the "
            f"same key and body in {wait} s to get its result.",
            headers={"Retry-After": str(wait)},
        )
    if route.order is None:
        last = route.attempts.order_by("-number").first()
        if last is not None and last.outcome == RouteAttempt.Outcome.CAPPED:
            raise Problem(403, "token_cap_exceeded", last.message + " Nothing was sent.")
        raise Problem(
            422,
            "no_route",
            route.problem or "No account could take this order; nothing was charged.",
            attempts=route_attempts(route),
        )
    return detail_json(Order.objects.select_related("account").get(pk=route.order_id))


@api.get(
    "/orders/{order_id}",
    response={200: OrderDetail},
    summary="One order with its attempts",
)
def get_order(request: HttpRequest, order_id: uuid.UUID) -> dict:
    require_scope(request.auth, Scope.READ)
    _only_params(request)
    order = Order.objects.select_related("account").filter(code=order_id).first()
    if order is None:
        raise Problem(404, "order_not_found", f"No order with id {order_id}.")
    return detail_json(order)


@api.get(
    "/orders",
    response={200: OrderPage},
    summary="Orders, newest first, keyset paginated",
)
def list_orders(
    request: HttpRequest,
    status: StatusFilter | None = Query(None, description="An order status, or 'open'."),  # noqa: B008
    since: DateTimeText | None = Query(  # noqa: B008
        None,
        description="Only orders created at or after this RFC 3339 time (with a time zone).",
    ),
    cursor: str | None = Query(
        None, max_length=200, description="The next_cursor of the page before (opaque)."
    ),
    limit: int = Query(50, description="Page size.", enum=list(PAGE_SIZES)),
) -> dict:
    require_scope(request.auth, Scope.READ)
    _only_params(request, "status", "since", "cursor", "limit")
    rows = Order.objects.select_related("account")
    if status:
        rows = rows.filter(status__in=OPEN) if status == "open" else rows.filter(status=status)
    if since is not None:
        rows = rows.filter(created__gte=_since(since))
    if limit not in PAGE_SIZES:
        raise Problem(
            422, "invalid_limit", f"limit must be one of {', '.join(map(str, PAGE_SIZES))}."
        )
    try:
        after = _unsign_cursor(cursor) if cursor else ""
        page = keyset_page(rows, SORTS["-created"], after=after, size=limit)
    except BadCursor:
        raise Problem(
            422, "invalid_cursor", "The cursor is not one this API returned; start without it."
        ) from None
    next_cursor = _sign_cursor(page.next_cursor) if page.has_next else None
    return {"items": [order_json(o) for o in page.rows], "next_cursor": next_cursor}


# RFC 3339 date-time, as the document's format says: a time zone is required.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")


def _since(text: str) -> datetime:
    if not RFC3339.fullmatch(text):
        raise Problem(
            422,
            "invalid_since",
            "Give `since` as an RFC 3339 time with a time zone, e.g. 2026-11-21T00:00:00Z.",
        )
    try:
        since = datetime.fromisoformat(text.upper())
    except ValueError:
        raise Problem(422, "invalid_since", f"{text!r} is not a real date and time.") from None
    if abs(since.utcoffset() or timedelta()) > MAX_UTC_OFFSET:
        raise Problem(
            422,
            "invalid_since",
            "The time zone offset of `since` must be within ±15:59, e.g. +08:00 or Z.",
        )
    return since.astimezone(UTC)


def _sign_cursor(position: str) -> str:
    """An opaque cursor: the keyset position, encoded and signed (SECRET_KEY), URL-safe."""
    return signing.dumps(position, salt=CURSOR_SALT, compress=True)


def _unsign_cursor(cursor: str) -> str:
    """The position inside a cursor this API made; BadCursor for a tampered or made-up one."""
    try:
        position = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise BadCursor(cursor) from None
    if not isinstance(position, str):
        raise BadCursor(cursor)
    return position


@api.get("/balances", response=list[BalanceOut], summary="Last known balance of every account")
def balances(request: HttpRequest) -> list[dict]:
    require_scope(request.auth, Scope.READ)
    _only_params(request)
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


@api.post(
    "/batches",
    response={202: BatchOut, 200: BatchOut},
    summary="Start a bulk order",
    auth=OperatorAuth(),
)
def create_batch(
    request: HttpRequest,
    payload: BatchIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
) -> tuple[int, dict]:
    from energydash.batches import services
    from energydash.batches.models import Batch

    token: ApiToken = request.auth  # an operator token: OperatorAuth
    require_scope(token, Scope.BATCHES)
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


@api.get(
    "/batches/{batch_id}",
    response={200: BatchOut},
    summary="A bulk order's progress and lines",
)
def get_batch(request: HttpRequest, batch_id: uuid.UUID) -> dict:
    require_scope(request.auth, Scope.READ)
    _only_params(request)
    from energydash.batches.models import Batch

    batch = Batch.objects.filter(code=batch_id).first()
    if batch is None:
        raise Problem(404, "batch_not_found", f"No batch with id {batch_id}.")
    return batch_json(batch)


@api.post(
    "/batches/{batch_id}/resume",
    response={202: BatchOut},
    summary="Resume a cancelled batch, or one whose worker died",
    auth=OperatorAuth(),
)
def resume_batch(request: HttpRequest, batch_id: uuid.UUID) -> tuple[int, dict]:
    """Queue the batch's remaining lines again. Lines already placed are never sent again.
    409 `batch_not_resumable` while a live worker runs it, or once it is finished."""
    from energydash.batches import services
    from energydash.batches.models import Batch

    require_scope(request.auth, Scope.BATCHES)  # an operator token: OperatorAuth
    _only_params(request)
    batch = Batch.objects.filter(code=batch_id).first()
    if batch is None:
        raise Problem(404, "batch_not_found", f"No batch with id {batch_id}.")
    if not services.start(batch):
        raise Problem(
            409,
            "batch_not_resumable",
            f"Batch {batch_id} is {batch.status} with a live worker or finished; nothing was "
            "changed.",
        )
    return 202, batch_json(batch)


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
