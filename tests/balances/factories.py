"""Orders and snapshots for the money-view tests, with explicit times and costs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from energydash.orders.models import Order, Status
from energydash.providers.models import ProviderAccount

ADDRESS = "TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kw"
OTHER_ADDRESS = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"


def order(
    account: ProviderAccount,
    *,
    cost_sun: int | None = 3_250_000,
    energy: int | None = 65_000,
    status: str = Status.COMPLETED,
    created: datetime | None = None,
    kind: str = "energy",
    address: str = ADDRESS,
    burn: int = 100,
    quoted_cost_sun: int | None = None,
) -> Order:
    unit = Decimal(cost_sun) / energy if cost_sun and energy else None
    return Order.objects.create(
        account=account,
        kind=kind,
        receive_address=address,
        energy=energy,
        period="1H",
        status=status,
        cost_sun=cost_sun,
        quoted_cost_sun=quoted_cost_sun if quoted_cost_sun is not None else cost_sun,
        unit_price_sun=unit.quantize(Decimal("0.001")) if unit is not None else None,
        burn_sun_per_energy=burn,
        created=created or timezone.now(),
    )
