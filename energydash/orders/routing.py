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
import time
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from energydash.orders.candidates import Candidate, RouteRequest, candidates, no_route_problem
from energydash.orders.limits import CapExceeded
from energydash.orders.models import Order, Route, RouteAttempt, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import PlacementRefused

# A route is claimed for this long; a claim left by a crashed process can then be taken over.
CLAIM_SECONDS = 300
ACCEPTED = (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED, Status.REFUNDED)


def body_hash(payload: dict[str, Any]) -> str:
    import json

    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def attempt_key(route: Route, number: int) -> str:
    """The order idempotency key of attempt `number`: distinct per attempt, stable per route."""
    return f"rt-{hashlib.sha256(route.key.encode()).hexdigest()[:40]}-{number}"


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
                account=request.account,
                max_cost_sun=request.max_cost_sun,
                claimed_until=timezone.now() + timedelta(seconds=CLAIM_SECONDS),
            )
        return route, True
    except IntegrityError:
        return Route.objects.get(key=key), False


def claim(route: Route) -> bool:
    """Take over a pending route whose claim has lapsed (its process died). One winner."""
    now = timezone.now()
    lapsed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    taken = Route.objects.filter(lapsed, pk=route.pk, status=Route.Status.PENDING).update(
        claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
    )
    return bool(taken)


def wait_for(route: Route, seconds: float) -> Route:
    """Poll until another request finishes routing, or the deadline passes."""
    deadline = time.monotonic() + seconds
    while route.status == Route.Status.PENDING and time.monotonic() < deadline:
        time.sleep(0.05)
        route.refresh_from_db()
    return route


def request_of(route: Route) -> RouteRequest:
    return RouteRequest(
        receive_address=route.receive_address,
        energy=route.energy,
        period=route.period,
        activate=route.activate,
        kind=route.kind,
        account=route.account,
        max_cost_sun=route.max_cost_sun,
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
) -> Route:
    """Route (or resume routing) a claimed route until accepted, unknown, or out of accounts.

    `first` is a fresh quote already taken for this request (a batch's, shared by its lines):
    the first attempt goes to it without quoting every account again. A refusal re-quotes.
    """
    limit = max_attempts or settings.ENERGYDASH_ROUTING_MAX_ATTEMPTS
    request = request_of(route)
    attempts = list(route.attempts.select_related("order"))
    tried = {a.account_id for a in attempts}
    last = attempts[-1] if attempts else None
    problem = ""
    while last is None or last.outcome in REFUSALS:
        if len(attempts) >= limit:
            problem = f"Refused by {len(attempts)} account(s), the most routing tries."
            break
        if first is not None and not attempts and first.fresh():
            rows = [first]
        else:
            rows = candidates(request, exclude=tried, client=client)
        choice = rows[0] if rows and rows[0].eligible else None
        if choice is None:
            problem = no_route_problem(rows) if not attempts else "No other account can take it."
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
) -> tuple[Route, bool]:
    """Route `request` once per key. Returns (route, same_body).

    A second call with the same key returns the first call's route (waiting up to wait_seconds
    while it is still routing); same_body is False when the key came with a different request,
    and then nothing is sent.
    """
    digest = digest or body_hash(
        {
            "kind": request.kind,
            "address": request.receive_address,
            "energy": request.energy,
            "period": request.period,
            "activate": request.activate,
            "account": request.account.pk if request.account else None,
            "max_cost_sun": request.max_cost_sun,
        }
    )
    route, created = open_route(key, digest, request, via=via, token=token)
    if not created and route.body_hash != digest:
        return route, False
    if created or (route.status == Route.Status.PENDING and claim(route)):
        return run_route(route, actor=actor, client=client, first=first), True
    return wait_for(route, wait_seconds), True


def attempts_for_order(order: Order) -> list[RouteAttempt]:
    """Every attempt of the route this order belongs to (for the order page)."""
    route_ids = RouteAttempt.objects.filter(order=order).values("route_id")
    return list(
        RouteAttempt.objects.filter(route_id__in=route_ids).select_related("account", "order")
    )
