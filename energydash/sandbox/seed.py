"""Thirty days of generated history for the sandbox accounts, so a first `make run` has charts.

What is generated and what is real: the runtime cannot travel back in time, so the past cannot be
placed through the sandbox over HTTP. Instead each past order is written as an Order row marked
placed_via="sandbox-seed" (the dashboard shows a "sandbox data" banner while any exist), costed with
the sandbox's own pricing function (energydash.sandbox.pricing.energy_cost_sun) at the sandbox
account's configured price, drifting a few per cent by day so the price chart shows who was
cheapest when. Balances go through the real path, services.record_balance, with backdated times:
one "order" reading per order (as an itrx order response carries) and an hourly "refresh"
reading, so the snapshot compaction runs exactly as in production. The history ends at the
sandbox account's real current balance (one top-up in the middle), so live refreshes continue
the same line. Nothing is charged and the sandbox's own tables are not touched.

The sandbox stands apart from the product, so this module only plans: it reads the sandbox
accounts and their prices and walks the balance, and writes each order and reading through a
HistoryWriter it is given. The product's writer (Order rows, record_balance) is passed in by
energydash.demo.seed (used by the `seed_sandbox_history` command), the one place joining the two.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from energydash.lib.tron import SUN_PER_TRX, address_from_payload
from energydash.providers.models import ProviderAccount
from energydash.sandbox.models import SandboxAccount
from energydash.sandbox.pricing import energy_cost_sun
from energydash.sandbox.setup import DEMOS

DAYS = 30
TOP_UP_SUN = 2_000 * SUN_PER_TRX
PRESETS = (65_000, 131_000)  # USDT to a holder / to a first-time receiver
# Phase and period of each provider's price drift, so the cheapest provider changes over time.
DRIFT = {"itrx": (0.0, 11.0), "tronzap": (2.0, 7.0), "netts": (4.0, 9.0)}


class SeedRefused(Exception):
    """Seeding does not apply here; the message says why (not an error for `make run`)."""


@dataclass(frozen=True)
class PlannedOrder:
    at: datetime
    energy: int
    price_sun: Decimal
    cost_sun: int
    address: str


class HistoryWriter(Protocol):
    """Where generated history goes: the product's tables, as the product writes them."""

    def has_history(self, accounts: list[ProviderAccount]) -> bool:
        """Whether any of the accounts already has orders or balance readings."""
        ...

    def order(
        self, account: ProviderAccount, planned: PlannedOrder, balance_after_sun: int
    ) -> None:
        """One generated, completed order at planned.at."""
        ...

    def reading(
        self, account: ProviderAccount, balance_sun: int, *, at: datetime, after_order: bool
    ) -> None:
        """One balance reading at `at`: the one an order answer carries, or an hourly refresh."""
        ...


def customer_addresses() -> list[str]:
    return [
        address_from_payload(hashlib.sha256(f"seed {i}".encode()).digest()[:20]) for i in range(6)
    ]


def day_price(base: Decimal, provider: str, day: int) -> Decimal:
    phase, period = DRIFT.get(provider, (0.0, 10.0))
    factor = Decimal(str(round(1 + 0.08 * math.sin(phase + 2 * math.pi * day / period), 3)))
    return (base * factor).quantize(Decimal("0.1"))


def plan(sandbox: SandboxAccount, provider: str, now: datetime) -> list[PlannedOrder]:
    """The account's generated orders, oldest first, deterministic for a given day."""
    rng = random.Random(f"{provider}:{now.date().isoformat()}")
    addresses = customer_addresses()
    start = now - timedelta(days=DAYS)
    orders = []
    for day in range(DAYS):
        price = day_price(Decimal(sandbox.price_sun), provider, day)
        midnight = start + timedelta(days=day)
        busy = 0.5 if midnight.weekday() >= 5 else 1.0
        for _ in range(max(1, int(rng.randint(4, 10) * busy))):
            at = midnight + timedelta(seconds=rng.randint(0, 86_399))
            energy = PRESETS[0] if rng.random() < 0.8 else PRESETS[1]
            cost = energy_cost_sun(price, energy)
            orders.append(PlannedOrder(at, energy, price, cost, rng.choice(addresses)))
    return sorted(orders, key=lambda o: o.at)


def seed_history(writer: HistoryWriter, now: datetime | None = None) -> list[str]:
    """Generate the history for every sandbox account; refuses unless it is safe and useful."""
    if not settings.ENERGYDASH_SANDBOX:
        raise SeedRefused("ENERGYDASH_SANDBOX is off: sandbox history is only generated for demos")
    now = now or timezone.now()
    pairs = []
    for demo in DEMOS:
        account = ProviderAccount.objects.filter(name=demo.name, provider=demo.provider).first()
        sandbox = SandboxAccount.objects.filter(name=demo.name, provider=demo.provider).first()
        if account and sandbox:
            pairs.append((account, sandbox))
    if not pairs:
        raise SeedRefused("no sandbox accounts: run `manage.py sandbox_setup` first")
    accounts = [a for a, _ in pairs]
    if writer.has_history(accounts):
        raise SeedRefused("the sandbox accounts already have history; nothing generated")
    with transaction.atomic():
        return [_seed_account(writer, account, sandbox, now) for account, sandbox in pairs]


def _seed_account(
    writer: HistoryWriter, account: ProviderAccount, sandbox: SandboxAccount, now: datetime
) -> str:
    orders = plan(sandbox, account.provider, now)
    top_up_at = now - timedelta(days=DAYS // 2, hours=3)
    spent_total = sum(o.cost_sun for o in orders)
    top_up = TOP_UP_SUN if sandbox.balance_sun >= TOP_UP_SUN else 0
    balance = sandbox.balance_sun + spent_total - top_up  # so the history ends at today's
    events = [(o.at, o) for o in orders]
    start = now - timedelta(days=DAYS)
    events += [(start + timedelta(hours=h), None) for h in range(DAYS * 24)]
    topped_up = False
    for at, planned in sorted(events, key=lambda e: e[0]):
        if not topped_up and at >= top_up_at:
            balance += top_up
            topped_up = True
        if planned is None:
            writer.reading(account, balance, at=at, after_order=False)
            continue
        balance -= planned.cost_sun
        writer.order(account, planned, balance)
        writer.reading(account, balance, at=at, after_order=True)
    # The line ends at the sandbox's real balance, read from its table now.
    writer.reading(account, sandbox.balance_sun, at=now, after_order=False)
    return f"{account.name}: {len(orders)} generated orders over {DAYS} days"
