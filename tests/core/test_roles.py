"""Every console page needs a role; the admin role manages users without being a superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse

from energydash.core.middleware import ROLE_EXEMPT_PATH_PREFIXES
from energydash.core.models import AuditEvent


@pytest.fixture
def nobody(db, django_user_model):
    return django_user_model.objects.create_user(username="nora", password="pw-nora-1234567")


@pytest.mark.parametrize("url", ["/", "/orders/", "/orders/new/", "/providers/", "/alerts/"])
def test_a_user_without_a_role_sees_a_403_page_that_says_so(client, nobody, url):
    client.force_login(nobody)
    response = client.get(url)
    assert response.status_code == 403
    html = response.content.decode()
    assert "You have no role in this console" in html
    assert "nora" in html
    assert "Log out" in html  # within the layout, with a way out


def test_the_same_user_with_a_viewer_role_gets_the_pages(client, nobody):
    nobody.groups.add(Group.objects.get(name="viewer"))
    client.force_login(nobody)
    assert client.get("/").status_code == 200


def test_a_user_without_a_role_can_still_log_out(client, nobody):
    client.force_login(nobody)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_exemptions_are_the_listed_ones():
    assert set(ROLE_EXEMPT_PATH_PREFIXES) == {
        "/login/",
        "/logout/",
        "/callbacks/",
        "/sandbox/",
        "/api/v1/",
        "/static/",
    }


def test_a_role_less_user_is_not_blocked_from_callbacks(client, nobody, itrx_account):
    client.force_login(nobody)
    url = reverse("itrx_callback", args=[itrx_account.code])
    response = client.post(url, data=b"{}", content_type="application/json")
    assert b"You have no role" not in response.content  # its own signature check answers


# --- the admin role manages users -----------------------------------------------------------


def test_the_admin_role_adds_an_operator_in_admin_without_being_superuser(admin_client_):
    response = admin_client_.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newop",
            "password1": "a-long-password-9431",
            "password2": "a-long-password-9431",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newop")
    operator = Group.objects.get(name="operator")
    change = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client_.get(change)
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    data = {
        "username": "newop",
        "email": "newop@example.test",
        "is_active": "on",
        "groups": [operator.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "is_superuser": "on",  # ignored: the field is not in the form for non-superusers
    }
    response = admin_client_.post(change, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["operator"]
    assert not user.is_superuser
    assert AuditEvent.objects.filter(action="user.roles_changed", object_code=str(user.pk)).exists()


def test_the_admin_role_cannot_touch_a_superuser_or_edit_groups(admin_client_, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.test", "pw-root-123")
    view = admin_client_.get(reverse("admin:auth_user_change", args=[root.pk]))
    assert view.status_code == 200  # may look ...
    assert '<input type="text" name="username"' not in view.content.decode()  # ... not edit
    response = admin_client_.post(
        reverse("admin:auth_user_change", args=[root.pk]),
        {"username": "root2", "is_active": "on"},
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.username == "root"
    pw = admin_client_.get(reverse("admin:auth_user_password_change", args=[root.pk]))
    assert pw.status_code == 403
    admin_group = Group.objects.get(name="admin")
    edit = admin_client_.post(
        reverse("admin:auth_group_change", args=[admin_group.pk]), {"name": "renamed"}
    )
    assert edit.status_code == 403
    assert Group.objects.filter(name="admin").exists()


def test_the_admin_role_offers_only_the_three_roles_as_groups(admin_client_, viewer):
    Group.objects.create(name="powerful")
    page = admin_client_.get(reverse("admin:auth_user_change", args=[viewer.pk])).content.decode()
    assert ">admin<" in page and ">operator<" in page and ">viewer<" in page
    assert "powerful" not in page


def test_viewers_and_operators_cannot_manage_users(client, viewer, operator):
    for user in (viewer, operator):
        client.force_login(user)
        response = client.get(reverse("admin:auth_user_changelist"))
        assert response.status_code in (302, 403)


# --- create_user ------------------------------------------------------------------------------


def test_create_user_takes_the_password_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("ENERGYDASH_PASSWORD", "a-long-password-9431")
    call_command("create_user", "olga", "--role", "operator", "--email", "olga@example.test")
    user = User.objects.get(username="olga")
    assert user.check_password("a-long-password-9431")
    assert list(user.groups.values_list("name", flat=True)) == ["operator"]
    assert user.email == "olga@example.test" and not user.is_staff and not user.is_superuser
    # Again with another role: the role is replaced, not added.
    call_command("create_user", "olga", "--role", "admin", "--keep-password")
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["admin"] and user.is_staff
    assert user.check_password("a-long-password-9431")


def test_create_user_refuses_bad_input_and_changes_nothing(db, monkeypatch):
    monkeypatch.setenv("ENERGYDASH_PASSWORD", "short")
    with pytest.raises(CommandError, match="password refused"):
        call_command("create_user", "olga", "--role", "viewer")
    monkeypatch.setenv("ENERGYDASH_PASSWORD", "a-long-password-9431")
    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("create_user", "olga", "--role", "viewer", "--email", "<img src=x>@x")
    assert not User.objects.filter(username="olga").exists()


def test_create_user_without_a_password_source_refuses(db, monkeypatch):
    monkeypatch.delenv("ENERGYDASH_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="ENERGYDASH_PASSWORD"):
        call_command("create_user", "olga", "--role", "viewer")


def test_create_user_has_no_password_argument():
    with pytest.raises(CommandError):
        call_command("create_user", "olga", "--role", "viewer", "--password", "x")
