"""Order costs in integer sun, from unit prices in sun per energy."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from energydash.lib.tron import SUN_PER_TRX, sun_to_trx


def energy_cost_sun(price_sun: Decimal, energy: int, days: int = 1) -> int:
    """Whole sun, rounded up so a fractional unit price never undercharges."""
    return int((Decimal(price_sun) * energy * days).to_integral_value(rounding=ROUND_CEILING))


def trx_number(sun: int) -> float | int:
    """TRX as a JSON number (2.23, 1.4, 5000) the way PHP/JS providers print it."""
    trx = sun_to_trx(sun)
    return int(trx) if trx == trx.to_integral_value() else float(trx)


def trx_string(sun: int) -> str:
    """TRX as a decimal string with at least two places ("3.40", "3.3995")."""
    text = f"{sun_to_trx(sun):.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def per_thousand_trx(price_sun: Decimal) -> float:
    """TronZap quotes per 1000 units in TRX: 52.3 sun per energy -> 0.0523."""
    return float(Decimal(price_sun) * 1000 / SUN_PER_TRX)


def sun_number(price_sun: Decimal) -> float | int:
    """A unit price in sun, as an int when whole (itrx and Netts print ints)."""
    value = Decimal(price_sun)
    return int(value) if value == value.to_integral_value() else float(value)
