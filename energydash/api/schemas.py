"""Typed request and response bodies; these are what /api/v1/openapi.json describes."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

Period = Literal["1H", "1D", "3D", "30D"]
MAX_ENERGY = 100_000_000


class OrderIn(Schema):
    address: str = Field(min_length=1, max_length=64, description="Receive address (T…).")
    energy: int = Field(ge=1, le=MAX_ENERGY)
    period: Period = "1H"
    account: str | None = Field(
        None,
        max_length=100,
        description="Account name or id. Omit to route to the cheapest eligible account.",
    )
    max_cost_trx: Decimal | None = Field(
        None, ge=0, le=1_000_000_000, description="Refuse accounts quoting more than this."
    )
    activate: bool = False


class RankOut(Schema):
    account: str
    account_id: str
    provider: str
    price_sun: int | None
    verified_percent: float | None = Field(
        description="Verified share of its orders the chain judged in the routing window."
    )
    judged: int
    effective_price_sun: int | None = Field(
        description="price_sun / verified rate (the price alone with too few verdicts)."
    )
    standing: str = Field(
        description="won, lost (a lower effective price elsewhere), out (below the health "
        "floor) or ineligible (cannot take the order)."
    )
    reason: str


class AttemptOut(Schema):
    number: int
    account: str
    provider: str
    price_sun: int | None
    price_trx: str | None
    outcome: str = Field(
        description="accepted, not_sent, rejected, unavailable (these three fail over), "
        "unknown (stops: reconcile first) or failed."
    )
    message: str
    order_id: str | None
    reason: str = Field(
        description="Why routing chose this account: its effective price (price / "
        "verified-delivery rate) was the lowest."
    )
    ranking: list[RankOut] = Field(
        description="Every account as routing ranked it for this attempt, with why it won, "
        "lost or was out."
    )


class DeliveryOut(Schema):
    status: str = Field(
        description="pending, verified (the energy is on chain within the tolerance), short, "
        "missing, reclaimed_early or not_checked (no TRON node configured, or unreadable)."
    )
    energy: int | None = Field(description="Energy found on chain for this order.")
    checked_at: str | None
    evidence: dict = Field(
        description="delegator, tx_id, staked_sun, energy at the network ratio of the moment, "
        "expiry, tronscan (mainnet only), words: what the verdict rests on."
    )


class OrderOut(Schema):
    id: str
    status: str
    final: bool
    kind: str
    address: str
    energy: int | None
    period: str
    activate: bool
    account: str
    account_id: str
    provider: str
    reference: str
    provider_ref: str
    quoted_cost_sun: int | None
    quoted_cost_trx: str | None
    cost_sun: int | None
    cost_trx: str | None
    refund_sun: int | None
    refund_trx: str | None
    charged: bool
    kept_sun: int | None
    kept_trx: str | None
    possible_charge_sun: int | None
    cost_flag: str
    energy_delivered: int | None
    tx_hashes: list[str]
    last_error: str
    placed_via: str
    created: str
    finished_at: str | None
    delivery: DeliveryOut | None = Field(
        description="What the TRON chain shows of the order's energy (null: delivers nothing)."
    )


class OrderDetail(OrderOut):
    route_status: str | None
    attempts: list[AttemptOut]


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class QuoteOut(Schema):
    account: str
    account_id: str
    provider: str
    priority: int
    total_sun: int | None
    total_trx: str | None
    eligible: bool
    reason: str
    best: bool
    verified_percent: float | None = Field(
        description="Verified share of its orders the chain judged in the routing window."
    )
    effective_price_sun: int | None = Field(
        description="total_sun / verified rate: what best-price routing compares."
    )
    standing: str = Field(description="won, lost, out (below the health floor) or ineligible.")
    note: str = Field(description="Why it won, lost or is out.")


class PercentilesOut(Schema):
    p50: float | None
    p95: float | None


class ScorecardDeliveryOut(Schema):
    judged: int = Field(
        description="Orders with a chain verdict (verified, short, missing, reclaimed_early)."
    )
    verified: int
    short: int
    missing: int
    reclaimed_early: int
    not_checked: int
    verified_percent: float | None
    short_percent: float | None
    missing_percent: float | None
    reclaimed_early_percent: float | None


class ScorecardPriceOut(Schema):
    orders: int = Field(description="Orders with both a quote and a charge.")
    quoted_sun: int
    charged_sun: int
    charged_percent_of_quoted: float | None
    charged_above_quote: int = Field(description="Of those, orders charged above their quote.")


class RefusalOut(Schema):
    reason: str
    count: int


class ScorecardOut(Schema):
    account: str
    account_id: str
    provider: str
    enabled: bool
    hours: int = Field(description="The window: orders created in the last this many hours.")
    since: str
    orders: int
    accepted: int = Field(description="Orders the provider accepted (charged).")
    completed: int
    fill_rate_percent: float | None = Field(description="completed / accepted.")
    refused: int = Field(description="Refused before the provider accepted (nothing charged).")
    refusals: list[RefusalOut] = Field(description="The most frequent refusal reasons.")
    delivery: ScorecardDeliveryOut
    price: ScorecardPriceOut
    seconds_to_done: PercentilesOut = Field(
        description="From placing to the provider's done (completed orders)."
    )
    seconds_to_verified: PercentilesOut = Field(
        description="From placing to the chain's verification."
    )


class BalanceOut(Schema):
    account: str
    account_id: str
    provider: str
    enabled: bool
    balance_sun: int | None
    balance_trx: str | None
    as_of: str | None
    refresh_error: str
    low_balance_threshold_sun: int


class HealthOut(Schema):
    status: Literal["ok", "degraded"]
    database: str
    worker: str
    worker_last_seen: str | None


class BatchLineIn(Schema):
    address: str = Field(min_length=1, max_length=64)
    energy: int | None = Field(None, ge=1, le=MAX_ENERGY)


class BatchIn(Schema):
    lines: list[BatchLineIn] = Field(min_length=1, max_length=5000)
    energy: int = Field(65_000, ge=1, le=MAX_ENERGY, description="For lines without energy.")
    period: Period = "1H"
    max_cost_trx: Decimal | None = Field(None, ge=0, le=1_000_000_000)
    activate: bool = False


class BatchLineOut(Schema):
    number: int
    address: str
    energy: int
    status: str
    planned_account: str | None
    planned_price_sun: int | None
    order_id: str | None
    order_status: str | None
    error: str


class BatchOut(Schema):
    id: str
    status: str
    total: int
    placed: int
    failed: int
    review: int
    cancelled: int
    remaining: int
    spent_sun: int
    spent_trx: str
    planned_total_sun: int
    planned_total_trx: str
    lines: list[BatchLineOut]


class ProblemOut(Schema):
    """An RFC 9457 problem document (application/problem+json). 403 codes: `viewer_token` (a
    viewer token cannot place), `insufficient_scope` (the token lacks the scope named in
    `required_scope`: read, quote, place or batches), `token_expired`, `ip_not_allowed` (the
    client address is outside the token's allowed networks), `token_cap_exceeded` (the order
    would take the token's spend today above its daily cap; nothing was sent)."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str
    required_scope: str | None = None
