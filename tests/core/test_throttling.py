"""Login throttling (django-axes) and the per-user rate limit on live quotes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse

from tests.core.test_settings import run_python
from tests.signin import sign_in

PASSWORD = "pw-vera"  # tests/conftest.py: "pw-" + username


def log_in(client, password: str, ip: str = "198.51.100.7"):
    return client.post(reverse("login"), {"username": "vera", "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def limit_3(settings):
    settings.AXES_FAILURE_LIMIT = 3


def test_repeated_failures_lock_the_user_out_from_that_address_with_a_clear_message(
    client, viewer, limit_3
):
    assert log_in(client, "wrong").status_code == 200
    assert log_in(client, "wrong").status_code == 200
    third = log_in(client, "wrong")
    assert third.status_code == 429 and "login is locked for 30 minutes" in third.content.decode()
    response = log_in(client, PASSWORD)  # the right password, too late
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed logins for this username from your address" in html
    assert 'name="password"' in html  # the login page itself, in the layout
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address(client, viewer, limit_3):
    for _ in range(3):
        log_in(client, "wrong", ip="198.51.100.7")
    assert log_in(client, PASSWORD, ip="198.51.100.7").status_code == 429
    # The same user from another address is not locked out.
    assert log_in(client, PASSWORD, ip="203.0.113.9").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, viewer, limit_3):
    log_in(client, "wrong")
    log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    log_in(client, "wrong")
    log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302


def test_an_admin_unlocks_in_admin_by_deleting_the_access_attempt(
    client, viewer, admin_user, limit_3
):
    for _ in range(3):
        log_in(client, "wrong")
    attempt = AccessAttempt.objects.get(username="vera")
    admin = client.__class__()
    sign_in(admin, admin_user)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "vera" in listing.content.decode()
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert log_in(client, PASSWORD).status_code == 302


def test_the_reset_command_unlocks_too(client, viewer, limit_3):
    for _ in range(3):
        log_in(client, "wrong")
    call_command("axes_reset_username", "vera")
    assert log_in(client, PASSWORD).status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(settings):
    from django.test import RequestFactory

    from energydash.core.lockout import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    settings.ENERGYDASH_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"  # no proxy configured: the header is ignored
    settings.ENERGYDASH_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.7"  # never the client-written left part


# --- quotes --------------------------------------------------------------------------------


@pytest.fixture
def counted_quotes(monkeypatch):
    """Count the quote fetches that reach the providers (each calls every enabled account)."""
    from energydash.console.orders import views

    calls: list[int] = []

    def compare(specs):
        calls.append(len(specs))
        return []

    monkeypatch.setattr(views.quote_service, "compare", compare)
    return calls


QUOTE = {"kind": "energy", "receive_address": "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "energy": 65000}


def test_quotes_are_limited_per_user_per_minute_with_a_clear_message(
    viewer_client, itrx_account, counted_quotes, settings
):
    settings.ENERGYDASH_QUOTE_RATE_PER_MINUTE = 2
    url = reverse("orders:new")
    with time_machine.travel(datetime(2026, 8, 7, 10, 0, 5, tzinfo=UTC), tick=False):
        assert viewer_client.get(url, QUOTE).status_code == 200
        assert viewer_client.get(url, QUOTE).status_code == 200
        refused = viewer_client.get(url, QUOTE)
        fragment = viewer_client.get(
            url, QUOTE, headers={"HX-Request": "true", "HX-Target": "quotes"}
        )
    assert len(counted_quotes) == 2  # the third and fourth never reached a provider
    assert refused.status_code == 429
    assert "Too many price requests: at most 2 a minute per user" in refused.content.decode()
    assert fragment.status_code == 200  # htmx swaps only 2xx answers
    assert "Too many price requests" in fragment.content.decode()
    # The next minute has a fresh allowance.
    with time_machine.travel(datetime(2026, 8, 7, 10, 1, 1, tzinfo=UTC), tick=False):
        assert viewer_client.get(url, QUOTE).status_code == 200
    assert len(counted_quotes) == 3


def test_the_limit_is_per_user(client, viewer, operator, itrx_account, counted_quotes, settings):
    settings.ENERGYDASH_QUOTE_RATE_PER_MINUTE = 1
    url = reverse("orders:new")
    with time_machine.travel(datetime(2026, 8, 7, 10, 0, 5, tzinfo=UTC), tick=False):
        client.force_login(viewer)
        assert client.get(url, QUOTE).status_code == 200
        assert client.get(url, QUOTE).status_code == 429
        client.force_login(operator)
        assert client.get(url, QUOTE).status_code == 200
    assert len(counted_quotes) == 2


def test_redis_url_makes_the_rate_limit_cache_shared():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1],"
        " s.CACHES['default'].get('LOCATION'))"
    )
    with_redis = run_python(
        ["-c", code],
        REDIS_URL="redis://127.0.0.1:6379/5",
        DJANGO_SETTINGS_MODULE="energydash.settings",
    )
    without = run_python(["-c", code], DJANGO_SETTINGS_MODULE="energydash.settings")
    assert with_redis.stdout.split() == ["RedisCache", "redis://127.0.0.1:6379/5"]
    assert without.stdout.split() == ["LocMemCache", "None"]
