"""Routes moved from the api app to orders: the admin role still reads them, read-only."""

from __future__ import annotations

from energydash.orders.models import Route, RouteAttempt


def test_the_admin_role_reads_routes_and_their_attempts(admin_client_, itrx_account):
    route = Route.objects.create(
        key="admin-view", body_hash="h", via="api:wallet", receive_address="T" * 34
    )
    RouteAttempt.objects.create(route=route, number=1, account=itrx_account, outcome="rejected")
    assert admin_client_.get("/admin/orders/route/").status_code == 200
    page = admin_client_.get(f"/admin/orders/route/{route.pk}/change/")
    assert page.status_code == 200 and "rejected" in page.content.decode().lower()
    assert admin_client_.get("/admin/orders/route/add/").status_code == 403
    # Orders: a read-only changelist for support work (tests/core/test_admin_changelists.py).
    assert admin_client_.get("/admin/orders/order/").status_code == 200
    assert admin_client_.get("/admin/orders/order/add/").status_code == 403


def test_the_route_tables_keep_their_names():
    assert Route._meta.db_table == "api_route"
    assert RouteAttempt._meta.db_table == "api_routeattempt"
