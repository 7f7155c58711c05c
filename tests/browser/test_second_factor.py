"""A new admin enrols an authenticator app in the browser and logs in with its code, the codes
computed here from the setup key the page shows (as the app would)."""

from __future__ import annotations

import base64
import time

from django.contrib.auth.models import Group
from django_otp.oath import hotp
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD
from tests.browser.test_login import csp_violations

STEP = 30


def code_for(setup_key: str, steps_ahead: int = 0) -> str:
    key = "".join(setup_key.split())
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    return f"{hotp(secret, int(time.time()) // STEP + steps_ahead):06d}"


def log_in_with_password(page, live_server) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("newadmin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_enrols_and_then_logs_in_with_a_code(
    page, live_server, django_user_model, console_messages, transactional_db
):
    user = django_user_model.objects.create_user(
        username="newadmin", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="admin"))

    log_in_with_password(page, live_server)
    # The admin role needs a second factor: the console sends them to enrol first.
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    expect(page.get_by_alt_text("QR code holding the setup key below")).to_be_visible()
    setup_key = page.locator("#setup-key").inner_text()
    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()

    page.get_by_label("Code").fill(code_for(setup_key))
    page.get_by_role("button", name="Turn on the second factor").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    log_in_with_password(page, live_server)
    expect(page.get_by_role("heading", name="Your code")).to_be_visible()
    # A code is good once: the next time step's code (within the app's one-step tolerance).
    page.get_by_label("Code").fill(code_for(setup_key, steps_ahead=1))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="newadmin")).to_be_visible()
    page.goto(f"{live_server.url}/providers/")
    expect(page.get_by_role("heading", name="Provider accounts")).to_be_visible()
    assert csp_violations(console_messages) == []
