"""Typed request and response bodies; these are what /api/v1/openapi.json describes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, Discriminator, Tag, WithJsonSchema
from pydantic_core import PydanticCustomError

from energydash.lib.tron import InvalidAddress, parse_trx, validate_address

Period = Literal["1H", "1D", "3D", "30D"]
MAX_ENERGY = 100_000_000

# A TRON address: "T" and 33 Base58 characters (no 0, O, I, l); the checksum is checked too.
ADDRESS_PATTERN = r"^T[1-9A-HJ-NP-Za-km-z]{33}$"
# TRX as an exact decimal string: at most 6 decimal places (1 sun), below a billion TRX.
TRX_PATTERN = r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,6})?$"


def _address(value: str) -> str:
    """A Base58Check TRON address, exactly (no surrounding spaces): else `invalid_address`."""
    if not re.fullmatch(ADDRESS_PATTERN.strip("^$"), value):
        raise PydanticCustomError(
            "invalid_address", "Not a valid TRON address: 'T' and 33 Base58 characters."
        )
    try:
        return validate_address(value)
    except InvalidAddress as exc:
        raise PydanticCustomError(
            "invalid_address", "Not a valid TRON address: {why}.", {"why": str(exc)}
        ) from None


def _trx(value: str) -> str:
    """An exact TRX amount as a string ("5", "12.5"): else `invalid_amount`."""
    if not re.fullmatch(TRX_PATTERN.strip("^$"), value):
        raise PydanticCustomError(
            "invalid_amount",
            'An amount in TRX as a string, e.g. "5" or "12.5", with at most 6 decimal '
            "places (1 sun = 0.000001 TRX) and below 1,000,000,000.",
        )
    parse_trx(value)  # cannot fail once the pattern matched
    return value


Address = Annotated[
    str,
    AfterValidator(_address),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ADDRESS_PATTERN,
            "minLength": 34,
            "maxLength": 34,
            "description": "A TRON address (Base58Check, 'T' and 33 characters).",
            "example": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        }
    ),
]
Trx = Annotated[
    str,
    AfterValidator(_trx),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": TRX_PATTERN,
            "description": "TRX as an exact decimal string (at most 6 decimal places).",
            "example": "5",
        }
    ),
]


USDT_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$"


def _usdt(value: str) -> str:
    if not re.fullmatch(USDT_PATTERN.strip("^$"), value):
        raise PydanticCustomError(
            "invalid_amount",
            'An amount of USDT as a string, e.g. "12.5", with at most 6 decimal places.',
        )
    return value


Usdt = Annotated[
    str,
    AfterValidator(_usdt),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": USDT_PATTERN,
            "description": "USDT as an exact decimal string (at most 6 decimal places).",
            "example": "12.5",
        }
    ),
]


class _Body(Schema):
    # Types exactly as documented: "true" is not a boolean, "65000" is not an integer.
    model_config = ConfigDict(strict=True)


class _OrderCommon(_Body):
    address: Address
    account: str | None = Field(
        None,
        max_length=100,
        description="Account name or id (no routing). Omit to route to the cheapest eligible "
        "account that offers the kind.",
    )
    max_cost_trx: Trx | None = Field(None, description="Refuse accounts quoting more than this.")


class EnergyOrderIn(_OrderCommon):
    """Rent energy for `address` (the default kind)."""

    kind: Literal["energy"] = "energy"
    energy: int = Field(ge=1, le=MAX_ENERGY)
    period: Period = "1H"
    activate: bool = Field(False, description="Also activate the address if it is not yet.")


class CollectionOrderIn(_OrderCommon):
    """An itrx collection: energy for one USDT transfer from `address`."""

    kind: Literal["collection"]
    to_address: Address | None = Field(None, description="The USDT destination, if you give one.")


class ActivationOrderIn(_OrderCommon):
    """Activate `address` on chain (TronZap)."""

    kind: Literal["activation"]


def _kind_of(value: Any) -> str:
    kind = value.get("kind", "energy") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if kind in ("energy", "collection", "activation") else "energy"


OrderIn = Annotated[
    Annotated[EnergyOrderIn, Tag("energy")]
    | Annotated[CollectionOrderIn, Tag("collection")]
    | Annotated[ActivationOrderIn, Tag("activation")],
    Discriminator(_kind_of),
]


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


class BatchLineIn(_Body):
    address: str = Field(
        pattern=ADDRESS_PATTERN,
        min_length=34,
        max_length=34,
        description="A TRON address; a bad checksum is an `invalid_lines` error for its line.",
    )
    energy: int | None = Field(None, ge=1, le=MAX_ENERGY)


class BatchIn(_Body):
    lines: list[BatchLineIn] = Field(min_length=1, max_length=5000)
    energy: int = Field(65_000, ge=1, le=MAX_ENERGY, description="For lines without energy.")
    period: Period = "1H"
    max_cost_trx: Trx | None = None
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


class ReadyIn(_Body):
    """Make `address` ready to send a USDT transfer now (README "Ready to send")."""

    address: Address
    recipient: Address | None = Field(
        None, description="The transfer's recipient: its energy is estimated on chain."
    )
    usdt: Usdt | None = Field(None, description="The transfer's amount, for the estimate.")
    deadline_seconds: int | None = Field(
        None,
        ge=0,
        le=600,
        description="How long to wait for on-chain proof (default "
        "ENERGYDASH_READY_DEADLINE_SECONDS).",
    )


class ReadyOut(Schema):
    id: int = Field(description="The check's id: GET /api/v1/ready/{id} follows it.")
    state: Literal["working", "ready", "not_ready"]
    reason: str = Field(description="What was found and done, in words.")
    address: str
    recipient: str | None
    energy_estimate: int | None = Field(description="Energy the transfer is estimated to use.")
    energy_needed: int | None = Field(description="The estimate plus the configured headroom.")
    energy_available: int | None = Field(description="Energy the chain shows available now.")
    bandwidth_available: int | None
    energy_bought: int = Field(description="Energy bought by this request (0: none).")
    energy_fee_sun: int | None = Field(
        description="Sun per energy the fee_limit uses: the chain's getEnergyFee, or the "
        "configured ENERGYDASH_READY_ENERGY_PRICE_SUN when the chain's parameters are unreadable."
    )
    fee_limit_sun: int | None = Field(
        description="Recommended fee_limit: the estimate's burn cost at the energy price."
    )
    fee_limit_trx: str | None
    activation_order: str | None = Field(description="Id of the activation order, if any.")
    order: str | None = Field(description="Id of the energy order, if any.")
    created: datetime
    finished_at: datetime | None
