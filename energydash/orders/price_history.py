"""Recording quoted prices as history (PriceSample), at most one per account, size and period
every ENERGYDASH_PRICE_SAMPLE_MINUTES. Fed by orders/quotes.py (every energy quote without
activation) and orders/prices.py (the providers page's price board)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from energydash.orders.models import PriceSample
from energydash.providers.models import ProviderAccount


def _sample_seconds() -> int:
    return 60 * int(getattr(settings, "ENERGYDASH_PRICE_SAMPLE_MINUTES", 10))


def record(account: ProviderAccount, energy: int, period: str, total_sun: int) -> bool:
    """Keep this price in the history unless one for this account, size and period was kept in
    the last ENERGYDASH_PRICE_SAMPLE_MINUTES. True when a row was written."""
    key = f"price-sample:{account.pk}:{energy}:{period}"
    if not cache.add(key, 1, timeout=_sample_seconds()):
        return False
    PriceSample.objects.create(account=account, energy=energy, period=period, total_sun=total_sun)
    return True
