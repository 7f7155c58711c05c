"""Which accounts can take a request, at what price: routing's choice, and its reasons.

Without a pinned account, a request can go to any enabled account that can serve it (kind and
period offered, within the provider's min/max energy, within the account's spend limits, with
the balance to pay where a balance is known, within max_cost); the cheapest comes first, and
equal prices go to the higher priority. Prices are reads, asked of every provider at once.
Shared by routing (routing.py), the API's quotes and batch plans.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from django.conf import settings

from energydash.lib.tron import format_trx
from energydash.orders import hooks
from energydash.orders.limits import limit_violation
from energydash.orders.models import Kind
from energydash.orders.quotes import quoting_credentials
from energydash.orders.spec import OrderSpec, PlacementRefused, check_spec, estimate_cost
from energydash.providers.base import Quote
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for


@dataclass(frozen=True)
class RouteRequest:
    """What to buy, without (or with a pinned) account."""

    receive_address: str
    energy: int | None
    period: str = "1H"
    activate: bool = False
    kind: str = Kind.ENERGY
    account: ProviderAccount | None = None
    max_cost_sun: int | None = None

    def spec(self, account: ProviderAccount) -> OrderSpec:
        return OrderSpec(
            account=account,
            kind=self.kind,
            receive_address=self.receive_address,
            energy=self.energy,
            period=self.period,
            activate=self.activate,
        )


@dataclass
class Candidate:
    """An account's price for the request, or why it cannot take it."""

    account: ProviderAccount
    price_sun: int | None = None
    reason: str = ""
    # The provider's quote behind price_sun, and when it was read (time.monotonic()): placement
    # spends on it instead of asking again while it is fresh (ENERGYDASH_QUOTE_VALID_SECONDS).
    quote: Quote | None = None
    quoted_at: float = 0.0

    def fresh(self) -> bool:
        valid = float(settings.ENERGYDASH_QUOTE_VALID_SECONDS)
        return self.eligible and time.monotonic() - self.quoted_at <= valid

    @property
    def eligible(self) -> bool:
        return self.price_sun is not None and not self.reason


Priced = tuple[int | None, Quote | None, str]


def _price(spec: OrderSpec, client: httpx.Client | None) -> Priced:
    """The account's all-in price for spec (a read) and its quote, or why it cannot serve it."""
    try:
        spec = check_spec(spec)
    except PlacementRefused as exc:
        return None, None, str(exc)
    credentials = quoting_credentials(
        spec.account.credentials(), float(settings.ENERGYDASH_QUOTE_TIMEOUT_SECONDS)
    )
    adapter = adapter_for(credentials, client, read_retries=0)
    try:
        total, quote = estimate_cost(spec, adapter)
        return total, quote, ""
    except PlacementRefused as exc:
        return None, None, str(exc).removeprefix("Could not get a price before placing: ")


def candidates(
    request: RouteRequest,
    *,
    exclude: set[int] | frozenset[int] = frozenset(),
    client: httpx.Client | None = None,
) -> list[Candidate]:
    """Every enabled account (or the pinned one) priced and judged; eligible cheapest first."""
    if request.account is not None:
        accounts = [request.account]
    else:
        accounts = list(ProviderAccount.objects.filter(enabled=True))
    accounts = [a for a in accounts if a.pk not in exclude]
    specs = [request.spec(a) for a in accounts]
    if client is not None or len(specs) < 2:
        prices = [_price(s, client) for s in specs]
    else:  # quotes are reads over HTTP: ask every provider at once
        with ThreadPoolExecutor(max_workers=min(8, len(specs))) as pool:
            prices = list(pool.map(lambda s: _price(s, None), specs))
    quoted_at = time.monotonic()
    balances = hooks.known_balances(accounts)  # the last recorded ones (balances)
    result = []
    for account, (price, quote, reason) in zip(accounts, prices, strict=True):
        row = Candidate(
            account=account, price_sun=price, reason=reason, quote=quote, quoted_at=quoted_at
        )
        if price is not None and not reason:
            row.reason = _ineligible(account, price, request.max_cost_sun, balances)
        result.append(row)
    result.sort(
        key=lambda c: (
            not c.eligible,
            c.price_sun if c.price_sun is not None else 0,
            -c.account.priority,
            c.account.name,
        )
    )
    return result


def _ineligible(
    account: ProviderAccount, price: int, max_cost: int | None, balances: dict[int, int]
) -> str:
    if max_cost is not None and price > max_cost:
        return (
            f"{account.name} quotes {format_trx(price)} TRX, above the maximum cost of "
            f"{format_trx(max_cost)} TRX."
        )
    violation = limit_violation(account, price)
    if violation:
        return violation
    balance = balances.get(account.pk)
    if balance is not None and balance < price:
        return (
            f"{account.name}'s last known balance of {format_trx(balance)} TRX cannot pay "
            f"{format_trx(price)} TRX."
        )
    return ""


def best(request: RouteRequest, *, client: httpx.Client | None = None) -> Candidate | None:
    """The account routing would try first, or None (used by batch plans)."""
    rows = candidates(request, client=client)
    return rows[0] if rows and rows[0].eligible else None


def no_route_problem(rows: list[Candidate]) -> str:
    if not rows:
        return "No enabled provider account: add one in admin."
    reasons = "; ".join(f"{c.account.name}: {c.reason}" for c in rows if c.reason)
    return f"No account can take this order. {reasons}"
