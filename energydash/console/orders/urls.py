from __future__ import annotations

from django.urls import path

from energydash.console.orders import bulk, views
from energydash.console.orders.best_price import best_price, retry_elsewhere

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("newer/", views.order_newer, name="newer"),
    path("new/", views.order_new, name="new"),
    path("views/", bulk.view_save, name="view_save"),
    path("views/<int:pk>/delete/", bulk.view_delete, name="view_delete"),
    path("bulk/", bulk.bulk_action, name="bulk"),
    path("new/address/", views.validate_address, name="validate_address"),
    path("new/confirm/", views.order_confirm, name="confirm"),
    path("new/place/", views.order_place, name="place"),
    path("new/best/", best_price, name="best_price"),
    path("<uuid:code>/", views.order_detail, name="detail"),
    path("<uuid:code>/row/", views.order_row, name="row"),
    path("<uuid:code>/review/", views.order_review, name="review"),
    path("<uuid:code>/approval/", views.order_approval, name="approval"),
    path("<uuid:code>/reopen/", views.order_reopen, name="reopen"),
    path("<uuid:code>/check/", views.order_check, name="check"),
    path("<uuid:code>/retry/", retry_elsewhere, name="retry"),
]
