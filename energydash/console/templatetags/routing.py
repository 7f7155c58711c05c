"""{% route_attempts order %}: the routing attempts behind an order, for its page."""

from __future__ import annotations

from typing import Any

from django import template

from energydash.orders.routing import attempts_for_order

register = template.Library()


@register.inclusion_tag("api/route_attempts.html")
def route_attempts(order: Any) -> dict[str, Any]:
    return {"attempts": attempts_for_order(order), "order": order}
