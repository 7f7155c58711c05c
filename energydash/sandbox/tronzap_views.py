"""TronZap simulated: POST /v1/... with Bearer token and X-Signature (providers.md section 3)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from energydash.lib.tron import InvalidAddress, validate_address
from energydash.providers.credentials import TRONZAP
from energydash.sandbox import faults, money
from energydash.sandbox.http import as_int, endpoint, json_response, parse_json
from energydash.sandbox.models import SandboxAccount, SandboxAddress, SandboxOrder
from energydash.sandbox.money_models import Fate
from energydash.sandbox.placement import place_order
from energydash.sandbox.pricing import energy_cost_sun, per_thousand_trx, trx_number, trx_string


class Refused(Exception):
    """A TronZap error answer: {"code", "key", "request_id", "error"}, sent with HTTP 200."""

    def __init__(self, code: int, key: str, message: str) -> None:
        super().__init__(message)
        self.code, self.key, self.message = code, key, message


def _error(code: int, key: str, message: str, status: int = 200) -> HttpResponse:
    body = {"code": code, "key": key, "request_id": str(uuid.uuid4()), "error": message}
    return json_response(body, status=status)


def _ok(result: Any) -> HttpResponse:
    return json_response({"code": 0, "result": result})


def _server_error() -> HttpResponse:
    return _error(500, "internal_server_error", "Internal server error", status=500)


def _not_allowed(method: str) -> HttpResponse:
    return _error(2, "invalid_service_or_params", f"Method {method} not allowed", status=405)


def tronzap(view: Any) -> Any:
    """POST only; Bearer token, then faults, then X-Signature = sha256(raw body + secret)."""

    @endpoint("POST", _not_allowed)
    def wrapper(request: HttpRequest) -> HttpResponse:
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else ""
        account = SandboxAccount.for_key(TRONZAP, token)
        if account is None:
            return _error(1, "auth", "Incorrect token or signature")
        money.settle_due_refunds(account)
        if failed := faults.before_handling(account, _server_error):
            return failed
        expected = hashlib.sha256(request.body + account.secret.encode()).hexdigest()
        if not hmac.compare_digest(
            expected, request.headers.get("X-Signature", "").strip().lower()
        ):
            return _error(1, "auth", "Incorrect token or signature")
        try:
            data = parse_json(request.body) if request.body.strip() else {}
        except ValueError:
            return _error(2, "invalid_service_or_params", "Request body is not valid JSON")
        if data == []:  # the PHP SDK sends [] for parameterless calls
            data = {}
        if not isinstance(data, dict):
            return _error(2, "invalid_service_or_params", "Request body must be a JSON object")
        try:
            return view(request, account, data)
        except Refused as refused:
            return _error(refused.code, refused.key, refused.message)

    return wrapper


def _address(value: Any) -> str:
    try:
        return validate_address(value if isinstance(value, str) else "")
    except InvalidAddress:
        raise Refused(10, "invalid_tron_address", "Invalid TRON address") from None


def _energy(account: SandboxAccount, value: Any) -> int:
    energy = as_int(value)
    if energy is None or not account.min_energy <= energy <= account.max_energy:
        raise Refused(
            11,
            "invalid_energy_amount.energy_amount",
            f"Energy amount must be between {account.min_energy} and {account.max_energy}",
        )
    return energy


def _duration(value: Any) -> int:
    if as_int(value) != 1:
        raise Refused(12, "invalid_duration.duration", "Duration must be equal to 1 (1 hour)")
    return 1


def _requested_energy(params: dict[str, Any]) -> Any:
    """params.amounts.energy, as the official Python (1.6.0) and Java SDKs send it, or the legacy
    params.energy_amount (the Node and PHP SDKs send it, beside `amount`). `amount` on its own,
    which no SDK sends, is refused like a missing energy amount (code 11), so a client that
    drifts from the SDKs' body fails here rather than at the real TronZap."""
    amounts = params.get("amounts")
    if isinstance(amounts, dict) and amounts.get("energy") is not None:
        return amounts["energy"]
    if params.get("energy_amount") is not None:
        return params["energy_amount"]
    raise Refused(
        11,
        "invalid_energy_amount.energy_amount",
        "Energy amount is required: send params.amounts.energy",
    )


@tronzap
def services(request: HttpRequest, account: SandboxAccount, data: dict[str, Any]) -> HttpResponse:
    def package(energy: int) -> float | int:
        return trx_number(energy_cost_sun(account.price_sun, energy))

    energy = {
        "duration": 1,
        "min_amount": account.min_energy,
        "max_amount": account.max_energy,
        "min_energy": account.min_energy,
        "max_energy": account.max_energy,  # deprecated aliases
        "price": per_thousand_trx(account.price_sun),
        "price_32k": package(32_000),
        "price_65k": package(65_000),
        "price_131k": package(131_000),
    }
    return _ok(
        {"energy": [energy], "activate_address": {"price": trx_number(account.activation_fee_sun)}}
    )


@tronzap
def balance(request: HttpRequest, account: SandboxAccount, data: dict[str, Any]) -> HttpResponse:
    # The real API sends this balance as a string on some days and a number on others.
    balance_sun = money.shown_balance(account)
    return _ok({"balance": trx_string(balance_sun), "address": account.deposit_address})


@tronzap
def calculate(request: HttpRequest, account: SandboxAccount, data: dict[str, Any]) -> HttpResponse:
    address = _address(data.get("address"))
    energy = _energy(account, data.get("amount", data.get("energy")))  # "energy" is deprecated
    duration = _duration(data.get("duration", 1))
    price = energy_cost_sun(account.price_sun, energy)
    fee = 0 if SandboxAddress.is_activated(address) else account.activation_fee_sun or 0
    return _ok(
        {
            "address": address,
            "type": "energy",
            "amount": energy,
            "duration": duration,
            "price": trx_number(price),
            "activation_fee": trx_number(fee),
            "total": trx_number(price + fee),
        }
    )


@tronzap
def transaction_new(
    request: HttpRequest, account: SandboxAccount, data: dict[str, Any]
) -> HttpResponse:
    service = data.get("service")
    params = data.get("params")
    external_id = data.get("external_id")
    if service not in ("energy", "activate_address"):
        raise Refused(2, "invalid_service_or_params", "Service must be energy or activate_address")
    if not isinstance(params, dict):
        raise Refused(2, "invalid_service_or_params", "params must be an object")
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 128):
        raise Refused(2, "invalid_service_or_params.external_id", "external_id must be a string")
    address = _address(params.get("address"))
    activated = SandboxAddress.is_activated(address)
    fee = account.activation_fee_sun or 0
    if service == "activate_address":
        if activated:
            raise Refused(25, "address_already_activated", "Address is already activated")
        fields = {"kind": SandboxOrder.Kind.ACTIVATE, "energy": 0, "activation_sun": fee}
        cost = fee
    else:
        energy = _energy(account, _requested_energy(params))
        _duration(params.get("duration"))
        activate = params.get("activate_address") is True
        if not activated and not activate:
            raise Refused(24, "address_not_activated", "Address is not activated")
        activation = 0 if activated else fee
        fields = {"kind": SandboxOrder.Kind.ENERGY, "energy": energy, "activation_sun": activation}
        cost = energy_cost_sun(account.price_sun, energy) + activation
    if account.orders_unavailable:
        raise Refused(35, "service_unavailable", "Service temporarily unavailable")
    order = place_order(
        account,
        cost_sun=cost,
        ref=str(uuid.uuid4()),
        client_ref=external_id or "",
        receive_address=address,
        period="1",
        duration_seconds=3600,
        **fields,
    )
    if order is None:
        raise Refused(6, "insufficient_funds", "Insufficient funds")
    faults.hold_if_lost(account)
    if lost := faults.gateway_error_after_create(account):
        return lost
    return _ok(_transaction(order, timezone.now(), created=True))


@tronzap
def transaction_check(
    request: HttpRequest, account: SandboxAccount, data: dict[str, Any]
) -> HttpResponse:
    orders = SandboxOrder.objects.filter(account=account).select_related("account")
    if data.get("id"):
        order = orders.filter(ref=str(data["id"])).first()
    elif data.get("external_id"):
        order = orders.filter(client_ref=str(data["external_id"])).first()
    else:
        raise Refused(2, "invalid_service_or_params.id", "Either id or external_id is required")
    if order is None:
        raise Refused(20, "subscription_not_found.transaction", "Transaction not found")
    return _ok(_transaction(order, timezone.now(), created=False))


def status(order: SandboxOrder, now: datetime) -> str:
    """new, pending (half-way), then success at the order's delegation time; "failed" then
    for an order failing after acceptance; "refunded" once refunded (admin action, or a late
    refund after success)."""
    done = order.is_delegated(now)
    if order.fate == Fate.FAILED and done:
        return "failed"
    if order.refund_sun is not None:
        return "refunded"
    if done:
        return "success"
    return (
        "pending"
        if now - order.created_at >= timedelta(seconds=order.delegation_delay()) / 2
        else "new"
    )


def _transaction(order: SandboxOrder, now: datetime, *, created: bool) -> dict[str, Any]:
    """transaction/new answers numbers and ISO dates with the new params shape; transaction/check
    answers amounts as strings, "Y-m-d H:i:s" dates and the legacy params shape (the real API's
    quirks, as the official SDKs document them)."""
    state = status(order, now)
    if order.kind == SandboxOrder.Kind.ACTIVATE:
        service, params = "activate_address", {"address": order.receive_address}
    elif created:
        service = "energy"
        params = {
            "address": order.receive_address,
            "amounts": {"energy": order.energy},
            "duration": 1,
            "activate_address": bool(order.activation_sun),
        }
    else:
        service = "energy"
        params = {
            "address": order.receive_address,
            "energy_amount": order.energy,
            "duration": 1,
            "activate_address": bool(order.activation_sun),
        }
    moment = order.created_at.astimezone(UTC)
    # refund_amount (TRX string) is our name for the refunded part: no SDK lists refunds.
    refunded = order.refund_sun is not None and state in ("refunded", "failed")
    refund = {"refund_amount": trx_string(order.refund_sun or 0)} if refunded else {}
    return {
        "id": order.ref,
        "external_id": order.client_ref or None,
        "service": service,
        "params": params,
        "status": state,
        "amount": trx_number(order.cost_sun) if created else trx_string(order.cost_sun),
        "created_at": moment.isoformat(timespec="seconds")
        if created
        else moment.strftime("%Y-%m-%d %H:%M:%S"),
        "hash": order.fake_hash("delegate") if state == "success" else "",
        **refund,
    }


@tronzap
def address_info(
    request: HttpRequest, account: SandboxAccount, data: dict[str, Any]
) -> HttpResponse:
    """The simulated chain's view: energy currently delegated to the address by any sandbox
    provider; 600 free bandwidth once activated. Token balances are not simulated (zero)."""
    address = _address(data.get("address"))
    now = timezone.now()
    orders = SandboxOrder.objects.filter(receive_address=address).select_related("account")
    energy = sum(o.energy for o in orders if o.is_delegated(now) and not o.reclaimed(now))
    bandwidth = 600 if SandboxAddress.is_activated(address) else 0
    return _ok(
        {
            "resources": {"energy": energy, "bandwidth": bandwidth},
            "balances": {"TRX": 0, "USDT": "0"},
        }
    )
