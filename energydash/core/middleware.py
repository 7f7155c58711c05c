"""Every console page needs one of the three roles; this is where that is enforced.

LoginRequiredMiddleware (before this one) already sends anonymous visitors to the login page.
This middleware handles the next case: a logged-in user who is in none of the groups viewer,
operator or admin. Such a user gets a 403 page that says so, instead of a viewer's access.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from energydash.core.roles import role_of

# The one list of paths that do not need a role (each has its own authentication, or none by
# design). Keep it explicit: anything not listed here needs viewer, operator or admin.
#   /login/, /logout/  signing in and out must work for a user with no role
#   /callbacks/        provider callbacks, verified by the account's signature
#   /sandbox/          the simulated providers, authenticated by the sandbox account's key
#   /api/v1/           the JSON API, with its own token authentication (health included)
#   static files       served by WhiteNoise before any middleware sees them; listed for runserver
ROLE_EXEMPT_PATH_PREFIXES: tuple[str, ...] = (
    "/login/",
    "/logout/",
    "/callbacks/",
    "/sandbox/",
    "/api/v1/",
    "/" + settings.STATIC_URL.lstrip("/"),
)

NO_ROLE_TEMPLATE = "core/no_role.html"


def is_role_exempt(path: str) -> bool:
    return path.startswith(ROLE_EXEMPT_PATH_PREFIXES)


class RoleRequiredMiddleware:
    """403 with an explanation for a logged-in user without a role, on every non-exempt page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # anonymous: LoginRequiredMiddleware or the view's own auth decides
        if is_role_exempt(request.path_info):
            return None
        return no_role_response(request)


def no_role_response(request: HttpRequest) -> HttpResponse | None:
    """The 403 page for a logged-in user with none of the three roles; None when they have one."""
    if role_of(request.user) is not None:
        return None
    return render(request, NO_ROLE_TEMPLATE, {"username": request.user.get_username()}, status=403)


def role_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a console page under an exempt prefix (the API's docs): a login alone is not enough."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and (refused := no_role_response(request)):
            return refused
        return view(request, *args, **kwargs)

    return wrapper
