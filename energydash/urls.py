from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

admin.site.site_header = _("energydash administration")
admin.site.site_title = "energydash"

urlpatterns = [
    path("", include("energydash.console.urls")),
    # One login for the console and admin: the console's, with its second-factor step.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="login", query_string=True)),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("energydash.api.urls")),
]

if settings.ENERGYDASH_SANDBOX:
    urlpatterns.append(path("sandbox/", include("energydash.sandbox.urls")))
