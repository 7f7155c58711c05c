"""The providers page's price board and the price history it and every quote feed.

Price board: each enabled account's price for the common sizes (65,000 and 131,000 energy, for
1 hour and 1 day where the provider offers that period), through the same quote path as the
new-order page (the adapter's quote, its limits kept by providers/static_cache.py, timeouts
capped by ENERGYDASH_QUOTE_TIMEOUT_SECONDS). An answer, or why there is none, is kept in the
cache for ENERGYDASH_PRICE_BOARD_SECONDS per account, size and period, so opening the page again
and again asks each provider at most once per size and period in that time. No address is
sent: the price is for an address that is already active (activation is priced apart).

Price history: every energy price quoted without activation (the board, the new-order page,
best price) is recorded as a PriceSample, at most one per account, size and period every
ENERGYDASH_PRICE_SAMPLE_MINUTES (a cache.add decides which one, so concurrent quotes write
one row).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from energydash.orders.price_history import record
from energydash.orders.quotes import plain_quote_problem, quoting_credentials
from energydash.providers.credentials import CredentialsUnreadable
from energydash.providers.errors import ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import ADAPTERS, adapter_for

logger = logging.getLogger("energydash.orders")

SIZES = (65_000, 131_000)
PERIODS = ("1H", "1D")
PERIOD_LABELS = {"1H": _("1 hour"), "1D": _("1 day")}


@dataclass
class Cell:
    energy: int
    period: str
    offered: bool = True
    total_sun: int | None = None
    problem: str = ""
    fetched_at: datetime | None = None


@dataclass
class BoardRow:
    account: ProviderAccount
    cells: list[Cell] = field(default_factory=list)
    min_energy: int | None = None
    max_energy: int | None = None


def _board_seconds() -> int:
    return int(getattr(settings, "ENERGYDASH_PRICE_BOARD_SECONDS", 120))


def _cache_key(account: ProviderAccount, energy: int, period: str) -> str:
    # The account's `updated` is part of the key: a changed key or base URL is asked afresh.
    stamp = account.updated.isoformat() if account.updated else ""
    return f"price-board:{account.pk}:{stamp}:{energy}:{period}"


def _fetch(account: ProviderAccount, energy: int, period: str) -> dict:
    """One quote, as kept in the cache. Runs in a worker thread: no database access here."""
    now = timezone.now()
    timeout = float(settings.ENERGYDASH_QUOTE_TIMEOUT_SECONDS)
    try:
        adapter = adapter_for(quoting_credentials(account.credentials(), timeout), read_retries=0)
        quote = adapter.quote(energy, period, None)
    except CredentialsUnreadable:
        return {"problem": f"{account.name}: {account.credentials_problem}.", "at": now}
    except ProviderError as exc:
        logger.warning("price board quote from %s failed: %r", account.name, exc)
        return {"problem": plain_quote_problem(exc), "at": now}
    return {
        "total_sun": int(quote.total_sun),
        "min": quote.limits.min_energy,
        "max": quote.limits.max_energy,
        "at": now,
    }


def board(accounts: list[ProviderAccount]) -> list[BoardRow]:
    """A row per account, each size and period priced (from the cache when fresh)."""
    rows: list[BoardRow] = []
    wanted: list[tuple[Cell, BoardRow, str]] = []
    for account in accounts:
        row = BoardRow(account=account)
        offered = ADAPTERS[account.provider].periods
        for energy in SIZES:
            for period in PERIODS:
                cell = Cell(energy=energy, period=period, offered=period in offered)
                row.cells.append(cell)
                if not cell.offered:
                    continue
                if not account.enabled:
                    cell.problem = "Account disabled."
                    continue
                wanted.append((cell, row, _cache_key(account, energy, period)))
        rows.append(row)
    kept = cache.get_many([key for _, _, key in wanted]) if wanted else {}
    missing = [(cell, row, key) for cell, row, key in wanted if key not in kept]
    if missing:
        with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
            answers = list(
                pool.map(
                    lambda item: _fetch(item[1].account, item[0].energy, item[0].period), missing
                )
            )
        fresh = {}
        for (cell, row, key), answer in zip(missing, answers, strict=True):
            fresh[key] = answer
            if answer.get("total_sun") is not None:
                record(row.account, cell.energy, cell.period, answer["total_sun"])
        cache.set_many(fresh, timeout=_board_seconds())
        kept.update(fresh)
    for cell, row, key in wanted:
        answer = kept[key]
        cell.total_sun = answer.get("total_sun")
        cell.problem = answer.get("problem", "")
        cell.fetched_at = answer.get("at")
        if answer.get("min") is not None:
            row.min_energy = answer["min"]
        if answer.get("max") is not None:
            row.max_energy = answer["max"]
    return rows
