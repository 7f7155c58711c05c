"""What every sandbox endpoint shares: the on/off guard, exemptions, JSON in and out."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

View = Callable[..., HttpResponse]


def endpoint(method: str, not_allowed: Callable[[str], HttpResponse]) -> Callable[[View], View]:
    """A sandbox view: 404 unless the sandbox is on, no CSRF, no login, one HTTP method."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not settings.ENERGYDASH_SANDBOX:
                raise Http404("The provider sandbox is off.")
            if request.method != method:
                response = not_allowed(request.method or "")
                response["Allow"] = method
                return response
            return view(request, *args, **kwargs)

        return login_not_required(csrf_exempt(wrapper))

    return decorate


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": True})


def parse_json(raw: bytes) -> Any:
    """The decoded body, or raise ValueError."""
    return json.loads(raw.decode("utf-8"))


def as_int(value: Any) -> int | None:
    """An integer given as JSON int or digit string; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
