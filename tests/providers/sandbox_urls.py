"""Project URLs with the sandbox mounted whatever ENERGYDASH_SANDBOX was at import time."""

from __future__ import annotations

from django.urls import include, path

from energydash.urls import urlpatterns as project_patterns

urlpatterns = [p for p in project_patterns if str(getattr(p, "pattern", "")) != "sandbox/"]
urlpatterns.append(path("sandbox/", include("energydash.sandbox.urls")))
