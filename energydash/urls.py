from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from energydash.balances.views import dashboard_view
from energydash.orders.callbacks import itrx_callback
from energydash.providers import views as provider_views

admin.site.site_header = "energydash administration"
admin.site.site_title = "energydash"

urlpatterns = [
    path("", dashboard_view, name="home"),
    path("", include("energydash.balances.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("providers/", provider_views.account_list, name="providers"),
    path("orders/", include("energydash.orders.urls")),
    path("callbacks/itrx/<uuid:code>/", itrx_callback, name="itrx_callback"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("energydash.api.urls")),
    path("batches/", include("energydash.batches.urls")),
]

if settings.ENERGYDASH_SANDBOX:
    urlpatterns.append(path("sandbox/", include("energydash.sandbox.urls")))
