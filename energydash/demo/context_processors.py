"""The sandbox fault banner: every console page says so while any sandbox fault is on.

Here, in the demo wiring, because the product never imports the sandbox. It reads nothing when
the sandbox is off (production), and nothing for a visitor who is not signed in.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from energydash.sandbox.fault_status import faults_on


def sandbox_faults(request: HttpRequest) -> dict[str, object]:
    if not settings.ENERGYDASH_SANDBOX:
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    faults = faults_on()
    return {"sandbox_faults": faults} if faults else {}
