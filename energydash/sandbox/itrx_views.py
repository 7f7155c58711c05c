"""itrx.io simulated: /api/v1/frontend/... (providers.md section 2)."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from energydash.sandbox import faults, money
from energydash.sandbox.chain_state import undelegate
from energydash.sandbox.http import endpoint, json_response
from energydash.sandbox.itrx_auth import account_for, detail, forbidden, verify_signed_body
from energydash.sandbox.itrx_fields import Fields
from energydash.sandbox.itrx_orders import (
    PLATFORM_AVAIL_ENERGY,
    PLATFORM_MAX_ENERGY,
    SMALL_ADDITION_SUN,
    SMALL_AMOUNT,
    USDT_ENERGY_NEW,
    USDT_ENERGY_OLD,
    Period,
    query_body,
    quote,
)
from energydash.sandbox.models import SandboxAccount, SandboxAddress, SandboxOrder
from energydash.sandbox.placement import place_order
from energydash.sandbox.pricing import sun_number


def _not_allowed(method: str) -> HttpResponse:
    return detail(f'Method "{method}" not allowed.', 405)


def _server_error() -> HttpResponse:
    return HttpResponse("<h1>Server Error (500)</h1>", status=500, content_type="text/html")


def _errno(message: str, errno: int = 1) -> HttpResponse:
    return json_response({"errno": errno, "message": message})


GET = endpoint("GET", _not_allowed)
POST = endpoint("POST", _not_allowed)


def _keyed(request: HttpRequest) -> tuple[SandboxAccount | None, HttpResponse | None]:
    account = account_for(request)
    if account is None:
        return None, forbidden()
    money.settle_due_refunds(account)
    return account, faults.before_handling(account, _server_error)


@GET
def index_data(request: HttpRequest) -> HttpResponse:
    account = account_for(request)
    if account is None:
        return json_response({})  # documented: a wrong key gets empty data, not an error
    money.settle_due_refunds(account)
    if failed := faults.before_handling(account, _server_error):
        return failed
    tiers = [{"period": 0, "price": sun_number(account.price_sun)}]
    tiers += [
        {"period": int(k), "price": v}
        for k, v in sorted((account.day_prices_sun or {}).items(), key=lambda kv: int(kv[0]))
    ]
    return json_response(
        {
            "platform_avail_energy": PLATFORM_AVAIL_ENERGY,
            "platform_max_energy": PLATFORM_MAX_ENERGY,
            "minimum_order_energy": account.min_energy,
            "maximum_order_energy": account.max_energy,
            "small_amount": SMALL_AMOUNT,
            "small_addition": SMALL_ADDITION_SUN / 1_000_000,  # TRX, as documented
            "usdt_energy_need_old": USDT_ENERGY_OLD,
            "usdt_energy_need_new": USDT_ENERGY_NEW,
            "tiered_pricing": tiers,
            "balance": money.shown_balance(account),
        }
    )


@GET
def order_price(request: HttpRequest) -> HttpResponse:
    account, failed = _keyed(request)
    if failed or account is None:
        return failed or forbidden()
    fields = Fields(request.GET.dict())
    fields.choice("period", required=True)
    fields.integer("energy_amount", required=False, lo=account.min_energy, hi=account.max_energy)
    fields.address("to_address", required=False)
    if (
        not fields.errors
        and "energy_amount" not in fields.cleaned
        and "to_address" not in fields.cleaned
    ):
        fields.errors["energy_amount"] = ["This field is required."]
    if fields.errors:
        return json_response(fields.errors, status=400)
    energy = fields.cleaned.get("energy_amount")
    if energy is None:
        recipient_is_new = not SandboxAddress.is_activated(fields.cleaned["to_address"])
        energy = USDT_ENERGY_NEW if recipient_is_new else USDT_ENERGY_OLD
    period = Period.parse(fields.cleaned["period"])
    q = quote(account, period, energy)
    return json_response(
        {
            "period": period.text,
            "energy_amount": energy,
            "price": sun_number(q.price),
            "total_price": q.total_sun,
            "addition": q.addition_sun,
        }
    )


@POST
def order(request: HttpRequest) -> HttpResponse:
    account, failed = _keyed(request)
    if failed or account is None:
        return failed or forbidden()
    data, failed = verify_signed_body(request, account)
    if failed or data is None:
        return failed or forbidden()
    fields = Fields(data)
    fields.integer("energy_amount", required=True, lo=account.min_energy, hi=account.max_energy)
    fields.choice("period", required=True)
    fields.address("receive_address", required=True)
    fields.integer("active", required=False)
    fields.integer("exclusive", required=False)
    fields.text("callback_url", max_length=2048, url=True)
    fields.text("out_trade_no", max_length=128)
    if fields.errors:
        return json_response(fields.errors, status=400)
    c = fields.cleaned
    period = Period.parse(c["period"])
    return _place(
        account,
        receive_address=c["receive_address"],
        energy=c["energy_amount"],
        period=period,
        activate=(c.get("active") or 0) > 0,
        callback_url=c["callback_url"],
        out_trade_no=c["out_trade_no"],
        scene=None,
        base_sun=quote(account, period, c["energy_amount"]).total_sun,
    )


@POST
def collect_manual(request: HttpRequest) -> HttpResponse:
    account, failed = _keyed(request)
    if failed or account is None:
        return failed or forbidden()
    data, failed = verify_signed_body(request, account)
    if failed or data is None:
        return failed or forbidden()
    fields = Fields(data)
    fields.choice("scene", required=True, allowed={0, 1, 2})
    fields.address("receive_address", required=True)
    fields.address("to_address", required=False)
    fields.text("callback_url", max_length=2048, url=True)
    fields.text("out_trade_no", max_length=128)
    if fields.errors:
        return json_response(fields.errors, status=400)
    c = fields.cleaned
    scene = c["scene"]
    if scene == 0:  # auto: a recipient that is not even activated cannot hold USDT yet
        to = c.get("to_address")
        scene = 2 if to and not SandboxAddress.is_activated(to) else 1
    energy = USDT_ENERGY_NEW if scene == 2 else USDT_ENERGY_OLD
    period = Period.parse("1H")
    return _place(
        account,
        receive_address=c["receive_address"],
        energy=energy,
        period=period,
        activate=False,
        callback_url=c["callback_url"],
        out_trade_no=c["out_trade_no"],
        scene=scene,
        base_sun=quote(account, period, energy).total_sun,
    )


def _place(
    account: SandboxAccount,
    *,
    receive_address: str,
    energy: int,
    period: Period,
    activate: bool,
    callback_url: str,
    out_trade_no: str,
    scene: int | None,
    base_sun: int,
) -> HttpResponse:
    if account.orders_unavailable:
        return _errno("Insufficient platform energy, please try again later")
    activation_sun = 0
    if not SandboxAddress.is_activated(receive_address):
        if not activate:
            return _errno("the address is not activated")
        activation_sun = account.activation_fee_sun or 0
    placed = place_order(
        account,
        cost_sun=base_sun + activation_sun,
        activation_sun=activation_sun,
        kind=SandboxOrder.Kind.COLLECT if scene is not None else SandboxOrder.Kind.ENERGY,
        ref=uuid.uuid4().hex,
        client_ref=out_trade_no,
        receive_address=receive_address,
        energy=energy,
        period=period.text,
        duration_seconds=period.seconds,
        scene=scene,
        callback_url=callback_url,
    )
    if placed is None:
        return _errno("insufficient balance")
    faults.hold_if_lost(account)
    if lost := faults.gateway_error_after_create(account):
        return lost
    body = {"errno": 0, "serial": placed.ref}
    if scene is not None:
        body["scene"] = scene
    body |= {"amount": placed.cost_sun, "balance": money.shown_balance(account)}
    return json_response(body)


@GET
def order_query(request: HttpRequest) -> HttpResponse:
    account, failed = _keyed(request)
    if failed or account is None:
        return failed or forbidden()
    serial = request.GET.get("serial", "").strip()
    out_trade_no = request.GET.get("out_trade_no", "").strip()
    if not serial and not out_trade_no:
        return detail("At least one of serial or out_trade_no must be provided.", 400)
    orders = SandboxOrder.objects.filter(account=account).select_related("account")
    found = orders.filter(ref=serial) if serial else orders.filter(client_ref=out_trade_no)
    order = found.first()  # newest first: out_trade_no is not unique at itrx
    if order is None:
        return _errno("Order not found", 404)
    return json_response(query_body(order, timezone.now()))


@POST
def order_reclaim(request: HttpRequest) -> HttpResponse:
    account, failed = _keyed(request)
    if failed or account is None:
        return failed or forbidden()
    data, failed = verify_signed_body(request, account)
    if failed or data is None:
        return failed or forbidden()
    order = SandboxOrder.objects.filter(account=account, ref=str(data.get("serial", ""))).first()
    if order is None:
        return _errno("Order not found", 404)
    now = timezone.now()
    reclaimed_at = max(now, order.delegated_at())
    with transaction.atomic():
        if SandboxOrder.objects.filter(pk=order.pk, reclaimed_at__isnull=True).update(
            reclaimed_at=reclaimed_at
        ):
            undelegate(order, reclaimed_at)
    return json_response({"errno": 0, "message": "request accept"})
