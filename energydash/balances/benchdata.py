"""Realistic bulk data for `make bench`: accounts, orders over 90 days, events, balance history.

Orders, events and snapshots go in with COPY on PostgreSQL (explicit ids, so events can point at
their orders without a round trip), and with bulk_create elsewhere (the SQLite smoke test); the
loading is balances.bulk_load. The rollups are rebuilt from the orders at the end, by the same
code as `rebuild_rollups`, so what the console derives is right the moment the command returns.

Shares (per 1,000,000 orders): ~95% completed, 3% failed, 1% refunded, 0.05% unknown, 0.05%
needs review, ~300 open (submitted / delegating, placed in the last 20 minutes); energy rentals
mostly 65,000 or 131,000 energy; itrx accounts also run collections, TronZap ones activations.
Every order gets two events (created, then its state change) and an audit row ("order.placed").
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from energydash.balances import balance_rollups, ledger_days, rollups
from energydash.balances.bulk_load import load, reset_sequences
from energydash.balances.models import AccountBalanceState, BalanceSnapshot
from energydash.core.models import AuditEvent
from energydash.lib.tron import address_from_payload
from energydash.orders.models import Kind, Order, OrderEvent, Status
from energydash.providers.models import Provider, ProviderAccount

logger = logging.getLogger("energydash.bench")
VIA = "bench-seed"
DAYS = 90
ACCOUNTS = (
    ("bench itrx A", Provider.ITRX, Decimal("32")),
    ("bench itrx B", Provider.ITRX, Decimal("34")),
    ("bench tronzap A", Provider.TRONZAP, Decimal("38")),
    ("bench tronzap B", Provider.TRONZAP, Decimal("40")),
    ("bench netts", Provider.NETTS, Decimal("45")),
)
STATUS_SHARES = (
    (Status.COMPLETED, 0.9590),
    (Status.FAILED, 0.03),
    (Status.REFUNDED, 0.01),
    (Status.UNKNOWN, 0.0005),
    (Status.NEEDS_REVIEW, 0.0005),
)
BATCH = 20_000


class SeedRefused(Exception):
    """Seeding refused: bad counts, or the database already holds bench data."""


@dataclass
class SeedResult:
    accounts: int
    orders: int
    events: int
    snapshots: int
    rollup_rows: int


def addresses(count: int = 5000) -> list[str]:
    return [
        address_from_payload(hashlib.sha256(f"bench {i}".encode()).digest()[:20])
        for i in range(count)
    ]


def _stage(name: str, started: list[float]) -> None:
    now = time.monotonic()
    logger.info("seed_bench_data: %s in %.1f s", name, now - started[0])
    started[0] = now


def seed(orders: int, snapshots: int, *, now: datetime | None = None, seed: int = 9) -> SeedResult:
    if orders < 0 or snapshots < 0:
        raise SeedRefused("--orders and --snapshots must be zero or more")
    if ProviderAccount.objects.filter(name__in=[n for n, _, _ in ACCOUNTS]).exists():
        raise SeedRefused("bench accounts exist already: seed an empty database")
    now = now or timezone.now()
    rng = random.Random(seed)
    clock = [time.monotonic()]
    with transaction.atomic():
        accounts = [_account(name, provider) for name, provider, _ in ACCOUNTS]
        prices = {a.pk: price for a, (_, _, price) in zip(accounts, ACCOUNTS, strict=True)}
        first_id = (Order.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        trail = _Trail()
        order_rows = _orders(rng, accounts, prices, orders, now, first_id, trail)
        load(Order, order_rows)
        _stage("orders", clock)
        event_first = (OrderEvent.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        events = _events(trail, first_id, event_first)
        load(OrderEvent, events)
        _stage("events", clock)
        _audit_events()
        _stage("audit events", clock)
        snapshot_first = (BalanceSnapshot.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        load(BalanceSnapshot, _snapshots(rng, accounts, snapshots, now, snapshot_first))
        _stage("snapshots", clock)
        reset_sequences(Order, OrderEvent, BalanceSnapshot)
        for account in accounts:
            last = BalanceSnapshot.objects.filter(account=account).order_by("-taken_at").first()
            AccountBalanceState.objects.update_or_create(
                account=account,
                defaults={
                    "balance_sun": last.balance_sun if last else None,
                    "as_of": last.taken_at if last else None,
                    "source": "refresh" if last else "",
                    "last_attempt_at": now,
                },
            )
        rollup_rows = rollups.rebuild()
        balance_rollups.rebuild()
        _stage("rollups", clock)
    _stage("commit", clock)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        _stage("analyze", clock)
    ledger_days.rebuild(accounts)  # after ANALYZE: each day's statement plans on the indexes
    _stage("ledger days", clock)
    return SeedResult(len(accounts), orders, orders * 2, snapshots, rollup_rows)


def _account(name: str, provider: str) -> ProviderAccount:
    account = ProviderAccount(
        name=name,
        provider=provider,
        base_url="https://bench.invalid",
        low_balance_threshold_sun=500_000_000,
    )
    account.api_key = "bench-key"
    account.api_secret = "bench-secret"
    account.save()
    return account


def _ref_hex(pk: int) -> str:
    """12 hex digits from the order's number: distinct, deterministic, random-looking."""
    return hashlib.blake2b(pk.to_bytes(8, "little"), digest_size=6).hexdigest()


def _status(rng: random.Random) -> str:
    roll = rng.random()
    for status, share in STATUS_SHARES:
        if roll < share:
            return status
        roll -= share
    return Status.COMPLETED


def _orders(
    rng: random.Random,
    accounts: list[ProviderAccount],
    prices: dict[int, Decimal],
    count: int,
    now: datetime,
    first_id: int,
    trail: _Trail,
) -> Iterator[dict[str, Any]]:
    pool = addresses()
    start = now - timedelta(days=DAYS)
    open_count = min(count, max(3, count * 3 // 10_000)) if count else 0
    history = count - open_count
    step = (now - timedelta(minutes=20) - start) / max(history, 1)
    burn = settings.ENERGYDASH_BURN_SUN_PER_ENERGY
    # Accounts by weight 3:3:2:2:2, as cumulative thresholds (rng.choices is slow per call).
    cumulative = [0.25, 0.5, 0.6667, 0.8333, 1.0][: len(accounts)]
    price_cache: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for i in range(count):
        roll = rng.random()
        account = accounts[next((k for k, c in enumerate(cumulative) if roll < c), -1)]
        if i < history:
            created = start + step * i + timedelta(seconds=rng.random() * step.total_seconds())
            status = _status(rng)
        else:
            created = now - timedelta(seconds=rng.uniform(5, 1200))
            status = Status.SUBMITTED if rng.random() < 0.7 else Status.DELEGATING
        kind, energy = (
            Kind.ENERGY,
            rng.choices((65_000, 131_000, rng.randint(10, 400) * 1000), (70, 25, 5))[0],
        )
        if account.provider == Provider.ITRX and rng.random() < 0.12:
            kind, energy = Kind.COLLECTION, None
        elif account.provider == Provider.TRONZAP and rng.random() < 0.08:
            kind, energy = Kind.ACTIVATION, None
        day = (created - start).days
        key = (account.pk, day)
        if key not in price_cache:
            price = prices[account.pk] + Decimal((day * 7 + account.pk) % 11) / 2
            price_cache[key] = (price, price.quantize(Decimal("0.001")))
        price, unit_price = price_cache[key]
        cost = int(price * energy) if energy else 1_400_000 + rng.randint(0, 2_000_000)
        final = status in (Status.COMPLETED, Status.FAILED, Status.REFUNDED)
        charged = status in (Status.COMPLETED, Status.REFUNDED, Status.SUBMITTED, Status.DELEGATING)
        pk = first_id + i
        trail.add(created, status)
        yield {
            "id": pk,
            "code": f"{rng.getrandbits(128):032x}",
            "account_id": account.pk,
            "kind": kind,
            "receive_address": pool[rng.randrange(len(pool))],
            "to_address": pool[0] if kind == Kind.COLLECTION else "",
            "energy": energy,
            "period": "1H" if kind == Kind.ENERGY else "",
            "activate": False,
            "reference": f"ed-bench{pk:016x}",
            "idempotency_key": None,
            # Shaped like a real provider id (the sandbox's are uuid hex), not a zero-padded
            # counter: a counter's end ("00000001") shares its trigrams with most orders, and the
            # bench's "provider id suffix" search measured that, not a realistic search.
            "provider_ref": (
                f"{account.provider[:2]}{_ref_hex(pk)}" if status != Status.UNKNOWN else ""
            ),
            "status": status,
            "raw_status": status,
            "quoted_cost_sun": cost,
            "cost_sun": cost if charged else None,
            "unit_price_sun": unit_price if energy else None,
            "burn_sun_per_energy": burn,
            "refund_sun": cost if status == Status.REFUNDED else None,
            "energy_delivered": energy if status == Status.COMPLETED else None,
            "tx_hashes": "[]",
            "last_error": "Rejected: insufficient balance" if status == Status.FAILED else "",
            "placed_via": VIA,
            "created": created,
            "updated": created + timedelta(seconds=8),
            "submitted_at": created + timedelta(seconds=1),
            "finished_at": created + timedelta(seconds=8) if final else None,
            "next_poll_at": created + timedelta(seconds=5),
            "poll_count": 1 if final else 0,
            "claimed_until": None,
        }


class _Trail:
    """What the events need of each order, compact (9 bytes an order): the orders table cannot
    be read back while a COPY into another table runs on the same connection."""

    STATUSES = list(Status.values)

    def __init__(self) -> None:
        self.created = array("d")
        self.status = bytearray()

    def add(self, created: datetime, status: str) -> None:
        self.created.append(created.timestamp())
        self.status.append(self.STATUSES.index(status))


def _events(trail: _Trail, first_order: int, first_id: int) -> Iterator[dict]:
    """Two per order: created (a note), then its state change eight seconds later."""
    for i, (stamp, status_index) in enumerate(zip(trail.created, trail.status, strict=True)):
        created = datetime.fromtimestamp(stamp, tz=UTC)
        pk = first_id + 2 * i
        yield {
            "id": pk,
            "order_id": first_order + i,
            "created": created,
            "kind": "note",
            "actor_label": VIA,
            "message": "Created; quoted by the bench seed.",
        }
        yield {
            "id": pk + 1,
            "order_id": first_order + i,
            "created": created + timedelta(seconds=8),
            "kind": "state",
            "from_status": Status.SUBMITTED,
            "to_status": _Trail.STATUSES[status_index],
            "actor_label": VIA,
        }


def _audit_events() -> None:
    """One audit row per order, as placement writes ("order.placed"): the admin's audit
    changelist is measured over a table that grows with orders, as in production."""
    table, orders = AuditEvent._meta.db_table, Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (created, actor_id, actor_label, action, object_type, "
            "object_code, object_repr, details) "
            f"SELECT o.created, NULL, %s, 'order.placed', 'orders.order', CAST(o.code AS TEXT), "
            f"'bench order', '{{}}' FROM {orders} o WHERE o.placed_via = %s ORDER BY o.id",
            [VIA, VIA],
        )


def _snapshots(
    rng: random.Random, accounts: list[ProviderAccount], count: int, now: datetime, first_id: int
) -> Iterator[dict]:
    per_account = count // len(accounts) if accounts else 0
    start = now - timedelta(days=DAYS)
    pk = first_id
    for index, account in enumerate(accounts):
        n = per_account + (1 if index < count % len(accounts) else 0)
        step = (now - start) / max(n, 1)
        balance = 20_000_000_000
        for i in range(n):
            balance -= rng.randint(0, 40_000_000)
            if balance < 2_000_000_000:
                balance += 30_000_000_000  # a top-up
            yield {
                "id": pk,
                "account_id": account.pk,
                "balance_sun": balance,
                "taken_at": start + step * (i + 1),
                "source": "refresh",
            }
            pk += 1
