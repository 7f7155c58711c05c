from __future__ import annotations

from django import template

from energydash.lib.tron import format_trx

register = template.Library()


@register.filter
def trx(sun: int | None, places: int = 6) -> str:
    """Integer sun as TRX text: {{ order.cost_sun|trx }} -> '3.120000'; '—' when unknown."""
    return format_trx(sun, int(places))
