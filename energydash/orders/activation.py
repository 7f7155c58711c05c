"""Is a receive address known to be active? Asked before quoting a provider that activates an
unactivated recipient at cost whether or not activation was asked for (Netts).

Known active: an earlier order to the address completed (energy can only be delegated to an
active account, and an activation order completes only once it is active), or the chain says
so. The chain reader is asked only when configured, with no retries and a short timeout (a quote
must not wait); anything but a clear "activated" answer is "not known", and the quote then
counts activation, so a limit is checked against the whole possible charge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from energydash.chain.reader import ChainReader
from energydash.orders.models import Order, Status
from energydash.providers.registry import ADAPTERS

CHAIN_TIMEOUT_SECONDS = 3.0


def known_active(address: str, reader: Any = None) -> bool:
    if Order.objects.filter(receive_address=address, status=Status.COMPLETED).exists():
        return True
    reader = reader or ChainReader.from_settings(retries=0, timeout=CHAIN_TIMEOUT_SECONDS)
    if not reader.configured:
        return False
    reading = reader.account(address)
    return bool(reading.ok and reading.value.activated)


def unquoted_activation_sun(
    provider: str, quoted_sun: int | None, unit_price_sun: Decimal | None, energy: int | None
) -> int:
    """The activation fee a provider that activates unasked (Netts) may charge beyond an energy
    order's quote: its fee when the quote (energy at the quoted sun per energy) did not count
    activation, else 0 (also for other providers, and when the quote cannot say)."""
    cls = ADAPTERS.get(provider)
    fee = getattr(cls, "activation_fee_sun", None) or 0
    if not getattr(cls, "activates_unasked", False) or not fee:
        return 0
    if quoted_sun is None or unit_price_sun is None or not energy:
        return 0
    return fee if quoted_sun - int(unit_price_sun * energy) < fee else 0
