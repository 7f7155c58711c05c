"""Order, route and balance JSON shared by the API responses and the webhooks."""

from __future__ import annotations

from typing import Any

from energydash.lib.tron import exact_trx as trx
from energydash.orders.delivery import state_of
from energydash.orders.models import POSSIBLE_STATUSES, UNSENT, Order, Route, RouteAttempt


def delivery_json(order: Order) -> dict[str, Any] | None:
    """What the chain shows of the order's energy; None for an order that delivers nothing."""
    status = state_of(order)
    if status is None:
        return None
    return {
        "status": status,
        "energy": order.delivery_energy,
        "checked_at": order.delivery_checked_at.isoformat() if order.delivery_checked_at else None,
        "evidence": order.delivery_evidence or {},
    }


def order_json(order: Order) -> dict[str, Any]:
    """Money: cost_sun is what the provider charged, refund_sun what it gave back, kept_sun the
    difference (0 when nothing was charged; null while unresolved, when possible_charge_sun is
    what it may have charged). orders/money.py defines them."""
    cost = order.cost_sun
    unresolved = order.status in POSSIBLE_STATUSES or order.status in UNSENT
    kept = None if unresolved else order.kept_sun
    return {
        "id": str(order.code),
        "status": order.status,
        "final": order.is_final,
        "kind": order.kind,
        "address": order.receive_address,
        "energy": order.energy,
        "period": order.period,
        "activate": order.activate,
        "account": order.account.name,
        "account_id": str(order.account.code),
        "provider": order.account.provider,
        "reference": order.reference,
        "provider_ref": order.provider_ref,
        "quoted_cost_sun": order.quoted_cost_sun,
        "quoted_cost_trx": trx(order.quoted_cost_sun),
        "cost_sun": cost,
        "cost_trx": trx(cost),
        "refund_sun": order.refund_sun,
        "refund_trx": trx(order.refund_sun),
        "charged": order.charged,
        "kept_sun": kept,
        "kept_trx": trx(kept),
        "possible_charge_sun": order.spend_sun if order.status in POSSIBLE_STATUSES else None,
        "cost_flag": order.cost_flag,
        "energy_delivered": order.energy_delivered,
        "tx_hashes": list(order.tx_hashes or []),
        "last_error": order.last_error,
        "placed_via": order.placed_via,
        "created": order.created.isoformat(),
        "finished_at": order.finished_at.isoformat() if order.finished_at else None,
        "delivery": delivery_json(order),
    }


def attempt_json(attempt: RouteAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "account": attempt.account.name,
        "provider": attempt.account.provider,
        "price_sun": attempt.price_sun,
        "price_trx": trx(attempt.price_sun),
        "outcome": attempt.outcome,
        "message": attempt.message,
        "order_id": str(attempt.order.code) if attempt.order_id and attempt.order else None,
        "reason": attempt.reason,
        "ranking": list(attempt.ranking or []),
    }


def route_attempts(route: Route) -> list[dict[str, Any]]:
    return [attempt_json(a) for a in route.attempts.select_related("account", "order")]


def detail_json(order: Order) -> dict[str, Any]:
    """An order with the routing attempts that led to it (empty for orders placed directly)."""
    from energydash.orders.routing import attempts_for_order

    attempts = attempts_for_order(order)
    route = attempts[0].route if attempts else None
    return {
        **order_json(order),
        "route_status": route.status if route else None,
        "attempts": [attempt_json(a) for a in attempts],
    }


QUEUED_WORDS = (
    "Waiting for another ready check of this address to end; then the chain is read again."
)


def ready_json(check: Any) -> dict:
    """A ReadyCheck as the API and its webhooks show it; `queued` shows as `working`."""

    def code(route: Any) -> str | None:
        order = route.order if route is not None else None
        return str(order.code) if order is not None else None

    queued = check.state == "queued"
    return {
        "id": check.pk,
        "state": "working" if queued else check.state,
        "reason": QUEUED_WORDS if queued else check.reason,
        "address": check.address,
        "recipient": check.recipient or None,
        "energy_estimate": check.energy_estimate,
        "energy_needed": check.energy_needed,
        "energy_available": check.energy_available,
        "bandwidth_available": check.bandwidth_available,
        "energy_bought": check.energy_bought,
        "energy_fee_sun": check.energy_fee_sun,
        "fee_limit_sun": check.fee_limit_sun,
        "fee_limit_trx": trx(check.fee_limit_sun) if check.fee_limit_sun is not None else None,
        "activation_order": code(check.activation_route),
        "order": code(check.route),
        "created": check.created,
        "finished_at": check.finished_at,
    }
