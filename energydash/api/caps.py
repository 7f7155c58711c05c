"""A token's daily spending cap, for placement (registered as orders.hooks.spend_cap)."""

from __future__ import annotations

from energydash.api.models import ApiToken

VIA_PREFIX = "api:"


def spend_cap(via: str) -> int | None:
    """Lock the token placing as `via` for the caller's transaction and return its cap.

    FOR NO KEY UPDATE (PostgreSQL): two placements with one token queue here, so each counts the
    other's committed draft, as the account's row lock does for the budget; it does not block the
    foreign-key checks of rows pointing at the token (a route being created). SQLite transactions
    already hold the write lock."""
    if not via.startswith(VIA_PREFIX):
        return None
    return (
        ApiToken.objects.select_for_update(no_key=True)
        .filter(name=via.removeprefix(VIA_PREFIX))
        .values_list("daily_cap_sun", flat=True)
        .first()
    )
