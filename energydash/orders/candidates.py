"""Which accounts can take a request, at what price: routing's choice, and its reasons.

Without a pinned account, a request can go to any enabled account that can serve it (kind and
period offered, within the provider's min/max energy, within the account's spend limits, with
the balance to pay where a balance is known, within max_cost); the cheapest comes first, and
equal prices go to the higher priority. Prices are reads, asked of every provider at once.
Shared by routing (routing.py), the API's quotes and batch plans.

Health (orders/scorecards.py): unless the account is pinned, each account's verified-delivery
rate over the last ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES ranks it: its effective price is
price / rate, and below ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT it is out. An account with fewer
than ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS chain verdicts there ranks on its price alone (no
evidence either way), which also lets an account that fell out come back once its bad orders
have left the window. Each row says why it won, lost or is out (`standing`, `note`).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders import hooks
from energydash.orders.limits import limit_violation
from energydash.orders.models import Kind
from energydash.orders.quotes import quoting_credentials
from energydash.orders.scorecards import delivery_rates
from energydash.orders.spec import (
    OrderSpec,
    PlacementRefused,
    adapter_class,
    check_spec,
    estimate_cost,
)
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
    to_address: str = ""  # a collection's USDT destination
    # Only these accounts (ids) may take it, when given (a watch rule's allowed accounts).
    accounts: tuple[int, ...] = ()

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
    # The provider's quote behind price_sun, and when it was read (time.monotonic()): placement
    # spends on it instead of asking again while it is fresh (ENERGYDASH_QUOTE_VALID_SECONDS).
    quote: Quote | None = None
    quoted_at: float = 0.0
    verified: int = 0  # orders the chain verified, of `judged` with a verdict, in the window
    judged: int = 0
    effective_sun: int | None = None  # price / verified-delivery rate, what ranks eligible rows
    standing: str = ""  # won / lost / out (health floor) / ineligible
    note: str = ""  # why, in words
    min_energy: int | None = None  # set when the request is below the provider's minimum order

    def fresh(self) -> bool:
        valid = float(settings.ENERGYDASH_QUOTE_VALID_SECONDS)
        return self.eligible and time.monotonic() - self.quoted_at <= valid

    @property
    def eligible(self) -> bool:
        return self.price_sun is not None and not self.reason

    @property
    def verified_percent(self) -> float | None:
        return round(100 * self.verified / self.judged, 1) if self.judged else None

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account.name,
            "account_id": str(self.account.code),
            "provider": self.account.provider,
            "price_sun": self.price_sun,
            "verified_percent": self.verified_percent,
            "judged": self.judged,
            "effective_price_sun": self.effective_sun,
            "standing": self.standing,
            "reason": self.note,
        }


def offers(account: ProviderAccount, kind: str) -> bool:
    """Whether the account's provider has this kind of order at all."""
    cls = adapter_class(account)
    if kind == Kind.COLLECTION:
        return cls.supports_collection
    if kind == Kind.ACTIVATION:
        return cls.supports_activation_order
    return kind == Kind.ENERGY


Priced = tuple[int | None, Quote | None, str, int | None]


def _price(spec: OrderSpec, client: httpx.Client | None) -> Priced:
    """The account's all-in price for spec (a read) and its quote, or why it cannot serve it."""
    try:
        spec = check_spec(spec)
    except PlacementRefused as exc:
        return None, None, str(exc), exc.min_energy
    credentials = quoting_credentials(
        spec.account.credentials(), float(settings.ENERGYDASH_QUOTE_TIMEOUT_SECONDS)
    )
    adapter = adapter_for(credentials, client, read_retries=0)
    try:
        total, quote = estimate_cost(spec, adapter)
        return total, quote, "", None
    except PlacementRefused as exc:
        reason = str(exc).removeprefix("Could not get a price before placing: ")
        return None, None, reason, exc.min_energy


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
    if request.accounts:
        accounts = [a for a in accounts if a.pk in request.accounts]
    specs = [request.spec(a) for a in accounts]
    if client is not None or len(specs) < 2:
        prices = [_price(s, client) for s in specs]
    else:  # quotes are reads over HTTP: ask every provider at once
        with ThreadPoolExecutor(max_workers=min(8, len(specs))) as pool:
            prices = list(pool.map(lambda s: _price(s, None), specs))
    quoted_at = time.monotonic()
    balances = hooks.known_balances(accounts)  # the last recorded ones (balances)
    result = []
    for account, (price, quote, reason, minimum) in zip(accounts, prices, strict=True):
        row = Candidate(
            account=account,
            price_sun=price,
            reason=reason,
            quote=quote,
            quoted_at=quoted_at,
            min_energy=minimum,
        )
        if price is not None and not reason:
            row.reason = _ineligible(account, price, request.max_cost_sun, balances)
        result.append(row)
    _judge_health(result, pinned=request.account is not None)
    result.sort(
        key=lambda c: (
            not c.eligible,
            (c.effective_sun if c.eligible else c.price_sun) or 0,
            -c.account.priority,
            c.account.name,
        )
    )
    _explain(result)
    return result


def _judge_health(rows: list[Candidate], *, pinned: bool) -> None:
    """Set each row's delivery rate and effective price; put unhealthy accounts out."""
    minutes = settings.ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES
    floor = settings.ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT
    enough = settings.ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS
    since = timezone.now() - timedelta(minutes=minutes)
    rates = delivery_rates([r.account.pk for r in rows], since) if rows else {}
    for row in rows:
        row.verified, row.judged = rates.get(row.account.pk, (0, 0))
        if row.price_sun is None:
            continue
        row.effective_sun = row.price_sun
        if pinned or row.judged < enough:
            continue
        if row.verified:  # price / (verified / judged), rounded up: integer sun
            row.effective_sun = -(-row.price_sun * row.judged // row.verified)
        if row.verified * 100 < floor * row.judged and not row.reason:
            row.standing = "out"
            row.reason = (
                f"only {row.verified_percent:g}% of its {row.judged} orders "
                f"judged on chain in the last {minutes} min were verified, below the health "
                f"floor of {floor}% (ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT)."
            )


def _rate_words(row: Candidate) -> str:
    enough = settings.ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS
    if row.judged < enough:
        return (
            f"{row.judged} chain verdict(s) in the window, fewer than {enough}: ranked on its "
            "price alone"
        )
    return (
        f"{format_trx(row.price_sun or 0)} TRX / {row.verified_percent:g}% verified of "
        f"{row.judged} = {format_trx(row.effective_sun or 0)} TRX effective"
    )


def _explain(rows: list[Candidate]) -> None:
    """Won / lost / out / ineligible, with the words the order page and the API show."""
    winner = rows[0] if rows and rows[0].eligible else None
    for row in rows:
        if row is winner:
            row.standing = "won"
            row.note = f"Lowest effective price: {_rate_words(row)}."
        elif row.eligible and winner is not None:
            row.standing = "lost"
            row.note = (
                f"Effective price {format_trx(row.effective_sun or 0)} TRX ({_rate_words(row)}), "
                f"not below {winner.account.name}'s {format_trx(winner.effective_sun or 0)} TRX."
            )
        else:
            row.standing = row.standing or "ineligible"
            row.note = row.reason


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
