from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "energydash administration"
admin.site.site_title = "energydash"

urlpatterns = [
    path("", include("energydash.console.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("energydash.api.urls")),
]

if settings.ENERGYDASH_SANDBOX:
    urlpatterns.append(path("sandbox/", include("energydash.sandbox.urls")))
