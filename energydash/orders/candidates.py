"""Which accounts can take a request, at what price: routing's choice, and its reasons.

Without a pinned account, a request can go to any enabled account that can serve it (kind and
period offered, within the provider's min/max energy, within the account's spend limits, with
the balance to pay where a balance is known, within max_cost); the cheapest comes first, and
equal prices go to the higher priority. Prices are reads, asked of every provider at once.
Shared by routing (routing.py), the API's quotes and batch plans.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from django.conf import settings

from energydash.lib.tron import format_trx
from energydash.orders import hooks
from energydash.orders.limits import limit_violation
from energydash.orders.models import Kind
from energydash.orders.quotes import quoting_credentials
from energydash.orders.spec import (
    OrderSpec,
    PlacementRefused,
    adapter_class,
    check_spec,
    estimate_cost,
)
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
    to_address: str = ""  # a collection's USDT destination

    def spec(self, account: ProviderAccount) -> OrderSpec:
        return OrderSpec(
            account=account,
            kind=self.kind,
            receive_address=self.receive_address,
            energy=self.energy,
            period=self.period,
            activate=self.activate,
            to_address=self.to_address,
        )


@dataclass
class Candidate:
    """An account's price for the request, or why it cannot take it."""

    account: ProviderAccount
    price_sun: int | None = None
    reason: str = ""

    @property
    def eligible(self) -> bool:
        return self.price_sun is not None and not self.reason


def offers(account: ProviderAccount, kind: str) -> bool:
    """Whether the account's provider has this kind of order at all."""
    cls = adapter_class(account)
    if kind == Kind.COLLECTION:
        return cls.supports_collection
    if kind == Kind.ACTIVATION:
        return cls.supports_activation_order
    return kind == Kind.ENERGY


def _price(spec: OrderSpec, client: httpx.Client | None) -> tuple[int | None, str]:
    """The account's all-in price for spec (a read), or the reason it cannot serve it."""
    try:
        spec = check_spec(spec)
    except PlacementRefused as exc:
        return None, str(exc)
    credentials = quoting_credentials(
        spec.account.credentials(), float(settings.ENERGYDASH_QUOTE_TIMEOUT_SECONDS)
    )
    adapter = adapter_for(credentials, client, read_retries=0)
    try:
        total, _quote = estimate_cost(spec, adapter)
        return total, ""
    except PlacementRefused as exc:
        return None, str(exc).removeprefix("Could not get a price before placing: ")


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
        # Routing considers only the accounts whose provider offers the kind at all.
        accounts = [
            a for a in ProviderAccount.objects.filter(enabled=True) if offers(a, request.kind)
        ]
    accounts = [a for a in accounts if a.pk not in exclude]
    specs = [request.spec(a) for a in accounts]
    if client is not None or len(specs) < 2:
        prices = [_price(s, client) for s in specs]
    else:  # quotes are reads over HTTP: ask every provider at once
        with ThreadPoolExecutor(max_workers=min(8, len(specs))) as pool:
            prices = list(pool.map(lambda s: _price(s, None), specs))
    balances = hooks.known_balances(accounts)  # the last recorded ones (balances)
    result = []
    for account, (price, reason) in zip(accounts, prices, strict=True):
        row = Candidate(account=account, price_sun=price, reason=reason)
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


def no_route_problem(rows: list[Candidate], kind: str = Kind.ENERGY) -> str:
    if not rows and kind != Kind.ENERGY:
        return (
            f"No enabled provider account offers {Kind(kind).label.lower()} orders "
            "(collection: itrx; activation: TronZap)."
        )
    if not rows:
        return "No enabled provider account: add one in admin."
    reasons = "; ".join(f"{c.account.name}: {c.reason}" for c in rows if c.reason)
    return f"No account can take this order. {reasons}"
