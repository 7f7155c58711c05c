"""The adapter base class: the operations every provider adapter offers and the rules they share.

Adapters are framework-free: they take Credentials and an optional httpx.Client and know nothing of
Django models. Money is integer sun everywhere in the results.

The one rule that matters most: a placing (order-creating) request is sent exactly once. If its
answer is lost (timeout, reset, 5xx, garbage) the outcome is UNKNOWN — the provider may have charged
— and the caller must reconcile before retrying. Reads are retried a bounded number of times.
Sending, retrying, recording and mapping failures to outcomes is Transport's (transport.py).

Adapter adds what every operation shares: arguments are checked before anything is sent, a call
the provider cannot serve is refused in the adapter's words, and whatever an answer looks like an
operation raises nothing but ProviderError (CallbackRejected for a callback). An adapter module
keeps only its provider's paths, fields and rules: the hooks _quote, _place_energy and _get_order,
balance(), and whichever optional operations its provider offers.

The types callers use with adapters live in errors.py (outcomes, ProviderError, CallbackRejected),
results.py (statuses, periods, result values) and exchange.py (Exchange); they are re-exported
here, where the rest of the console has always imported them (`base.ProviderError`, ...).
"""

from __future__ import annotations

import abc
import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from energydash.core import metrics
from energydash.lib.tron import InvalidAddress, validate_address
from energydash.providers.errors import (
    NAMES,
    REJECTED,
    UNAVAILABLE,
    UNKNOWN,
    CallbackRejected,
    ProviderError,
)
from energydash.providers.exchange import MAX_RECORDED_BODY, REDACTED, Exchange
from energydash.providers.results import (
    COMPLETED,
    DELEGATING,
    FAILED,
    FINAL_STATUSES,
    PERIODS,
    REFUNDED,
    SUBMITTED,
    Balance,
    CallbackEvent,
    Limits,
    OrderState,
    PlacedOrder,
    Quote,
)
from energydash.providers.transport import Transport

__all__ = [
    # Defined here.
    "Adapter",
    "EnergyOrder",
    "lookup_header",
    # Re-exported for the callers (errors.py, results.py, exchange.py are their homes).
    "COMPLETED",
    "DELEGATING",
    "FAILED",
    "FINAL_STATUSES",
    "MAX_RECORDED_BODY",
    "PERIODS",
    "REDACTED",
    "REFUNDED",
    "REJECTED",
    "SUBMITTED",
    "UNAVAILABLE",
    "UNKNOWN",
    "Balance",
    "CallbackEvent",
    "CallbackRejected",
    "Exchange",
    "Limits",
    "OrderState",
    "PlacedOrder",
    "ProviderError",
    "Quote",
]

# Operations whose answers adapters parse, and what an answer that cannot be parsed means: for a
# read, the figure is simply unavailable; after a placing request the order may exist (UNKNOWN).
_READS = ("balance", "quote", "activation_price", "get_order", "summary")
_PLACING = ("place_energy_order", "place_collection_order", "activate_address")
# What parsing an unexpected shape raises: a list where a number was, a missing key, NaN, ...
_UNREADABLE = (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)


def _guarded(method: Callable[..., Any], outcome: str) -> Callable[..., Any]:
    """Turn a parsing crash inside an operation into the adapter's one error type."""

    @functools.wraps(method)
    def operation(self: Adapter, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return method(self, *args, **kwargs)
        except ProviderError as exc:
            _count_error(self.kind, method.__name__, exc)
            raise
        except _UNREADABLE as exc:
            name = NAMES.get(self.kind, self.kind)
            error = self._error(
                outcome,
                f"unreadable answer from {name} ({type(exc).__name__} reading it)",
                code="unreadable answer",
                exchange=self.exchanges[-1] if self.exchanges else None,
            )
            _count_error(self.kind, method.__name__, error)
            raise error from exc
        finally:
            metrics.observe(
                metrics.PROVIDER_REQUEST_SECONDS,
                time.monotonic() - started,
                provider=self.kind,
                operation=method.__name__,
            )

    return operation


def _count_error(provider: str, operation: str, exc: ProviderError) -> None:
    kind = metrics.ERROR_KINDS.get(exc.outcome, exc.outcome)
    metrics.count(metrics.PROVIDER_ERRORS, provider=provider, operation=operation, kind=kind)


def _guarded_callback(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def verify(self: Adapter, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (CallbackRejected, ProviderError):
            raise
        except _UNREADABLE as exc:
            raise CallbackRejected(400, f"unreadable callback ({type(exc).__name__})") from exc

    return verify


def _operation(outcome: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """_guarded as a decorator, for the operations Adapter itself defines."""
    return functools.partial(_guarded, outcome=outcome)


@dataclass(frozen=True)
class EnergyOrder:
    """An energy order as asked for, its arguments checked (the address cleaned)."""

    address: str
    energy: int
    period: str
    reference: str
    activate: bool
    callback_url: str | None


class Adapter(Transport, abc.ABC):
    periods: tuple[str, ...] = ("1H",)
    supports_reference_lookup = False
    supports_collection = False
    supports_activation_order = False
    supports_callbacks = False
    # The provider activates an unactivated recipient (at cost) even when not asked to.
    activates_unasked = False
    activation_fee_sun: int | None = None  # charged when it activates a recipient unasked
    # What a call the provider cannot serve is refused with (nothing is sent), in its words.
    no_lookup = "get_order needs the provider's order id or our reference"
    no_collection = "the provider has no collection order"
    no_activation_order = "the provider has no separate activation order"
    no_activation_price = ""  # "<provider> publishes no separate activation price"
    no_callbacks = "the provider sends no callbacks; its orders are polled"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every operation an adapter defines raises nothing but ProviderError (or, verifying a
        callback, CallbackRejected), whatever shape of answer a provider sends."""
        super().__init_subclass__(**kwargs)
        for name, outcome in [(n, UNAVAILABLE) for n in _READS] + [(n, UNKNOWN) for n in _PLACING]:
            if name in cls.__dict__:
                setattr(cls, name, _guarded(cls.__dict__[name], outcome))
        if "verify_callback" in cls.__dict__:
            cls.verify_callback = _guarded_callback(cls.__dict__["verify_callback"])

    # Operations -----------------------------------------------------------------------------

    @abc.abstractmethod
    def balance(self) -> Balance: ...

    @_operation(UNAVAILABLE)
    def quote(
        self, energy: int, period: str, address: str | None = None, *, activate: bool = False
    ) -> Quote:
        """The price of an energy order. With activate=True the total includes what activating
        the address would cost, so a budget checked against it is never understated."""
        address = self._check_order_args(address, energy, period)
        return self._quote(energy, period, address, activate)

    @_operation(UNKNOWN)
    def place_energy_order(
        self,
        address: str,
        energy: int,
        period: str,
        reference: str,
        activate: bool = False,
        callback_url: str | None = None,
    ) -> PlacedOrder:
        address = self._check_order_args(address, energy, period)
        order = EnergyOrder(address, energy, period, reference, activate, callback_url)
        return self._place_energy(order)

    def place_collection_order(
        self,
        address: str,
        reference: str,
        to_address: str | None = None,
        scene: int = 0,
        callback_url: str | None = None,
    ) -> PlacedOrder:
        raise self._unsupported(self.no_collection)

    def activate_address(self, address: str, reference: str) -> PlacedOrder:
        raise self._unsupported(self.no_activation_order)

    def activation_price(self, address: str | None = None) -> int:
        """Sun the provider charges to activate an address (a read; nothing is charged)."""
        name = NAMES.get(self.kind, self.kind)
        raise self._unsupported(
            self.no_activation_price or f"{name} publishes no separate activation price"
        )

    @_operation(UNAVAILABLE)
    def get_order(
        self, provider_ref: str | None = None, reference: str | None = None
    ) -> OrderState:
        """The order by the provider's id, or by our reference where the provider can."""
        if not provider_ref and not (reference and self.supports_reference_lookup):
            raise self._unsupported(self.no_lookup)
        return self._get_order(provider_ref, reference)

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> CallbackEvent:
        raise CallbackRejected(403, self.no_callbacks)

    # Hooks: the provider's wire format, called with the arguments already checked ----------

    @abc.abstractmethod
    def _quote(self, energy: int, period: str, address: str, activate: bool) -> Quote:
        """`address` is the cleaned receiving address, "" when none was given."""

    @abc.abstractmethod
    def _place_energy(self, order: EnergyOrder) -> PlacedOrder: ...

    @abc.abstractmethod
    def _get_order(self, provider_ref: str | None, reference: str | None) -> OrderState:
        """By provider_ref when given, else by reference (only if supports_reference_lookup)."""

    # Helpers for subclasses -----------------------------------------------------------------

    def _check_order_args(self, address: str | None, energy: int | None, period: str | None) -> str:
        """Validate what we can before any HTTP call; returns the cleaned address ("" if None)."""
        if period is not None and period not in self.periods:
            allowed = ", ".join(self.periods)
            raise self._error(REJECTED, f"period {period!r} is not offered; use one of {allowed}")
        if energy is not None and (
            isinstance(energy, bool) or not isinstance(energy, int) or energy <= 0
        ):
            raise self._error(REJECTED, f"energy must be a positive whole number, got {energy!r}")
        if address is None:
            return ""
        try:
            return validate_address(address)
        except InvalidAddress as exc:
            raise self._error(REJECTED, f"invalid TRON address: {exc}") from None


def lookup_header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive header lookup that also accepts Django's META spelling (HTTP_NAME)."""
    wanted = {name.lower(), "http_" + name.lower().replace("-", "_")}
    for key, value in headers.items():
        if str(key).lower() in wanted:
            return str(value).strip()
    return ""
