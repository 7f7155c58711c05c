"""Sudo mode (README "Users and roles"): the most dangerous actions need a login or a
re-authentication within ENERGYDASH_SUDO_MINUTES. The clock is time-machine's, never a sleep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from energydash.api.models import ApiToken
from energydash.core.models import AuditEvent
from energydash.orders.models import Order, Status
from tests.orders.conftest import address
from tests.signin import enrol, sign_in, totp_now

STALE = timedelta(minutes=16)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def stale_admin(client, admin_user, clock):
    """An admin who logged in with both factors 16 minutes ago."""
    sign_in(client, admin_user)
    clock.shift(STALE)
    return client


@pytest.fixture
def token(db) -> ApiToken:
    token = ApiToken(name="backend", role="operator")
    token.assign_new_secrets()
    token.save()
    return token


def reauth(client, user, next_url: str, *, code: bool = True):
    data = {"password": "pw-" + user.username, "next": next_url}
    if code:
        data["code"] = totp_now(enrol(user))
    return client.post(reverse("reauth"), data)


def sent_to_reauth(response, next_url: str) -> bool:
    return response.status_code == 302 and response["Location"] == (
        reverse("reauth") + "?next=" + quote(next_url, safe="")
    )


def test_sudo_lasts_the_set_number_of_minutes(client, admin_user, clock, settings):
    url = reverse("admin:providers_provideraccount_add")
    sign_in(client, admin_user)
    clock.shift(timedelta(minutes=14))
    assert client.get(url).status_code == 200
    clock.shift(timedelta(minutes=2))
    assert sent_to_reauth(client.get(url), url)
    settings.ENERGYDASH_SUDO_MINUTES = 30
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "name,args",
    [
        ("admin:providers_provideraccount_add", ()),
        ("admin:providers_provideraccount_change", ("account",)),
        ("admin:api_apitoken_add", ()),
        ("admin:api_apitoken_change", ("token",)),
        ("admin:auth_user_add", ()),
        ("admin:auth_user_change", ("user",)),
        ("admin:auth_user_password_change", ("user",)),
        ("balances:orders_csv", ()),
    ],
)
def test_each_gated_page_needs_a_recent_login_and_returns_after_reauth(
    stale_admin, admin_user, viewer, itrx_account, token, name, args
):
    objects = {"account": itrx_account.pk, "token": token.pk, "user": viewer.pk}
    url = reverse(name, args=[objects[a] for a in args])
    assert sent_to_reauth(stale_admin.get(url), url)
    back = reauth(stale_admin, admin_user, url)
    assert back.status_code == 302 and back["Location"] == url
    assert stale_admin.get(url).status_code == 200


def test_granting_a_role_is_refused_without_a_recent_login_and_changes_nothing(
    stale_admin, admin_user, viewer
):
    url = reverse("admin:auth_user_change", args=[viewer.pk])
    admin_group = Group.objects.get(name="admin")
    form = {
        "username": viewer.username,
        "is_active": "on",
        "is_staff": "on",
        "groups": [admin_group.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    assert sent_to_reauth(stale_admin.post(url, form), url)
    assert list(viewer.groups.values_list("name", flat=True)) == ["viewer"]
    assert not AuditEvent.objects.filter(action="user.roles_changed").exists()

    reauth(stale_admin, admin_user, url)
    assert stale_admin.post(url, form).status_code == 302
    assert list(viewer.groups.values_list("name", flat=True)) == ["admin"]
    assert AuditEvent.objects.filter(action="user.roles_changed").exists()


def test_changing_a_webhook_url_is_refused_without_a_recent_login(stale_admin, admin_user, token):
    url = reverse("admin:api_apitoken_change", args=[token.pk])
    form = {
        "webhook_url": "https://93.184.215.14/hooks/energy",
        "scopes": ["read", "quote", "place", "batches"],
    }
    assert sent_to_reauth(stale_admin.post(url, form), url)
    token.refresh_from_db()
    assert token.webhook_url == ""

    reauth(stale_admin, admin_user, url)
    assert stale_admin.post(url, form).status_code == 302
    token.refresh_from_db()
    assert token.webhook_url == form["webhook_url"]


def test_creating_an_api_token_is_refused_without_a_recent_login(stale_admin, admin_user):
    url = reverse("admin:api_apitoken_add")
    form = {"name": "new-backend", "role": "viewer", "webhook_url": "", "scopes": ["read"]}
    assert sent_to_reauth(stale_admin.post(url, form), url)
    assert not ApiToken.objects.filter(name="new-backend").exists()
    reauth(stale_admin, admin_user, url)
    assert stale_admin.post(url, form).status_code == 200  # the page showing the token once
    assert ApiToken.objects.filter(name="new-backend").exists()


def test_changing_provider_limits_is_refused_without_a_recent_login(
    stale_admin, admin_user, itrx_account
):
    url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    before = AuditEvent.objects.count()
    assert sent_to_reauth(stale_admin.post(url, {"name": "renamed"}), url)
    itrx_account.refresh_from_db()
    assert itrx_account.name == "itrx main" and AuditEvent.objects.count() == before


def test_the_second_factor_reset_needs_a_recent_login(stale_admin, admin_user, operator):
    enrol(operator)
    url = reverse("admin:auth_user_changelist")
    data = {"action": "reset_second_factor", "_selected_action": [operator.pk]}
    assert sent_to_reauth(stale_admin.post(url, data), url)
    assert not AuditEvent.objects.filter(action="user.second_factor_reset").exists()


def test_a_viewer_reauthenticates_with_the_password_alone_to_export_orders(client, viewer, clock):
    client.force_login(viewer)
    clock.shift(STALE)
    url = reverse("balances:orders_csv") + "?status=completed"
    assert sent_to_reauth(client.get(url), url)
    assert reauth(client, viewer, url, code=False)["Location"] == url
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_a_wrong_password_or_code_keeps_sudo_off(stale_admin, admin_user):
    url = reverse("admin:providers_provideraccount_add")
    wrong_password = stale_admin.post(
        reverse("reauth"),
        {"password": "nope", "code": totp_now(enrol(admin_user)), "next": url},
    )
    assert wrong_password.status_code == 400
    wrong_code = stale_admin.post(
        reverse("reauth"), {"password": "pw-ada", "code": "12345678", "next": url}
    )
    assert wrong_code.status_code == 400
    assert sent_to_reauth(stale_admin.get(url), url)


def test_reauth_returns_only_to_this_site(stale_admin, admin_user):
    back = reauth(stale_admin, admin_user, "https://evil.example/steal")
    assert back.status_code == 302 and back["Location"] == "/"


def _order_with_evidence(account) -> Order:
    return Order.objects.create(
        account=account,
        kind="energy",
        receive_address=address("alice"),
        energy=65_000,
        period="1H",
        status=Status.NEEDS_REVIEW,
        burn_sun_per_energy=100,
        quoted_cost_sun=4_000_000,
        provider_ref="IT-778899",  # a provider id on record: evidence of a charge
    )


def test_not_placed_against_evidence_needs_a_recent_login(stale_admin, admin_user, itrx_account):
    order = _order_with_evidence(itrx_account)
    review = reverse("orders:review", args=[order.code])
    detail = reverse("orders:detail", args=[order.code])
    decision = {"decision": "not_placed", "comment": "provider support confirmed no charge"}
    assert sent_to_reauth(stale_admin.post(review, decision), detail)
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW

    assert reauth(stale_admin, admin_user, detail)["Location"] == detail
    assert stale_admin.post(review, decision).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.FAILED


def test_an_operator_is_refused_as_before_not_sent_to_reauth(client, operator, itrx_account, clock):
    order = _order_with_evidence(itrx_account)
    client.force_login(operator)
    clock.shift(STALE)
    response = client.post(
        reverse("orders:review", args=[order.code]),
        {"decision": "not_placed", "comment": "x"},
    )
    assert response["Location"] == reverse("orders:detail", args=[order.code])
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
