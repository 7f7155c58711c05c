from __future__ import annotations

from django.urls import path

from energydash.console.balances import ledger_views, statement_views, views

app_name = "balances"

urlpatterns = [
    path("balances/refresh/", views.refresh_view, name="refresh"),
    path("charts/balance/<uuid:code>/", views.balance_chart_view, name="balance_chart"),
    path("charts/<slug:kind>/", views.chart_view, name="chart"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/<slug:action>/", views.alert_action, name="alert_action"),
    path("ledger/<uuid:code>/", ledger_views.ledger_view, name="ledger"),
    path("ledger/<uuid:code>/daily/", ledger_views.ledger_daily_view, name="ledger_daily"),
    path("statement/<uuid:code>/", statement_views.statement_view, name="statement"),
    path("statement/<uuid:code>/csv/", statement_views.statement_csv, name="statement_csv"),
    path("exports/orders.csv", views.orders_csv, name="orders_csv"),
    path("exports/daily-cost.csv", views.daily_cost_csv, name="daily_cost_csv"),
]
