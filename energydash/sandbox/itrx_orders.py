"""itrx money and order shapes: periods, prices, the order/query body and the callback payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from energydash.sandbox.models import SandboxAccount, SandboxOrder
from energydash.sandbox.money import delivered_share
from energydash.sandbox.money_models import Fate
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


# The query's failed ends (2.5): 0 "timeout closed", 43 "abnormal termination".
FAILED_STATUS = {Fate.CLOSED: 0, Fate.ABORTED: 43}


def status_code(order: SandboxOrder, now: datetime) -> int:
    """2.5's status: 30 while delegating (31 partly delegated, then 32 retrying, for orders the
    transient knob picks), then 40; 41 once refunded; 0/43 for orders that fail."""
    if order.fate in FAILED_STATUS and order.is_delegated(now):
        return FAILED_STATUS[Fate(order.fate)]
    if order.refund_sun is not None:
        return 41
    if order.is_delegated(now):
        return 40
    rate = order.account.transient_status_rate
    if rate > 0 and int(order.fake_hash("transient")[:8], 16) / 0x1_0000_0000 < rate:
        third = (order.delegated_at() - order.created_at) / 3
        elapsed = now - order.created_at
        return 32 if elapsed >= 2 * third else 31 if elapsed >= third else 30
    return 30


def pay_amount(order: SandboxOrder, now: datetime, status: int) -> float:
    """Energy actually delegated (a float, as itrx sends it): half while partly delegated, the
    part not refunded after a refund in part."""
    if status in (0, 43) or not order.is_delegated(now) and status not in (31, 32):
        return 0.0
    if status in (31, 32):
        return order.energy / 2
    if status == 41 and order.fate == Fate.REFUNDED_PART:
        return float(round(order.energy * delivered_share(order), 6))
    return float(order.energy)


def query_body(order: SandboxOrder, now: datetime) -> dict[str, Any]:
    status = status_code(order, now)
    delegated = order.is_delegated(now) and order.fate not in FAILED_STATUS
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
        "pay_amount": pay_amount(order, now, status),
        "amount": order.cost_sun,
        "details": details,
        "create_time": order.created_at.astimezone(CN).isoformat(),
        "api_name": order.account.name,
        "period": Period.parse(order.period).number if order.period else 0,
        "status": status,
        "refund_amount": order.refund_sun or 0,  # sun; 41 = "refund termination"
    }


def callback_payload(order: SandboxOrder) -> dict[str, Any]:
    """providers.md 2.12, for a delegation that completed (40) or ended in a refund (41). The
    payload has no amount or refund field: the receiver reads those from order/query."""
    refunded = order.refund_sun is not None or order.fate == Fate.REFUNDED_PART
    return {
        "active_hash": order.fake_hash("activate") if order.activation_sun else "",
        "bandwidth_hash": "",
        "energy_amount": order.energy,
        "out_trade_no": order.client_ref,
        "pay_amount": pay_amount(order, order.delegated_at(), 41 if refunded else 40),
        "serial": order.ref,
        "txid": order.fake_hash("delegate"),
        "status": 41 if refunded else 40,
        "type": "energy",
        "receive_address": order.receive_address,
        "source": "api",
    }
