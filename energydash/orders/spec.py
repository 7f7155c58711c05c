"""What an order asks for, and everything refused before a provider is asked to place it.

check_spec refuses what can be refused without a request; estimate_cost reads the price the
limits are checked against (a read: nothing is charged). Placement, live quotes and routing
all start here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from energydash.lib.tron import InvalidAddress, validate_address
from energydash.orders.activation import known_active
from energydash.orders.models import Kind
from energydash.providers import base
from energydash.providers.base import Adapter, ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import ADAPTERS

# Worst case energy for a collection: the recipient has never held USDT.
COLLECTION_ESTIMATE_ENERGY = 131_000


class PlacementRefused(Exception):
    """Refused before anything was sent to the provider: nothing was charged.

    provider_error: the provider's own error when a price read failed (its raw words, codes and
    request ids: for the log, not for the page)."""

    provider_error: ProviderError | None = None
    # Set when the request is below the provider's minimum order: that minimum.
    min_energy: int | None = None


@dataclass(frozen=True)
class OrderSpec:
    account: ProviderAccount
    kind: str
    receive_address: str
    energy: int | None = None
    period: str = "1H"
    activate: bool = False
    to_address: str = ""


def adapter_class(account: ProviderAccount) -> type[Adapter]:
    return ADAPTERS[account.provider]


def check_spec(spec: OrderSpec) -> OrderSpec:
    """Everything we can refuse without asking the provider, in words an operator can act on."""
    account = spec.account
    if not account.enabled:
        raise PlacementRefused(f"{account.name} is disabled.")
    if account.credentials_problem:  # unreadable key/secret: refuse before any request
        raise PlacementRefused(f"{account.name}: {account.credentials_problem}.")
    cls = adapter_class(account)
    try:
        address = validate_address(spec.receive_address)
        to_address = validate_address(spec.to_address) if spec.to_address else ""
    except InvalidAddress as exc:
        raise PlacementRefused(f"Invalid TRON address: {exc}.") from None
    if spec.kind == Kind.ENERGY:
        if not spec.energy or spec.energy <= 0:
            raise PlacementRefused("Enter the amount of energy to rent.")
        if spec.period not in cls.periods:
            raise PlacementRefused(
                f"{account.name} does not offer {spec.period}; it offers {', '.join(cls.periods)}."
            )
    elif spec.kind == Kind.COLLECTION:
        if not cls.supports_collection:
            raise PlacementRefused("Collection orders exist only at itrx.")
    elif spec.kind == Kind.ACTIVATION:
        if not cls.supports_activation_order:
            raise PlacementRefused(
                f"{account.get_provider_display()} has no separate activation order: tick "
                "'activate the address' on an energy order instead."
            )
    else:
        raise PlacementRefused(f"Unknown order kind {spec.kind!r}.")
    energy = spec.energy if spec.kind == Kind.ENERGY else None
    period = spec.period if spec.kind == Kind.ENERGY else ""
    return replace(
        spec, receive_address=address, to_address=to_address, energy=energy, period=period
    )


def estimate_cost(spec: OrderSpec, adapter: Adapter) -> tuple[int, base.Quote | None]:
    """The cost the limits are checked against (a read; nothing is charged)."""
    try:
        if spec.kind == Kind.ENERGY:
            activate = spec.activate or (
                type(adapter).activates_unasked and not known_active(spec.receive_address)
            )
            quote = adapter.quote(spec.energy, spec.period, spec.receive_address, activate=activate)
            _check_limits(spec, quote.limits)
            return quote.total_sun, quote
        if spec.kind == Kind.COLLECTION:
            quote = adapter.quote(COLLECTION_ESTIMATE_ENERGY, "1H", spec.receive_address)
            return quote.total_sun, quote
        return adapter.activation_price(spec.receive_address), None
    except ProviderError as exc:
        refused = PlacementRefused(f"Could not get a price before placing: {exc}")
        refused.provider_error = exc
        raise refused from None


def _check_limits(spec: OrderSpec, limits: base.Limits) -> None:
    name = spec.account.get_provider_display()
    if limits.min_energy and spec.energy < limits.min_energy:
        below = PlacementRefused(
            f"{spec.energy:,} energy is below {name}'s minimum order of {limits.min_energy:,}."
        )
        below.min_energy = limits.min_energy
        raise below
    if limits.max_energy and spec.energy > limits.max_energy:
        raise PlacementRefused(
            f"{spec.energy:,} energy is above {name}'s maximum order of {limits.max_energy:,}."
        )
