"""What adapter operations return: normalised order statuses and periods, and the result values.

Every provider's own status codes and field names are mapped onto these by its adapter, so the
rest of the console reads one vocabulary. Money is integer sun everywhere; `raw` keeps the
provider's answer as received. unit_price and to_int are the arithmetic adapters share to fill
them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from energydash.lib.tron import InvalidAddress, validate_address

SUBMITTED = "submitted"
DELEGATING = "delegating"
COMPLETED = "completed"
FAILED = "failed"
REFUNDED = "refunded"
FINAL_STATUSES = frozenset({COMPLETED, FAILED, REFUNDED})

PERIODS = ("1H", "1D", "3D", "30D")  # canonical spelling (itrx's)


def deposit_address(value: object) -> str:
    """A provider's deposit address if it is a valid TRON address, else "" (never trusted as
    is: it is shown to operators who send money to it)."""
    if not isinstance(value, str):
        return ""
    try:
        return validate_address(value.strip())
    except InvalidAddress:
        return ""


@dataclass(frozen=True)
class Balance:
    balance_sun: int
    raw: dict
    # Where the account is topped up, when the provider's balance answer names it (TronZap
    # `address`, Netts `user_info.deposit_address`); "" when it does not or the value is not a
    # valid TRON address.
    deposit_address: str = ""


@dataclass(frozen=True)
class Limits:
    min_energy: int | None
    max_energy: int | None
    periods: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """total_sun is everything the provider says it will charge, activation included when the
    provider reports it (activation_sun); unit_price_sun is the energy-only price per unit."""

    provider: str
    energy: int
    period: str
    total_sun: int
    unit_price_sun: Decimal  # sun per energy
    limits: Limits
    activation_sun: int | None
    raw: dict
    price_source: str = ""  # which provider endpoint the price came from, when there is a choice


@dataclass(frozen=True)
class PlacedOrder:
    provider_ref: str
    status: str
    raw_status: str
    cost_sun: int | None
    balance_after_sun: int | None
    energy: int | None  # energy the provider said it will delegate; None when it did not say
    tx_hashes: tuple[str, ...]
    raw: dict


@dataclass(frozen=True)
class OrderState:
    provider_ref: str
    reference: str | None
    status: str
    raw_status: str
    cost_sun: int | None
    energy_ordered: int | None
    energy_delivered: int | None
    tx_hashes: tuple[str, ...]
    refund_sun: int | None
    raw: dict


@dataclass(frozen=True)
class CallbackEvent:
    provider_ref: str
    reference: str | None
    status: str
    raw_status: str
    energy_delivered: int | None
    tx_hashes: tuple[str, ...]
    raw: dict
    matched_form: str  # "compact" | "spaced" | "raw": which serialization the signature matched


def unit_price(total_sun: int, energy: int) -> Decimal:
    return (Decimal(total_sun) / Decimal(energy)).quantize(Decimal("0.001"))


def to_int(value: Any) -> int | None:
    """A provider's figure (int, float or numeric string) as a whole number, truncated toward
    zero; None when there is none or it is not a number (NaN, Infinity, garbage, a bool)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(Decimal(str(value)).to_integral_value(rounding=ROUND_DOWN))
    except (ArithmeticError, ValueError):  # NaN raises ValueError: no figure, not a crash
        return None
