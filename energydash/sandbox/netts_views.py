"""Netts simulated: /apiv2/... with X-API-KEY and a whitelisted X-Real-IP (providers.md 4)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from energydash.lib.tron import InvalidAddress, validate_address
from energydash.providers.credentials import NETTS
from energydash.sandbox import faults, money
from energydash.sandbox.http import as_int, endpoint, json_response, parse_json
from energydash.sandbox.models import SandboxAccount, SandboxAddress, SandboxOrder
from energydash.sandbox.placement import place_order
from energydash.sandbox.pricing import energy_cost_sun, sun_number, trx_number

ENERGY_BUFFER = 50  # "+50 units added automatically to compensate the provider (free)"
TRX_RATE_USD = 0.30
NETWORK_ENERGY_FEE_SUN = 100
Handler = Callable[[HttpRequest, SandboxAccount], HttpResponse]


def _unauthorized() -> HttpResponse:
    return json_response({"detail": "Invalid API key or IP not in whitelist"}, status=401)


def _server_error() -> HttpResponse:
    return json_response({"code": 5000, "msg": "Internal server error occurred"}, status=500)


def _not_allowed(method: str) -> HttpResponse:
    return json_response({"detail": "Method Not Allowed"}, status=405)


def netts(method: str, *, ip_required: bool = True) -> Callable[[Handler], Any]:
    """X-API-KEY must name an account and X-Real-IP be in its whitelist (order_check documents
    only X-API-KEY, so there the IP is checked only when sent)."""

    def decorate(view: Handler) -> Any:
        @endpoint(method, _not_allowed)
        def wrapper(request: HttpRequest) -> HttpResponse:
            key = request.headers.get("X-API-KEY", "").strip()
            account = SandboxAccount.for_key(NETTS, key)
            ip = request.headers.get("X-Real-IP", "").strip()
            if account is None or (ip_required or ip) and ip not in account.whitelist:
                return _unauthorized()
            money.settle_due_refunds(account)
            if failed := faults.before_handling(account, _server_error):
                return failed
            return view(request, account)

        return wrapper

    return decorate


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _periods(now: datetime) -> list[tuple[str, bool]]:
    hour = now.astimezone(UTC).hour
    return [(f"{h:02d}:00-{(h + 2) % 24:02d}:00", h <= hour < h + 2) for h in range(0, 24, 2)]


@netts("GET")
def userinfo(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    orders = list(account.orders.all())
    burn = settings.ENERGYDASH_BURN_SUN_PER_ENERGY
    spent = sum(o.cost_sun for o in orders)
    energy = sum(o.energy for o in orders)
    return json_response(
        {
            "status": "success",
            "timestamp": _stamp(timezone.now()),
            "user_id": account.pk,
            "user_info": {
                "email": f"{account.pk}@sandbox.invalid",
                "name": account.name,
                "deposit_address": account.deposit_address,
            },
            "stats": {
                "balance": trx_number(money.shown_balance(account)),
                "total_delegations": len(orders),
                "total_energy_delegated": energy,
                "total_trx_spent": trx_number(spent),
                "avg_rate_sun_energy": round(spent / energy, 2) if energy else 0,
                "save_by_netts_percent": round(100 - 100 * float(account.price_sun) / burn, 2),
                "save_in_dollars": 0,
            },
            "network_info": {
                "trx_price": TRX_RATE_USD,
                "network_energy_fee": NETWORK_ENERGY_FEE_SUN,
            },
        }
    )


@netts("GET")
def prices(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    """Deprecated endpoint, still answered in its documented shape."""
    now = timezone.now()
    price = {"price_sun": sun_number(account.price_sun)}
    periods = [
        {
            "label": "Day" if 6 <= int(p[:2]) < 22 else "Night",
            "period": p,
            "is_active": active,
            "prices": {"less_than_200k": price, "equal_131k": price, "more_than_200k": price},
        }
        for p, active in _periods(now)
    ]
    active = next(p for p, a in _periods(now) if a)
    return json_response(
        {
            "status": "success",
            "current_utc_time": _stamp(now),
            "current_utc_hour": now.astimezone(UTC).hour,
            "active_period": active,
            "last_update": _stamp(now),
            "host_price": trx_number(energy_cost_sun(account.price_sun, 131_000)),
            "periods": periods,
        }
    )


@netts("GET")
def pricing(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    wanted = {s.strip() for s in request.GET.get("services", "energy_1h").split(",") if s.strip()}
    periods = [
        {"period": p, "is_current": current, "price": sun_number(account.price_sun)}
        for p, current in _periods(timezone.now())
    ]
    services = {
        "energy_1h": {
            "pricing_type": "time_based",
            "min_amount": account.min_energy,
            "max_amount": account.max_energy,
            "periods": periods,
        }
    }
    return json_response(
        {
            "success": True,
            "version": "2",
            "data": {
                "trx_rate_usd": TRX_RATE_USD,
                "services": {k: v for k, v in services.items() if k in wanted},
            },
        }
    )


@netts("POST")
def order1h(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    try:
        data = parse_json(request.body)
    except ValueError:
        return json_response({"detail": "Invalid JSON body"}, status=400)
    data = data if isinstance(data, dict) else {}
    amount = as_int(data.get("amount"))
    if amount is None or not account.min_energy <= amount <= account.max_energy:
        return json_response(
            {"detail": f"amount must be between {account.min_energy} and {account.max_energy}"},
            status=400,
        )
    try:
        address = validate_address(str(data.get("receiveAddress") or ""))
    except InvalidAddress:
        return json_response({"detail": "Invalid TRON address in receiveAddress"}, status=400)
    key = request.headers.get("X-Idempotency-Key", "").strip()[:128]
    with transaction.atomic():
        # The account row is locked so two requests with one key cannot both place an order.
        SandboxAccount.objects.select_for_update().filter(pk=account.pk).first()
        orders = SandboxOrder.objects.filter(account=account, client_ref=key)
        first = orders.first() if key else None
        if first is not None:
            # A repeated key buys nothing: 208 with the first order's answer, as a public client
            # expects (providers.md 4.2; not in Netts's docs).
            return json_response(_order_answer(first), status=208)
        placed = _place_order1h(account, amount, address, key)
    if isinstance(placed, HttpResponse):
        return placed
    faults.hold_if_lost(account)  # after the commit, as for every provider
    if lost := faults.gateway_error_after_create(account):
        return lost
    return json_response(_order_answer(placed))


def _place_order1h(
    account: SandboxAccount, amount: int, address: str, key: str
) -> SandboxOrder | HttpResponse:
    if account.orders_unavailable:
        return json_response(
            {
                "code": 5003,
                "msg": "Service temporarily unavailable. "
                "All energy providers are currently unavailable.",
            },
            status=503,
        )
    if faults.roll(account.unactivated_recipient_rate) and not _known(address):
        # Knob: the chain has never seen this recipient. Netts activates it on its own, at cost
        # (seed 004), whatever the client asked: there is no parameter to ask with.
        SandboxAddress.objects.get_or_create(
            address=address, defaults={"activated": False, "note": "never activated"}
        )
    activation = 0 if SandboxAddress.is_activated(address) else account.activation_fee_sun or 0
    cost = energy_cost_sun(account.price_sun, amount) + activation
    order = place_order(
        account,
        cost_sun=cost,
        activation_sun=activation,
        ref=f"1H{uuid.uuid4().hex[:16]}",
        client_ref=key,
        receive_address=address,
        energy=amount + ENERGY_BUFFER,
        period="1h",
        duration_seconds=3600,
    )
    if order is None:
        return json_response(
            {
                "code": 1004,
                "msg": f"Insufficient funds. Required: {cost / 1e6:.2f} TRX, "
                f"Available: {money.shown_balance(account) / 1e6:.2f} TRX",
            },
            status=403,
        )
    return order


def _known(address: str) -> bool:
    return SandboxAddress.objects.filter(address=address).exists()


def _order_answer(order: SandboxOrder) -> dict[str, Any]:
    paid = trx_number(order.cost_sun)
    return {
        "detail": {
            "code": 10000,
            "msg": f"Successful, {paid} TRX deducted",
            "data": {
                "orderId": order.ref,
                "paidTRX": paid,
                "hash": "",
                "delegateAddress": order.account.delegator(),
                "energy": order.energy,
            },
        }
    }


def _rate_sun(order: SandboxOrder) -> float | int:
    ordered = order.energy - ENERGY_BUFFER
    if ordered <= 0:
        return 0
    return sun_number(
        (Decimal(order.cost_sun - order.activation_sun) / ordered).quantize(Decimal("0.001"))
    )


@netts("GET", ip_required=False)
def order_check(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    ref = request.GET.get("order_id", "").strip()
    order = SandboxOrder.objects.filter(account=account, ref=ref).select_related("account").first()
    if order is None:
        return json_response({"success": False, "msg": "Order not found"})
    delegated = order.is_delegated(timezone.now())
    body: dict[str, Any] = {
        "id": order.ref,
        # The energy's cost: activation is listed apart (activation.cost, 4.4), while the
        # placing answer's paidTRX includes it (4.2).
        "cost": trx_number(order.cost_sun - order.activation_sun),
        "energy": order.energy,
        "rate_sun": _rate_sun(order),
        "target_address": order.receive_address,
        "duration": "1h",
        "tx_hashes": [order.fake_hash("delegate")] if delegated else [],
        "timestamp": _stamp(order.created_at),
        "comments": "",
    }
    answer: dict[str, Any] = {"success": True, "code": 10000, "order": body}
    if order.activation_sun:  # beside "order": providers.md 4.4 lists it apart from order.*
        answer["activation"] = {
            "cost": trx_number(order.activation_sun),
            "tx_hash": order.fake_hash("activate"),
        }
    return json_response(answer)
