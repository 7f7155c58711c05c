"""Which sandbox faults are switched on: the console's banner shows them while any is.

A fault is "on" when its knob is away from its off value: a rate above 0, a fault switch
ticked, or a chain fault's amount set. Timings that are not faults (latency, hang_seconds,
delegation_delay_seconds, slow_delegation_seconds, the *_fault_seconds of a rate that is 0)
and settings such as prices and limits do not count.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import FloatField, Q

from energydash.sandbox.models import SandboxAccount

# Fault switches and amounts beside the rates, with the test for "on".
_OTHER_FAULTS: dict[str, Q] = {
    "orders_unavailable": Q(orders_unavailable=True),
    "charge_without_order_once": Q(charge_without_order_once=True),
    "chain_never_delegates": Q(chain_never_delegates=True),
    "chain_delegated_percent": Q(chain_delegated_percent__lt=100),
    "chain_late_seconds": Q(chain_late_seconds__gt=0),
    "chain_undelegate_after_seconds": Q(chain_undelegate_after_seconds__isnull=False),
    "chain_other_party_percent": Q(chain_other_party_percent__gt=0),
}


def _rate_fields() -> list[str]:
    return [
        f.name
        for f in SandboxAccount._meta.concrete_fields
        if isinstance(f, FloatField) and f.name.endswith("_rate")
    ]


def _is_on(account: SandboxAccount, name: str) -> bool:
    value = getattr(account, name)
    if name.endswith("_rate"):
        return value > 0
    if name == "chain_delegated_percent":
        return value < 100
    if name == "chain_undelegate_after_seconds":
        return value is not None
    return bool(value)


def faults_on() -> list[tuple[str, list[str]]]:
    """(account name, names of its faults that are on) for each sandbox account with any on.

    One query; accounts with every fault off are not read at all.
    """
    rates = _rate_fields()
    on = reduce(or_, [Q(**{f"{name}__gt": 0}) for name in rates], Q())
    on = reduce(or_, _OTHER_FAULTS.values(), on)
    names = [*rates, *_OTHER_FAULTS]
    rows = SandboxAccount.objects.filter(on).order_by("name").only("name", *names)
    return [(row.name, [n for n in names if _is_on(row, n)]) for row in rows]
