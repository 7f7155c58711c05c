"""Template filters that show money, energy and time the same way on every console page."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import formats, timezone

from energydash.lib.l10n import localize_digits
from energydash.lib.tron import format_energy, format_trx, format_unit_price
from energydash.lib.zones import offset_label
from energydash.orders.models import Status

register = template.Library()


@register.filter
def trx(sun: int | None, places: int = 6) -> str:
    """Integer sun as grouped TRX text: {{ cost|trx }} -> '3,120.000000', {{ cost|trx:2 }}.

    Exact (from the integer), then written with the active language's separators
    ('3 120,000000' in Russian)."""
    return localize_digits(format_trx(sun, int(places)))


@register.filter
def energy(value: int | None) -> str:
    """Energy grouped in thousands: 50,000,000 (50 000 000 in Russian); '—' when unknown."""
    return localize_digits(format_energy(value))


@register.filter
def sun(value: int | None) -> str:
    """A whole number of sun, grouped: 3,250,000,000."""
    return localize_digits(format_energy(value))


@register.filter
def unit_price(value: object) -> str:
    """Sun per energy with a fixed two places."""
    return localize_digits(format_unit_price(value))


@register.filter
def ts(value: datetime | None) -> str:
    """A timestamp in the console's zone with its UTC offset ("2026-03-10 04:00:00 UTC+08:00"),
    never the zone's abbreviation ("CST" is China, Central US or Cuba). The date as the active
    language writes it (energydash/formats: "10.03.2026 04:00:00 UTC+08:00" in Russian)."""
    if not value:
        return "—"
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    text = f"{formats.date_format(value, 'DATE_FORMAT')} {formats.time_format(value, 'H:i:s')}"
    return f"{text} {offset_label(value)}" if timezone.is_aware(value) else text


@register.filter
def span(start: datetime | None, end: datetime | None) -> str:
    """Two moments as one short line in the console's zone: "2026-03-10 09:00:00–11:00:00" on
    one day, "2026-03-10 23:00:00 – 03-11 01:00:00" across days (the page names the zone)."""
    if not start or not end:
        return "—"
    start, end = timezone.localtime(start), timezone.localtime(end)
    first = formats.date_format(start, "Y-m-d H:i:s")
    if start.date() == end.date():
        return f"{first}–{formats.date_format(end, 'H:i:s')}"
    if start.year == end.year:
        return f"{first} – {formats.date_format(end, 'm-d H:i:s')}"
    return f"{first} – {formats.date_format(end, 'Y-m-d H:i:s')}"


@register.filter
def status_label(value: str) -> str:
    """An order status code ('needs_review') in words ('Needs review'); '' stays ''."""
    if not value:
        return ""
    return str(Status(value).label) if value in Status.values else value
