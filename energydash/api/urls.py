"""The API's URLs. API views authenticate with bearer tokens, not sessions, so they are exempt
from LoginRequiredMiddleware; the browsable docs keep requiring a login."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern

from energydash.api.api import api

DOCS_NAME = "openapi-view"


def _patterns() -> list[URLPattern]:
    patterns, _app, _namespace = api.urls
    result = []
    for pattern in patterns:
        if pattern.name != DOCS_NAME:
            pattern.callback = login_not_required(pattern.callback)
        result.append(pattern)
    return result


urlpatterns = _patterns()
app_name = "api"
