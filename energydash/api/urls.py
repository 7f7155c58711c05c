"""The API's URLs. API views authenticate with bearer tokens, not sessions, so they are exempt
from LoginRequiredMiddleware; the browsable docs keep requiring a login."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from energydash.api.api import api
from energydash.api.problems import problem_response
from energydash.core.middleware import role_required

DOCS_NAME = "openapi-view"


def _patterns() -> list[URLPattern]:
    patterns, _app, _namespace = api.urls
    result = []
    for pattern in patterns:
        if pattern.name != DOCS_NAME:
            pattern.callback = login_not_required(pattern.callback)
        else:  # a console page: a login and one of the three roles
            pattern.callback = role_required(pattern.callback)
        result.append(pattern)
    return result


@login_not_required
def no_such_endpoint(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/v1/: a problem document, as every API error is, not the
    console's HTML 404 page (an API client parses JSON, whatever the status)."""
    return problem_response(
        request, 404, "no_such_endpoint", "There is no API endpoint at this path; see /api/v1/docs."
    )


# Last: the API's own routes (and their 405s for a wrong method) match first.
urlpatterns = [*_patterns(), path("<path:rest>", no_such_endpoint, name="no-such-endpoint")]
app_name = "api"
