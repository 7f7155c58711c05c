from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_if_misconfigured() -> None:
    """WSGI/ASGI servers skip Django's system checks; run ours so production fails loudly."""
    serious = [m for m in checks.run_checks() if m.is_serious()]
    if serious:
        raise ImproperlyConfigured("energydash refuses to start:\n" + "\n".join(map(str, serious)))
