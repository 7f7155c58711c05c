"""Best-price routing with failover, shared by the API, the console's "best price" and batches.

Rules: the request goes to the cheapest eligible account (candidates.py). A refusal (rejected,
unavailable, or refused before sending: nothing charged) moves on to the next cheapest, up to
ENERGYDASH_ROUTING_MAX_ATTEMPTS accounts. An unknown outcome stops routing: that order may have
been charged and is reconciled first.

Each attempt places through orders.placement.place_order with its own idempotency key derived
from the route's key, so every attempt is sent at most once, and a route interrupted half way
can be resumed without sending any attempt twice.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from energydash.orders.candidates import Candidate, RouteRequest, candidates, no_route_problem
from energydash.orders.limits import CapExceeded
from energydash.orders.models import Order, Route, RouteAttempt, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import PlacementRefused

logger = logging.getLogger("energydash.orders")

ACCEPTED = (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED, Status.REFUNDED)


def body_hash(payload: dict[str, Any]) -> str:
    import json

    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def attempt_key(route: Route, number: int) -> str:
    """The order idempotency key of attempt `number`: distinct per attempt, stable per route."""
    return f"rt-{hashlib.sha256(route.key.encode()).hexdigest()[:40]}-{number}"


def lease_seconds() -> float:
    """How long a claim on a route lasts without a heartbeat (ENERGYDASH_ROUTE_LEASE_SECONDS).

    The process routing a request renews it every third of that (heartbeat); a claim left by a
    crashed process lapses within this time and the next retry with the key takes it over.
    """
    return settings.ENERGYDASH_ROUTE_LEASE_SECONDS


def lease_until() -> Any:
    return timezone.now() + timedelta(seconds=lease_seconds())


def renew(route: Route) -> bool:
    """One heartbeat: extend the claim of a route still being routed. False once it is done."""
    return bool(
        Route.objects.filter(pk=route.pk, status=Route.Status.PENDING).update(
            claimed_until=lease_until()
        )
    )


def seconds_left(route: Route) -> int:
    """Whole seconds until the route's claim lapses (at least 1): a truthful Retry-After."""
    if route.claimed_until is None:
        return 1
    left = (route.claimed_until - timezone.now()).total_seconds()
    return max(1, math.ceil(left))


@contextmanager
def heartbeat(route: Route) -> Iterator[None]:
    """Keep the claim on `route` alive while the caller routes it, however slow a provider is.

    A thread renews the lease every third of its length, on its own database connection. If the
    process dies the beats stop and the lease lapses within ENERGYDASH_ROUTE_LEASE_SECONDS.
    Should a beat be missed anyway, a takeover cannot send anything twice: every attempt places
    with its own idempotency key (attempt_key), which place_order sends at most once.
    """
    stop = threading.Event()
    interval = max(lease_seconds() / 3, 0.05)

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    if not renew(route):
                        return
                except Exception:  # a missed beat: the next one may succeed
                    logger.warning("route %s: heartbeat failed", route.pk, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"route-{route.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def open_route(
    key: str,
    digest: str,
    request: RouteRequest,
    *,
    via: str,
    token: Any = None,
) -> tuple[Route, bool]:
    """Create the route for key (claimed by the caller), or return the existing one."""
    try:
        with transaction.atomic():
            route = Route.objects.create(
                key=key,
                body_hash=digest,
                token=token,
                via=via,
                kind=request.kind,
                receive_address=request.receive_address,
                energy=request.energy,
                period=request.period,
                activate=request.activate,
                to_address=request.to_address,
                account=request.account,
                max_cost_sun=request.max_cost_sun,
                allowed_accounts=sorted(request.accounts),
                claimed_until=lease_until(),
            )
        return route, True
    except IntegrityError:
        return Route.objects.get(key=key), False


def claim(route: Route) -> bool:
    """Take over a pending route whose claim has lapsed (its process died). One winner."""
    now = timezone.now()
    lapsed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    taken = Route.objects.filter(lapsed, pk=route.pk, status=Route.Status.PENDING).update(
        claimed_until=lease_until()
    )
    return bool(taken)


def request_of(route: Route) -> RouteRequest:
    return RouteRequest(
        receive_address=route.receive_address,
        energy=route.energy,
        period=route.period,
        activate=route.activate,
        to_address=route.to_address,
        kind=route.kind,
        account=route.account,
        max_cost_sun=route.max_cost_sun,
        accounts=tuple(route.allowed_accounts or ()),
    )


def classify(order: Order) -> str:
    """What an attempt's order tells routing. Only refusals may fail over."""
    if order.status in ACCEPTED:
        return RouteAttempt.Outcome.ACCEPTED
    if order.status == Status.AWAITING_APPROVAL:
        return RouteAttempt.Outcome.AWAITING  # nothing sent: a person decides, no failover
    if order.status == Status.FAILED and order.submitted_at is None:
        # Refused on placing (nothing charged): rejected, or the provider was unavailable.
        if " is unavailable" in order.last_error:
            return RouteAttempt.Outcome.UNAVAILABLE
        return RouteAttempt.Outcome.REJECTED
    if order.status == Status.FAILED:
        return RouteAttempt.Outcome.FAILED
    return RouteAttempt.Outcome.UNKNOWN  # unknown, needs_review, or a draft left by a crash


REFUSALS = (
    RouteAttempt.Outcome.NOT_SENT,
    RouteAttempt.Outcome.REJECTED,
    RouteAttempt.Outcome.UNAVAILABLE,
)


def run_route(
    route: Route,
    *,
    actor: Any = None,
    client: httpx.Client | None = None,
    max_attempts: int | None = None,
    first: Candidate | None = None,
    exclude: frozenset[int] = frozenset(),
) -> Route:
    """Route (or resume routing) a claimed route until accepted, unknown, or out of accounts.

    `first` is a fresh quote already taken for this request (a batch's, shared by its lines):
    the first attempt goes to it without quoting every account again. A refusal re-quotes.
    `exclude`: accounts never to try (the one a failed order already failed at).
    """
    limit = max_attempts or settings.ENERGYDASH_ROUTING_MAX_ATTEMPTS
    request = request_of(route)
    attempts = list(route.attempts.select_related("order"))
    tried = {a.account_id for a in attempts} | set(exclude)
    last = attempts[-1] if attempts else None
    problem = ""
    while last is None or last.outcome in REFUSALS:
        if len(attempts) >= limit:
            problem = f"Refused by {len(attempts)} account(s), the most routing tries."
            break
        if first is not None and not attempts and first.fresh() and first.account.pk not in tried:
            rows = [first]
        else:
            rows = candidates(request, exclude=tried, client=client)
        choice = rows[0] if rows and rows[0].eligible else None
        if choice is None:
            problem = (
                no_route_problem(rows, request.kind)
                if not attempts and not exclude
                else "No other account can take it."
            )
            break
        last = _attempt(route, len(attempts) + 1, choice, rows, request, actor, client)
        attempts.append(last)
        tried.add(choice.account.pk)
    return _finish(route, attempts, problem)


def _attempt(
    route: Route,
    number: int,
    choice: Candidate,
    rows: list[Candidate],
    request: RouteRequest,
    actor: Any,
    client: httpx.Client | None,
) -> RouteAttempt:
    # The quote routing chose on is what place_order may spend: if the price rose meanwhile,
    # it refuses before sending and routing moves on to the next account.
    # While that quote is fresh it is also what the limits are checked against: the provider is
    # not asked for the same price twice (issue 23: provider calls per order).
    confirmed = choice.price_sun
    priced = (confirmed, choice.quote) if choice.fresh() else None
    try:
        order = place_order(
            request.spec(choice.account),
            actor=actor,
            via=route.via,
            idempotency_key=attempt_key(route, number),
            confirmed_cost_sun=confirmed,
            client=client,
            priced=priced,
        )
    except CapExceeded as exc:  # the token's cap: every other account would break it too
        outcome, message, order = RouteAttempt.Outcome.CAPPED, str(exc), None
    except PlacementRefused as exc:
        outcome, message, order = RouteAttempt.Outcome.NOT_SENT, str(exc), None
    else:
        outcome = classify(order)
        message = order.last_error if outcome != RouteAttempt.Outcome.ACCEPTED else ""
    account = order.account if order is not None else choice.account
    attempt, _ = RouteAttempt.objects.update_or_create(
        route=route,
        number=number,
        defaults={
            "account": account,
            "price_sun": order.quoted_cost_sun if order is not None else choice.price_sun,
            "order": order,
            "outcome": outcome,
            "message": message,
            "reason": choice.note,
            "ranking": [row.as_json() for row in rows],
        },
    )
    return attempt


def _finish(route: Route, attempts: list[RouteAttempt], problem: str) -> Route:
    last = attempts[-1] if attempts else None
    if last is not None and last.outcome == RouteAttempt.Outcome.ACCEPTED:
        status, problem = Route.Status.PLACED, ""
    elif last is not None and last.outcome == RouteAttempt.Outcome.AWAITING:
        status, problem = Route.Status.AWAITING, ""
    elif last is not None and last.outcome == RouteAttempt.Outcome.CAPPED:
        status, problem = Route.Status.FAILED, last.message
    elif last is not None and last.outcome in (
        RouteAttempt.Outcome.UNKNOWN,
        RouteAttempt.Outcome.FAILED,
    ):
        status = (
            Route.Status.UNKNOWN
            if last.outcome == RouteAttempt.Outcome.UNKNOWN
            else Route.Status.FAILED
        )
        problem = last.message
    else:
        status = Route.Status.FAILED
    orders = [a.order for a in attempts if a.order_id]
    Route.objects.filter(pk=route.pk).update(
        status=status,
        order=orders[-1] if orders else None,
        problem=problem,
        claimed_until=None,
        finished_at=timezone.now(),
    )
    route.refresh_from_db()
    return route


@dataclass
class Routed:
    """What route_order did: the route, whether the key came with the same request, and whether
    this call routed it (False: it answered with another call's route, a replay)."""

    route: Route
    same_body: bool
    routed_here: bool


def route_order(
    key: str,
    request: RouteRequest,
    *,
    via: str,
    actor: Any = None,
    token: Any = None,
    digest: str | None = None,
    client: httpx.Client | None = None,
    wait_seconds: float = 0,
    first: Candidate | None = None,
    exclude: frozenset[int] = frozenset(),
) -> tuple[Route, bool]:
    """Route `request` once per key. Returns (route, same_body); see route_request."""
    done = route_request(
        key,
        request,
        via=via,
        actor=actor,
        token=token,
        digest=digest,
        client=client,
        wait_seconds=wait_seconds,
        first=first,
        exclude=exclude,
    )
    return done.route, done.same_body


def route_request(
    key: str,
    request: RouteRequest,
    *,
    via: str,
    actor: Any = None,
    token: Any = None,
    digest: str | None = None,
    client: httpx.Client | None = None,
    wait_seconds: float = 0,
    first: Candidate | None = None,
    exclude: frozenset[int] = frozenset(),
) -> Routed:
    """Route `request` once per key (never to an account in `exclude`).

    A second call with the same key returns the first call's route, waiting up to wait_seconds
    while it is still routing; if the first call's process died (its lease lapsed: no
    heartbeat), the waiting call takes the route over and finishes it. same_body is False when
    the key came with a different request, and then nothing is sent.
    """
    digest = digest or body_hash(
        {
            "kind": request.kind,
            "address": request.receive_address,
            "energy": request.energy,
            "period": request.period,
            "activate": request.activate,
            # Only when given, so the keys of routes made before collections could be routed
            # keep their digests.
            **({"to_address": request.to_address} if request.to_address else {}),
            **({"accounts": sorted(request.accounts)} if request.accounts else {}),
            "account": request.account.pk if request.account else None,
            "max_cost_sun": request.max_cost_sun,
            # Only when given, like to_address: a retry elsewhere is another request.
            **({"exclude": sorted(exclude)} if exclude else {}),
        }
    )
    route, created = open_route(key, digest, request, via=via, token=token)
    if not created and route.body_hash != digest:
        return Routed(route, False, False)
    deadline = time.monotonic() + wait_seconds
    while True:
        if created or (route.status == Route.Status.PENDING and claim(route)):
            with heartbeat(route):
                route = run_route(route, actor=actor, client=client, first=first, exclude=exclude)
            return Routed(route, True, True)
        if route.status != Route.Status.PENDING or time.monotonic() >= deadline:
            return Routed(route, True, False)
        time.sleep(0.05)
        route.refresh_from_db()


def attempts_for_order(order: Order) -> list[RouteAttempt]:
    """Every attempt of the route this order belongs to (for the order page)."""
    route_ids = RouteAttempt.objects.filter(order=order).values("route_id")
    return list(
        RouteAttempt.objects.filter(route_id__in=route_ids).select_related("account", "order")
    )
