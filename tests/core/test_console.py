from __future__ import annotations

from django.contrib.auth.models import Group
from django.urls import reverse


def test_the_three_roles_exist(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "operator", "admin"}


def test_the_admin_role_holds_the_vault_permissions(db):
    perms = set(Group.objects.get(name="admin").permissions.values_list("codename", flat=True))
    assert {"change_provideraccount", "view_auditevent"} <= perms


def test_anonymous_requests_are_redirected_to_login(client, db):
    for url in ("/", reverse("providers")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_login_page_is_public_and_has_a_strict_csp(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_the_providers_page_lists_accounts_with_masked_keys_and_no_fake_balance(
    viewer_client, itrx_account
):
    response = viewer_client.get(reverse("providers"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "itrx main" in html and "••••" in html
    assert "B433BFF1CDE7450AA38A56BEAC690DD4" not in html
    assert "not fetched yet" in html


def test_pages_load_htmx_from_our_own_static_files_with_the_csrf_header(viewer_client, db):
    html = viewer_client.get(reverse("providers")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert 'hx-headers=\'{"x-csrftoken": "' in html
    assert "<script>" not in html and "style=" not in html


def test_logout_is_a_post(viewer_client):
    response = viewer_client.post(reverse("logout"))
    assert response.status_code == 302
    assert viewer_client.get(reverse("providers")).status_code == 302


def test_the_providers_page_shows_the_last_known_balance_once_fetched(viewer_client, itrx_account):
    from energydash.balances.services import record_balance

    record_balance(itrx_account, 813_900_029_257, source="refresh")
    html = viewer_client.get(reverse("providers")).content.decode()
    assert "813,900.03 TRX" in html and "not fetched yet" not in html  # tables: 2 places
