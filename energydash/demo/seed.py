"""Thirty days of generated sandbox history: energydash.sandbox.seed plans it, this writes it.

Orders are written as Order rows marked placed_via=SEED_VIA (the dashboard's "sandbox data"
banner) and balances go through the real path, balances.services.record_balance, backdated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from energydash.balances.dashboard import SEED_VIA
from energydash.balances.models import ORDER, REFRESH, BalanceSnapshot
from energydash.balances.services import record_balance
from energydash.orders.models import Kind, Order, Status
from energydash.providers.models import ProviderAccount
from energydash.sandbox import seed as plan
from energydash.sandbox.seed import PlannedOrder, SeedRefused

__all__ = ["GeneratedHistory", "SeedRefused", "seed_history"]


class GeneratedHistory:
    """A sandbox.seed.HistoryWriter writing to the product's tables."""

    def has_history(self, accounts: list[ProviderAccount]) -> bool:
        return (
            Order.objects.filter(account__in=accounts).exists()
            or BalanceSnapshot.objects.filter(account__in=accounts).exists()
        )

    def order(
        self, account: ProviderAccount, planned: PlannedOrder, balance_after_sun: int
    ) -> None:
        Order.objects.create(
            account=account,
            kind=Kind.ENERGY,
            receive_address=planned.address,
            energy=planned.energy,
            period="1H",
            status=Status.COMPLETED,
            raw_status="generated",
            quoted_cost_sun=planned.cost_sun,
            cost_sun=planned.cost_sun,
            unit_price_sun=planned.price_sun,
            burn_sun_per_energy=settings.ENERGYDASH_BURN_SUN_PER_ENERGY,
            balance_after_sun=balance_after_sun,
            energy_delivered=planned.energy,
            placed_via=SEED_VIA,
            created=planned.at,
            submitted_at=planned.at,
            finished_at=planned.at + timedelta(seconds=6),
        )

    def reading(
        self, account: ProviderAccount, balance_sun: int, *, at: datetime, after_order: bool
    ) -> None:
        record_balance(account, balance_sun, source=ORDER if after_order else REFRESH, taken_at=at)


def seed_history(now: datetime | None = None) -> list[str]:
    """Generate the sandbox accounts' history into the product's tables (see sandbox.seed)."""
    return plan.seed_history(GeneratedHistory(), now)
