"""What an order's money is: one definition of *charged*, *refunded*, *kept* and *spend*.

* cost: what the provider charged when it accepted (``cost_sun``; the quoted cost while the
  provider has not stated one);
* refund: what it gave back (``refund_sun``);
* kept = cost - refund: the money that left for good.

An order is *charged* once the provider accepted it: submitted, delegating, completed and
refunded orders, and failed orders that carry the provider's order id (failed after acceptance).
Its kept money is cost - refund, where a missing refund figure counts as nothing given back,
except for status ``refunded``: the provider said it refunded, and without a figure that is
taken as the whole charge (as the ledger does). Failed orders without a provider id were refused
before sending or concluded "not placed": nothing was charged.

Unknown and needs-review orders may have been charged: their *possible* charge is their cost
(or quoted cost). *Spend* (dashboard, daily budget, charts, rollups, exports, the orders list and
batch totals) is kept money plus possible charges. The one definition is written three times
for its three readers, and tests/orders/test_net_charge.py holds them equal on every case: SQL
for the rollups (``spend_sql``), an ORM expression for queries over orders (``SPEND``), and
Python for one order (``Order.kept_sun`` / ``Order.spend_sun`` in models.py).
"""

from __future__ import annotations

from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.functions import Coalesce

from energydash.orders.models import CHARGED_STATUSES, POSSIBLE_STATUSES, Status

_INT = BigIntegerField()
COST = Coalesce(F("cost_sun"), F("quoted_cost_sun"), Value(0), output_field=_INT)
ACCEPTED_FAILED = Q(status=Status.FAILED) & ~Q(provider_ref="")
CHARGED = Q(status__in=CHARGED_STATUSES) | ACCEPTED_FAILED

# Money the provider kept (0 for orders never charged and for unresolved ones).
KEPT = Case(
    When(
        status=Status.REFUNDED,
        then=COST - Coalesce(F("refund_sun"), COST, output_field=_INT),
    ),
    When(CHARGED, then=COST - Coalesce(F("refund_sun"), Value(0), output_field=_INT)),
    default=Value(0),
    output_field=_INT,
)
# Kept money plus the possible charges of unknown / needs-review orders.
SPEND = Case(
    When(status__in=POSSIBLE_STATUSES, then=COST - Coalesce(F("refund_sun"), Value(0))),
    default=KEPT,
    output_field=_INT,
)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def cost_sql(alias: str = "o") -> str:
    """COST as SQL: the provider's figure, else the quoted cost."""
    return f"COALESCE({alias}.cost_sun, {alias}.quoted_cost_sun, 0)"


def charged_sql(alias: str = "o") -> str:
    """CHARGED as SQL: the provider accepted the order (a failed one: if it carries its id)."""
    return (
        f"({alias}.status IN ({_quoted(CHARGED_STATUSES)})"
        f" OR ({alias}.status = '{Status.FAILED}' AND {alias}.provider_ref <> ''))"
    )


def possible_sql(alias: str = "o") -> str:
    return f"{alias}.status IN ({_quoted(POSSIBLE_STATUSES)})"


def refunded_sql(alias: str = "o") -> str:
    """What a charged order got back, as counted (Order.refunded_sun): the refund figure; the
    whole charge for a refunded order without one; nothing for a failed one without one; 0 for
    an order never charged. The ledger places it (less any late part) at finished_at."""
    return (
        f"(CASE WHEN {alias}.status = '{Status.REFUNDED}'"
        f" THEN COALESCE({alias}.refund_sun, {cost_sql(alias)})"
        f" WHEN {charged_sql(alias)} THEN COALESCE({alias}.refund_sun, 0) ELSE 0 END)"
    )


def spend_sql(alias: str = "o") -> str:
    """SPEND as SQL over the orders table aliased `alias` (the rollups' recompute statements)."""
    cost = cost_sql(alias)
    refund = f"COALESCE({alias}.refund_sun, 0)"
    return (
        f"(CASE WHEN {alias}.status = '{Status.REFUNDED}'"
        f" THEN {cost} - COALESCE({alias}.refund_sun, {cost})"
        f" WHEN {alias}.status IN ({_quoted(CHARGED_STATUSES + POSSIBLE_STATUSES)})"
        f" OR ({alias}.status = '{Status.FAILED}' AND {alias}.provider_ref <> '')"
        f" THEN {cost} - {refund} ELSE 0 END)"
    )
