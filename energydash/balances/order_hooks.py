"""balances' side of orders.hooks: the money work order code hands up, registered at start-up.

BalancesConfig.ready() calls connect(). Orders never import balances; these handlers are how
an order change still moves the rollups in its own transaction, how a balance an order answer
carried is recorded, and how reconciliation and routing read the ledger and the balances.
"""

from __future__ import annotations

from energydash.balances import rollups
from energydash.orders import hooks


def connect() -> None:
    hooks.order_changed.register(rollups.on_order_changed)
