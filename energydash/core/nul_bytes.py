"""Refuse NUL characters in requests before any view sees them.

No console form, filter or URL has a use for U+0000, and PostgreSQL refuses it in text values
(psycopg raises DataError), so wherever such a value reached a query — an admin search box or
filter, an object id in an admin URL — the request ended as a 500. One check here answers 400
for all of them, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _in_params(params) -> bool:
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in params.lists()
    )


def has_nul(request: HttpRequest) -> bool:
    """True when the path, a query parameter or a form field (name or value) holds a NUL."""
    if NUL in request.path or _in_params(request.GET):
        return True
    # Only form bodies are parsed here; a JSON body (the itrx callback) is left to its view.
    if request.method == "POST" and request.content_type in FORM_TYPES:
        return _in_params(request.POST)
    return False


class RejectNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            if request.path.startswith("/api/"):  # the API answers problem documents only
                return JsonResponse(
                    {
                        "type": "https://energydash.invalid/problems/bad_request",
                        "title": "Bad request",
                        "status": 400,
                        "code": "bad_request",
                        "detail": "This request contains a NUL character, which no field accepts.",
                        "instance": request.path.replace(NUL, ""),
                    },
                    status=400,
                    content_type="application/problem+json",
                )
            return HttpResponseBadRequest(
                "This request contains a NUL character, which no field accepts.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
