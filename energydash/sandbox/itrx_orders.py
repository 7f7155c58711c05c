"""itrx money and order shapes: periods, prices, the order/query body and the callback payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from energydash.sandbox.models import SandboxAccount, SandboxOrder
from energydash.sandbox.pricing import energy_cost_sun

SMALL_AMOUNT = 50_000  # orders below this pay SMALL_ADDITION_SUN (index-data small_amount)
SMALL_ADDITION_SUN = 600_000  # 0.6 TRX
USDT_ENERGY_OLD = 65_000  # recipient already holds USDT
USDT_ENERGY_NEW = 131_000  # recipient never held USDT
PLATFORM_AVAIL_ENERGY = 980_000_000
PLATFORM_MAX_ENERGY = 60_000_000
CN = timezone(timedelta(hours=8))  # itrx prints create_time with +08:00


@dataclass(frozen=True)
class Period:
    text: str  # "1H", "3D"
    number: int  # order/query "period": 0 for 1H, n for nD
    days: int  # price multiplier
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Period:
        if text == "1H":
            return cls(text, 0, 1, 3600)
        days = int(text[:-1])
        return cls(text, days, days, days * 86_400)


def unit_price(account: SandboxAccount, period: Period) -> Decimal:
    if period.number == 0:
        return Decimal(account.price_sun)
    tiers = {int(k): Decimal(str(v)) for k, v in (account.day_prices_sun or {}).items()}
    if not tiers:
        return Decimal(account.price_sun)
    eligible = [t for t in tiers if t <= period.days]
    return tiers[max(eligible)] if eligible else tiers[min(tiers)]


@dataclass(frozen=True)
class Quote:
    price: Decimal
    base_sun: int
    addition_sun: int

    @property
    def total_sun(self) -> int:
        # Decision: total_price includes the small-order addition (the doc example nearly does).
        return self.base_sun + self.addition_sun


def quote(account: SandboxAccount, period: Period, energy: int) -> Quote:
    price = unit_price(account, period)
    addition = SMALL_ADDITION_SUN if energy < SMALL_AMOUNT else 0
    return Quote(price, energy_cost_sun(price, energy, period.days), addition)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def query_body(order: SandboxOrder, now: datetime) -> dict[str, Any]:
    delegated = order.is_delegated(now)
    details = []
    if delegated:
        reclaimed = order.reclaimed(now)
        details.append(
            {
                "delegate_hash": order.fake_hash("delegate"),
                "delegate_time": iso_z(order.delegated_at()),
                "reclaim_hash": order.fake_hash("reclaim") if reclaimed else "",
                "reclaim_time": iso_z(order.expires_at()),
                "reclaim_time_real": iso_z(reclaimed) if reclaimed else None,
                "status": 30 if reclaimed else 20,
            }
        )
    return {
        "errno": 0,
        "receive_address": order.receive_address,
        "order_no": order.ref,
        "energy_amount": order.energy,
        "pay_amount": float(order.energy) if delegated else 0.0,
        "amount": order.cost_sun,
        "details": details,
        "create_time": order.created_at.astimezone(CN).isoformat(),
        "api_name": order.account.name,
        "period": Period.parse(order.period).number if order.period else 0,
        "status": 41 if order.refund_sun is not None else 40 if delegated else 30,
        "refund_amount": order.refund_sun or 0,  # sun; 41 = "refund termination"
    }


def callback_payload(order: SandboxOrder) -> dict[str, Any]:
    """providers.md 2.12, for a completed delegation."""
    return {
        "active_hash": order.fake_hash("activate") if order.activation_sun else "",
        "bandwidth_hash": "",
        "energy_amount": order.energy,
        "out_trade_no": order.client_ref,
        "pay_amount": float(order.energy),
        "serial": order.ref,
        "txid": order.fake_hash("delegate"),
        "status": 40,
        "type": "energy",
        "receive_address": order.receive_address,
        "source": "api",
    }
