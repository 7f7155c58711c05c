"""Live prices from every enabled account, fetched in parallel with a short timeout."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from energydash.orders import hooks
from energydash.orders.limits import limit_violation
from energydash.orders.models import Kind
from energydash.orders.price_history import record as record_price
from energydash.orders.spec import OrderSpec, PlacementRefused, check_spec, estimate_cost
from energydash.providers.credentials import Credentials
from energydash.providers.errors import NAMES, UNAVAILABLE, UNKNOWN, ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")


@dataclass
class QuoteRow:
    account: ProviderAccount
    total_sun: int | None = None
    unit_price_sun: object = None
    activation_sun: int | None = None
    burn_sun: int | None = None
    error: str = ""
    cheapest: bool = False
    # The account's last known balance: a quote above it cannot be paid (warned, not refused,
    # since the figure may be minutes old).
    balance_sun: int | None = None
    # Why the account's own spend limits (per-order maximum, what is left of the daily budget)
    # refuse this price (orders/limits.py, as placement and routing check it): shown, not offered.
    limit: str = ""

    @property
    def over_balance(self) -> bool:
        return (
            self.available
            and self.balance_sun is not None
            and self.total_sun is not None
            and self.total_sun > self.balance_sun
        )

    @property
    def large(self) -> bool:
        """Above the account's own "warn on orders above" setting."""
        limit = self.account.large_order_sun
        return self.available and limit is not None and (self.total_sun or 0) > limit

    @property
    def savings_sun(self) -> int | None:
        if self.total_sun is None or self.burn_sun is None:
            return None
        return self.burn_sun - self.total_sun

    @property
    def available(self) -> bool:
        return self.total_sun is not None and not self.error and not self.limit


def quoting_credentials(credentials: Credentials, timeout: float) -> Credentials:
    """The account's credentials with its timeouts capped for a live quote: a slow provider
    must not hold up a page. Requests go through the process-wide client (providers/http.py),
    whose timeouts are per request, so no client (and no CA-bundle load) per quote."""
    limit = min(credentials.timeout, timeout)
    return replace(
        credentials, timeout=limit, connect_timeout=min(credentials.connect_timeout, limit)
    )


def _quote_one(spec: OrderSpec, timeout: float) -> QuoteRow:
    row = QuoteRow(account=spec.account)
    try:
        spec = check_spec(spec)
    except PlacementRefused as exc:
        row.error = str(exc)
        return row
    adapter = adapter_for(quoting_credentials(spec.account.credentials(), timeout), read_retries=0)
    try:
        total, quote = estimate_cost(spec, adapter)
    except PlacementRefused as exc:
        if exc.provider_error is not None:
            logger.warning("quote from %s failed: %r", spec.account.name, exc.provider_error)
            row.error = plain_quote_problem(exc.provider_error)
        else:
            row.error = str(exc).removeprefix("Could not get a price before placing: ")
        return row
    row.total_sun = total
    if quote is not None:
        row.unit_price_sun = quote.unit_price_sun
        row.activation_sun = quote.activation_sun
    if spec.energy:
        row.burn_sun = spec.energy * settings.ENERGYDASH_BURN_SUN_PER_ENERGY
    return row


def plain_quote_problem(error: ProviderError) -> str:
    """Why a provider gave no price, as a sentence for the quotes table: the provider's raw
    words (machine keys, request ids, its own authentication text) go to the log instead."""
    name = NAMES.get(error.provider, error.provider or gettext("The provider"))
    if error.outcome == UNAVAILABLE:
        text = gettext("%(provider)s is not answering right now; compare again in a minute.")
    elif error.outcome == UNKNOWN:
        text = gettext(
            "%(provider)s sent an answer energydash could not read; compare again in a minute."
        )
    elif error.message.startswith("authentication failed") or error.http_status in (401, 403):
        text = gettext(
            "%(provider)s refused this account's credentials (authentication failed): check its "
            "API key and secret, and the allowed IP, in admin."
        )
    else:
        text = gettext(
            "%(provider)s would not price this request: check the energy amount, period and "
            "address against what it accepts."
        )
    return text % {"provider": name}


def compare(specs: list[OrderSpec]) -> list[QuoteRow]:
    """One row per spec (one per account), cheapest available first and marked."""
    if not specs:
        return []
    timeout = float(settings.ENERGYDASH_QUOTE_TIMEOUT_SECONDS)
    language = translation.get_language()  # the workers' own threads speak it too

    def quote(spec: OrderSpec) -> QuoteRow:
        with translation.override(language):
            return _quote_one(spec, timeout)

    with ThreadPoolExecutor(max_workers=min(8, len(specs))) as pool:
        rows = list(pool.map(quote, specs))
    _add_known_balances(rows)
    _record_prices(specs, rows)
    for row in rows:  # here, not in the workers: the daily budget is a database read
        if row.total_sun is not None and not row.error:
            row.limit = limit_violation(row.account, row.total_sun)
    available = [r for r in rows if r.available]
    if available:
        min(available, key=lambda r: r.total_sun).cheapest = True
    return sorted(rows, key=lambda r: (not r.available, r.total_sun or 0, r.account.name))


def _record_prices(specs: list[OrderSpec], rows: list[QuoteRow]) -> None:
    """The price history (orders/price_history.py): energy prices without activation only, so
    samples of one size compare. Here, not in the workers: it writes to the database."""
    for spec, row in zip(specs, rows, strict=True):
        if (
            spec.kind == Kind.ENERGY
            and spec.energy
            and row.total_sun is not None
            and not row.error
            and not spec.activate
            and not row.activation_sun
        ):
            record_price(spec.account, spec.energy, spec.period, row.total_sun)


def _add_known_balances(rows: list[QuoteRow]) -> None:
    """Each row's account balance as last recorded: one query for all rows, no provider call."""
    known = hooks.known_balances([row.account for row in rows])
    for row in rows:
        row.balance_sun = known.get(row.account.pk)
