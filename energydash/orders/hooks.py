"""Work that order code hands to the layers above it, wired at start-up.

Orders sit below balances (the money layer, pyproject.toml [tool.importlinter]): no order module
imports balances, not even late. Yet some order work must move money bookkeeping or ask the
ledger: a transition moves the rollups, an itrx answer carries the account's balance,
reconciliation wants the ledger's evidence, routing wants the last known balances. Each such
point is a hook declared here; the app that owns the work registers its handler in its
AppConfig.ready() (balances: BalancesConfig.ready -> balances/order_hooks.py).

A hook is a plain synchronous call: it runs in the caller's thread and transaction, and what it
raises reaches the caller (a transition whose rollups fail rolls back with them, as before).
Every hook is required: calling one that no app registered raises MissingHook, and the system
check energydash.E005 names it at start-up. Money bookkeeping is never skipped in silence.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from datetime import datetime

    from energydash.orders.evidence import Evidence, ReviewFacts
    from energydash.orders.models import Order
    from energydash.providers.base import Adapter
    from energydash.providers.models import ProviderAccount


class MissingHook(ImproperlyConfigured):
    """An order hook was called but no app registered a handler for it."""


class Hook[**P, R]:
    """One named hook: one handler, registered at start-up, called synchronously."""

    def __init__(self, name: str, purpose: str) -> None:
        self.name = name
        self.purpose = purpose
        self._handler: Callable[P, R] | None = None

    def __repr__(self) -> str:
        return f"<orders hook {self.name}>"

    @property
    def registered(self) -> bool:
        return self._handler is not None

    def register(self, handler: Callable[P, R]) -> None:
        """Set the handler (registering again replaces it: AppConfig.ready may run twice)."""
        self._handler = handler

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        handler = self._handler
        if handler is None:
            raise MissingHook(
                f"No handler is registered for the orders hook {self.name!r} ({self.purpose}). "
                "Is energydash.balances in INSTALLED_APPS?"
            )
        return handler(*args, **kwargs)


order_changed: Hook[[Order, str, str, Collection[str]], None] = Hook(
    "order_changed",
    "keeps the order rollups right; called inside the transaction of every order change with "
    "(order, from_status, to_status, names of the fields changed)",
)
balance_reported: Hook[[ProviderAccount, int, datetime | None], None] = Hook(
    "balance_reported",
    "records the balance a provider reported with an order (itrx's balance after the order), "
    "with when that order's request left (an answer older than a reading recorded since is "
    "kept off the balance history)",
)
balance_evidence: Hook[[Order, Adapter], Evidence] = Hook(
    "balance_evidence",
    "what the account's balance history says about whether an uncertain order was charged",
)
summary_evidence: Hook[[Order, Adapter], Evidence | None] = Hook(
    "summary_evidence",
    "what the provider's own usage summary says about it (itrx), None when there is no figure",
)
review_evidence: Hook[[Order], ReviewFacts] = Hook(
    "review_evidence",
    "the balance history's facts on an order in review, from stored readings (no provider call)",
)
known_balances: Hook[[Collection[ProviderAccount]], dict[int, int]] = Hook(
    "known_balances",
    "the last recorded balance of each account that has one, by account id, with no provider call",
)

cost_overrun: Hook[[Order, str], None] = Hook(
    "cost_overrun",
    "alerts (once per order) that an order's charge is above its quote, the account's maximum "
    "per order or its daily budget; called in the transaction that flags the order",
)

spend_cap: Hook[[str], int | None] = Hook(
    "spend_cap",
    "locks, for the rest of the transaction, the API token that places as `via` (api:NAME) and "
    "returns its daily spending cap in sun, or None (no cap, or not a token); registered by the "
    "api app",
)

watch_alert: Hook[[str, str, int], None] = Hook(
    "watch_alert",
    "puts a watch rule's price-above-the-cap alert (once per episode) in the alerts inbox and "
    "its channels, with (subject, words, the cap in sun for the energy wanted)",
)

ALL = (
    order_changed,
    balance_reported,
    balance_evidence,
    summary_evidence,
    review_evidence,
    known_balances,
    cost_overrun,
    spend_cap,
    watch_alert,
)


def missing() -> list[str]:
    """Names of the hooks nobody registered."""
    return [hook.name for hook in ALL if not hook.registered]


def check_hooks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check energydash.E005 (registered by OrdersConfig.ready): every hook has a handler."""
    return [
        checks.Error(
            f"The orders hook {name!r} has no handler: order code that calls it would fail.",
            hint="energydash.balances (or, for spend_cap, energydash.api) registers it in its "
            "AppConfig.ready(): is it installed?",
            id="energydash.E005",
        )
        for name in missing()
    ]
