"""The sandbox in production: refused unless allowed, no SSRF via callbacks, secrets encrypted."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.core.checks import Error, Warning
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from energydash.core.checks import check_sandbox
from energydash.sandbox.admin import SandboxAccountForm
from energydash.sandbox.callbacks import refusal
from energydash.sandbox.models import SandboxAccount, SandboxCallback
from energydash.sandbox.tasks import deliver_due_callbacks
from tests.core.test_settings import PRODUCTION, run_python
from tests.sandbox.test_callbacks import Receiver, at, place

# --- start-up refusal -----------------------------------------------------------------------


def test_the_sandbox_with_debug_off_is_an_error_unless_explicitly_allowed(settings):
    settings.DEBUG = False
    settings.ENERGYDASH_SANDBOX_IN_PRODUCTION = False
    [error] = check_sandbox()
    assert isinstance(error, Error) and error.id == "energydash.E004"
    assert "ENERGYDASH_SANDBOX_IN_PRODUCTION=1" in error.hint
    settings.ENERGYDASH_SANDBOX_IN_PRODUCTION = True
    [warning] = check_sandbox()
    assert isinstance(warning, Warning) and warning.id == "energydash.W001"
    settings.DEBUG = True
    assert check_sandbox() == []


def test_the_wsgi_app_refuses_to_start_with_the_sandbox_on_in_production(tmp_path):
    env = dict(
        PRODUCTION,
        ENERGYDASH_VAR_DIR=str(tmp_path),
        ENERGYDASH_FIELD_KEYS=Fernet.generate_key().decode(),
        ENERGYDASH_SANDBOX="1",
        DJANGO_SETTINGS_MODULE="energydash.settings",
    )
    refused = run_python(["-c", "import energydash.wsgi"], **env)
    assert refused.returncode != 0
    assert "energydash.E004" in refused.stderr
    allowed = run_python(
        ["-c", "import energydash.wsgi"], **env, ENERGYDASH_SANDBOX_IN_PRODUCTION="1"
    )
    assert allowed.returncode == 0, allowed.stderr


# --- callbacks only to this console ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/internal/admin",  # another host in the operator's network
        "https://console.example.com:8443/callbacks/itrx/x/",  # same host, other port
        "http://console.example.com/callbacks/itrx/x/",  # other scheme
        "https://console.example.com/admin/",  # own origin, not the callback endpoint
        "https://user:pw@console.example.com/callbacks/itrx/x/",
        "https://console.example.com.evil.test/callbacks/itrx/x/",
        "https://console.example.com/callbacks/../admin/",
    ],
)
def test_callback_urls_outside_the_consoles_callback_endpoint_are_refused(settings, url):
    settings.ENERGYDASH_PUBLIC_URL = "https://console.example.com"
    assert refusal(url).startswith("refused")


def test_the_consoles_own_callback_url_is_allowed(settings):
    settings.ENERGYDASH_PUBLIC_URL = "https://console.example.com"
    assert refusal("https://console.example.com/callbacks/itrx/5f0c9a4e/") == ""
    assert refusal("https://console.example.com:443/callbacks/itrx/5f0c9a4e/") == ""
    settings.ENERGYDASH_PUBLIC_URL = ""
    assert "ENERGYDASH_PUBLIC_URL is not set" in refusal("https://x.example/callbacks/itrx/1/")


def test_an_order_with_a_foreign_callback_url_is_placed_but_never_calls_it(
    http, itrx_box, settings
):
    settings.ENERGYDASH_PUBLIC_URL = "https://console.example.com"
    place(http, itrx_box, callback_url="http://169.254.169.254/latest/meta-data/")
    callback = SandboxCallback.objects.get()
    assert callback.next_attempt_at is None and callback.last_error.startswith("refused")
    receiver = Receiver(200)
    for seconds in (6, 60, 10_000):
        assert deliver_due_callbacks(now=at(seconds), client=receiver.client()) == 0
    assert receiver.requests == []


def test_a_queued_callback_is_checked_again_when_it_is_due(http, itrx_box, settings):
    settings.ENERGYDASH_PUBLIC_URL = "https://console.example.com"
    place(http, itrx_box, callback_url="https://console.example.com/callbacks/itrx/1/")
    settings.ENERGYDASH_PUBLIC_URL = "https://moved.example.com"  # the setting changed since
    receiver = Receiver(200)
    deliver_due_callbacks(now=at(6), client=receiver.client())
    assert receiver.requests == []
    callback = SandboxCallback.objects.get()
    assert callback.next_attempt_at is None and "moved.example.com" in callback.last_error


# --- credentials encrypted and never shown --------------------------------------------------


def test_sandbox_credentials_are_stored_encrypted_and_found_by_key(itrx_box):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key, api_secret, api_key_digest FROM sandbox_sandboxaccount WHERE id = %s",
            [itrx_box.pk],
        )
        key, secret, digest = cursor.fetchone()
    assert key.startswith("gAAAA") and secret.startswith("gAAAA")
    assert "ITRXKEY" not in key and "itrx-secret" not in secret
    assert "ITRXKEY" not in digest
    assert SandboxAccount.for_key("itrx", "ITRXKEY0000000000000000000000001") == itrx_box
    assert SandboxAccount.for_key("itrx", "ITRXKEY0000000000000000000000002") is None
    assert SandboxAccount.for_key("tronzap", "ITRXKEY0000000000000000000000001") is None


def test_admin_never_shows_sandbox_credentials_and_blank_keeps_them(admin_client_, itrx_box):
    url = reverse("admin:sandbox_sandboxaccount_change", args=[itrx_box.pk])
    page = admin_client_.get(url).content.decode()
    assert "ITRXKEY0000000000000000000000001" not in page
    assert "itrx-secret-1" not in page and "gAAAA" not in page
    assert "••••0001" in page  # masked, last four only
    # Every field as the change form shows it (fault knobs included), plus the two changes.
    initial = SandboxAccountForm(instance=itrx_box).initial
    form = {name: value for name, value in initial.items() if value is not None}
    form["day_prices_sun"] = json.dumps(initial["day_prices_sun"])
    form = {k: v for k, v in form.items() if v is not False}  # unchecked boxes are not posted
    form |= {"name": "box itrx renamed", "new_api_key": "", "new_api_secret": ""}
    response = admin_client_.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    itrx_box.refresh_from_db()
    assert itrx_box.name == "box itrx renamed"
    assert itrx_box.api_key.reveal() == "ITRXKEY0000000000000000000000001"
    assert itrx_box.secret == "itrx-secret-1"
    response = admin_client_.post(url, form | {"new_api_key": "NEWKEY", "new_api_secret": "new-s"})
    assert response.status_code == 302
    assert SandboxAccount.for_key("itrx", "NEWKEY").secret == "new-s"


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_plaintext_credentials():
    executor = MigrationExecutor(connection)
    old = [("sandbox", "0001_initial")]
    try:
        executor.migrate(old)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sandbox_sandboxaccount (provider, name, api_key, api_secret,"
                " balance_sun, whitelist_ips, deposit_address, day_prices_sun,"
                " orders_unavailable, latency_ms, error_rate, timeout_rate, lose_response_rate,"
                " hang_seconds, delegation_delay_seconds, created)"
                " VALUES ('tronzap', 'old', 'plain-token', 'plain-secret', 0, '', '', '{}',"
                " false, 0, 0, 0, 0, 1, 6, CURRENT_TIMESTAMP)"
            )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())  # 0002 and what came after it
        with connection.cursor() as cursor:
            cursor.execute("SELECT api_key, api_secret FROM sandbox_sandboxaccount")
            key, secret = cursor.fetchone()
        assert key.startswith("gAAAA") and secret.startswith("gAAAA")
        account = SandboxAccount.for_key("tronzap", "plain-token")
        assert account is not None and account.secret == "plain-secret"
    finally:
        MigrationExecutor(connection).loader.build_graph()
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        SandboxAccount.objects.all().delete()
