"""The console's URLs, included at the root by energydash/urls.py. Names and namespaces are the
ones templates and tests reverse: home, login, login_code, reauth, security, recovery_codes,
logout, set_language, providers, audit, itrx_callback, and the balances:, orders:, batches:
and ready: namespaces."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from energydash.console.account import views as account_views
from energydash.console.account.language import set_language
from energydash.console.audit.views import audit_list
from energydash.console.balances.views import dashboard_view
from energydash.console.orders.callbacks import itrx_callback
from energydash.console.providers import views as provider_views

urlpatterns = [
    path("", dashboard_view, name="home"),
    path("", include("energydash.console.balances.urls")),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("login/code/", account_views.login_code, name="login_code"),
    path("reauth/", account_views.reauth, name="reauth"),
    path("account/security/", account_views.security, name="security"),
    path("account/security/recovery-codes/", account_views.recovery_codes, name="recovery_codes"),
    path("account/language/", set_language, name="set_language"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("providers/", provider_views.account_list, name="providers"),
    path("providers/prices/", provider_views.price_board, name="provider_prices"),
    path(
        "providers/<uuid:code>/prices/", provider_views.price_history, name="provider_price_history"
    ),
    path("providers/<uuid:code>/top-up/", provider_views.topup_view, name="provider_topup"),
    path(
        "providers/<uuid:code>/prices/csv/",
        provider_views.price_history_csv,
        name="provider_price_history_csv",
    ),
    path("orders/", include("energydash.console.orders.urls")),
    path("callbacks/itrx/<uuid:code>/", itrx_callback, name="itrx_callback"),
    path("batches/", include("energydash.console.batches.urls")),
    path("ready/", include("energydash.console.ready.urls")),
    path("audit/", audit_list, name="audit"),
    path("watch/", include("energydash.console.watch.urls")),
]
