from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Database checks run at start-up too (registered with this tag besides Tags.database).
STARTUP_DATABASE_TAG = "energydash_startup_database"


def refuse_if_misconfigured() -> None:
    """WSGI/ASGI servers skip Django's system checks; run ours so production fails loudly,
    and the database-tagged checks that guard figures (the rollups' time zone), which handle
    an unreachable database themselves (the full database checks could not start without it)."""
    found = checks.run_checks() + checks.run_checks(
        tags=[STARTUP_DATABASE_TAG], databases=["default"]
    )
    serious = [m for m in found if m.is_serious()]
    if serious:
        raise ImproperlyConfigured("energydash refuses to start:\n" + "\n".join(map(str, serious)))
