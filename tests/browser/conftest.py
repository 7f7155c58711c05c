"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

They never skip: a missing browser is a failure, so CI cannot pass without running them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from energydash.lib.tron import SUN_PER_TRX
from energydash.providers.models import ProviderAccount
from energydash.sandbox.models import SandboxAccount
from tests.signin import enrol, totp_now

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures are
# still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("ENERGYDASH_CHROMIUM", "/usr/bin/chromium")
# Assertions wait for the page; on a loaded machine that can take far longer than Playwright's
# 5 s default. A generous deadline only bounds a failure: passing ones return at once.
expect.set_options(timeout=30_000)
PASSWORD = "browser-test-password"


@pytest.fixture(scope="session", autouse=True)
def _plain_http_live_server() -> Iterator[None]:
    """The live server is plain HTTP; its middleware is built once, before function fixtures."""
    from django.test import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def console_messages(page) -> Iterator[list[str]]:
    """Every console message and page error, so tests can assert no CSP violation happened."""
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    yield seen


@pytest.fixture
def logged_in(page, live_server, django_user_model, console_messages):
    """Log in through the real form as an admin-role operator and return the page: the admin
    role has an authenticator enrolled, so the code step follows the password."""
    user = django_user_model.objects.create_user(
        username="browser", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="admin"))
    device = enrol(user)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your code")).to_be_visible()
    page.get_by_label("Code").fill(totp_now(device))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    return page


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(
                f"FAILED: {skipped} browser test(s) skipped; they must run.", red=True
            )


@pytest.fixture
def sandbox_itrx(settings, live_server, transactional_db):
    """An itrx sandbox account with 500 TRX served by the live server, and its provider account."""
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    SandboxAccount.objects.create(
        provider="itrx",
        name="browser box",
        api_key="BROWSERITRXKEY000000000000000001",
        api_secret="browser-itrx-secret",
        balance_sun=500 * SUN_PER_TRX,
        delegation_delay_seconds=1,
    )
    return ProviderAccount.objects.create(
        name="Sandbox itrx",
        provider="itrx",
        base_url=f"{live_server.url}/sandbox/itrx",
        api_key="BROWSERITRXKEY000000000000000001",
        api_secret="browser-itrx-secret",
    )
