"""Is a receive address known to be active? Asked before quoting a provider that activates an
unactivated recipient at cost whether or not activation was asked for (Netts).

Known active: an earlier order to the address completed (energy can only be delegated to an
active account, and an activation order completes only once it is active), or the chain says
so. The chain reader is asked only when configured, with no retries and a short timeout (a quote
must not wait); anything but a clear "activated" answer is "not known", and the quote then
counts activation, so a limit is checked against the whole possible charge.
"""

from __future__ import annotations

from typing import Any

from energydash.chain.reader import ChainReader
from energydash.orders.models import Order, Status

CHAIN_TIMEOUT_SECONDS = 3.0


def known_active(address: str, reader: Any = None) -> bool:
    if Order.objects.filter(receive_address=address, status=Status.COMPLETED).exists():
        return True
    reader = reader or ChainReader.from_settings(retries=0, timeout=CHAIN_TIMEOUT_SECONDS)
    if not reader.configured:
        return False
    reading = reader.account(address)
    return bool(reading.ok and reading.value.activated)
