"""django-axes hooks: the lockout answer (the login page with a message) and the client address."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

LOCKOUT_STATUS = 429


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return gettext(
        "Too many failed logins for this username from your address: login is locked for "
        "%(minutes)s minutes. An administrator can unlock it sooner."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The login page again, with the lockout in words (429), never a bare error page."""
    username = ""
    if isinstance(credentials, dict):
        username = str(credentials.get("username") or "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "lockout": lockout_message(), "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=LOCKOUT_STATUS)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with ENERGYDASH_PROXY_COUNT = n proxies in front, the address the
    outermost of them saw (the n-th entry from the right of X-Forwarded-For).

    Entries further left are written by the client and can be anything, so they are never used.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.ENERGYDASH_PROXY_COUNT
    if hops <= 0:
        return remote
    chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [p for p in chain if p]
    if len(chain) < hops:
        return remote
    return chain[-hops]
