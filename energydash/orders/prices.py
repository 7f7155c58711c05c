"""The providers page's price board and the price history it and every quote feed.

Price board: each enabled account's price for the common sizes (65,000 and 131,000 energy, for
1 hour and 1 day where the provider offers that period), through the same quote path as the
new-order page (the adapter's quote, its limits kept by providers/static_cache.py, timeouts
capped by ENERGYDASH_QUOTE_TIMEOUT_SECONDS). A scheduled task (`refresh_price_board`, every
ENERGYDASH_PRICE_BOARD_MINUTES) asks the providers and stores each answer, or why there is none,
as a PriceBoardEntry; the page only reads those rows and says how old they are, so opening it
never waits on a provider. No address is sent: the price is for an address that is already
active (activation is priced apart).

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
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from energydash.orders.models import PriceBoardEntry
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
    stale: bool = False  # the account changed after this price was read


@dataclass
class BoardRow:
    account: ProviderAccount
    cells: list[Cell] = field(default_factory=list)
    min_energy: int | None = None
    max_energy: int | None = None


def board_minutes() -> int:
    return max(1, int(getattr(settings, "ENERGYDASH_PRICE_BOARD_MINUTES", 2)))


def _fetch(account: ProviderAccount, energy: int, period: str) -> dict:
    """One quote, as stored on the board. Runs in a worker thread: no database access here."""
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


def _wanted(accounts: list[ProviderAccount]) -> list[tuple[ProviderAccount, int, str]]:
    offered = {a.pk: ADAPTERS[a.provider].periods for a in accounts}
    return [
        (a, energy, period)
        for a in accounts
        for energy in SIZES
        for period in PERIODS
        if period in offered[a.pk]
    ]


def refresh_board() -> int:
    """Ask every enabled account for the common sizes and store the answers (the scheduled
    task). Answers are stored in English (the page translates the known sentences); each price
    also goes into the price history. How many prices were read."""
    wanted = _wanted(list(ProviderAccount.objects.filter(enabled=True).order_by("pk")))
    if not wanted:
        return 0

    def ask(item: tuple[ProviderAccount, int, str]) -> dict:
        with translation.override("en"):  # stored words: English, like every stored sentence
            return _fetch(*item)

    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        answers = list(pool.map(ask, wanted))
    entries = []
    for (account, energy, period), answer in zip(wanted, answers, strict=True):
        if answer.get("total_sun") is not None:
            record(account, energy, period, answer["total_sun"])
        entries.append(
            PriceBoardEntry(
                account=account,
                energy=energy,
                period=period,
                total_sun=answer.get("total_sun"),
                problem=answer.get("problem", ""),
                min_energy=answer.get("min"),
                max_energy=answer.get("max"),
                fetched_at=answer["at"],
            )
        )
    # One row per cell, replaced at each read (two overlapping runs: the later write stays).
    PriceBoardEntry.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["account", "energy", "period"],
        update_fields=["total_sun", "problem", "min_energy", "max_energy", "fetched_at"],
    )
    return sum(1 for e in entries if e.total_sun is not None)


def board(accounts: list[ProviderAccount]) -> list[BoardRow]:
    """A row per account, each size and period as the scheduled task last stored it (one
    query; no provider is asked)."""
    stored = {
        (e.account_id, e.energy, e.period): e
        for e in PriceBoardEntry.objects.filter(account__in=[a.pk for a in accounts])
    }
    rows: list[BoardRow] = []
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
                    cell.problem = gettext("Account disabled.")
                    continue
                entry = stored.get((account.pk, energy, period))
                if entry is None:
                    continue  # not read yet
                cell.total_sun = entry.total_sun
                cell.problem = entry.problem
                cell.fetched_at = entry.fetched_at
                cell.stale = bool(account.updated and account.updated > entry.fetched_at)
                if entry.min_energy is not None:
                    row.min_energy = entry.min_energy
                if entry.max_energy is not None:
                    row.max_energy = entry.max_energy
        rows.append(row)
    return rows


def oldest_read(rows: list[BoardRow]) -> datetime | None:
    """When the oldest price on the board was read (None: nothing read yet)."""
    times = [c.fetched_at for r in rows for c in r.cells if c.fetched_at is not None]
    return min(times) if times else None
