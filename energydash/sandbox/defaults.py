"""Per-provider defaults for sandbox accounts: limits and prices as providers.md documents them."""

from __future__ import annotations

from decimal import Decimal

from energydash.lib.tron import SUN_PER_TRX
from energydash.providers.credentials import ITRX, NETTS, TRONZAP

# Field name -> value, applied by SandboxAccount.save() to any field left blank.
PROVIDER_DEFAULTS: dict[str, dict[str, object]] = {
    ITRX: {
        # The documented field error says ">= 10000"; index-data reports the same figure.
        "min_energy": 10_000,
        "max_energy": 100_000_000,
        "price_sun": Decimal("65"),
        "activation_fee_sun": 1_500_000,  # "costing 1.5 TRX" (seed 001)
    },
    TRONZAP: {
        # Docs disagree (32,000 / 50,000 / 60,000); clients must read /v1/services.
        "min_energy": 32_000,
        "max_energy": 5_000_000,
        "price_sun": Decimal("52.3"),  # 0.0523 TRX per 1000 energy, the SDK test figure
        "activation_fee_sun": 1_400_000,  # activate_address.price 1.4 (SDK test data)
    },
    NETTS: {
        "min_energy": 61_000,  # seed 004
        "max_energy": 5_000_000,
        "price_sun": Decimal("55"),
        "activation_fee_sun": 1_100_000,  # "at cost": 1 TRX account fee plus bandwidth
    },
}

# itrx multi-day "my price" tiers (sun per energy per day), keyed by tiered_pricing period.
ITRX_DAY_PRICES_SUN = {"1": 85, "3": 80, "30": 75}

DEMO_BALANCE_SUN = 5_000 * SUN_PER_TRX
