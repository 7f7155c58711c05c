from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from energydash.balances.models import BalanceSnapshot
from energydash.demo.seed import seed_history
from energydash.sandbox.setup import setup_sandbox
from tests.browser.test_login import csp_violations


@pytest.fixture
def sandbox_history(settings, live_server, transactional_db):
    """What `make run` does on a first start: sandbox accounts, then 30 days of history."""
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    setup_sandbox(live_server.url)
    seed_history()


def test_the_dashboard_draws_its_charts_and_switches_range_without_a_reload(
    logged_in, live_server, console_messages, sandbox_history
):
    page = logged_in
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("generated sandbox history")).to_be_visible()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(5)  # cost, price, and one balance chart per sandbox account
    expect(page.locator("svg.chart rect.bar").first).to_be_visible()
    assert page.locator("svg.chart rect.bar").count() > 30
    cost_title = page.locator("#cost svg title").first.text_content()
    assert cost_title == "Cost per day by provider (TRX)"

    page.evaluate("window.notReloaded = true")
    page.get_by_role("link", name="24 hours").click()
    expect(page.get_by_role("link", name="24 hours")).to_have_attribute("aria-current", "true")
    expect(page).to_have_url(re.compile(r"/\?range=24h$"))
    expect(page.locator("#cost h3")).to_have_text("Cost per hour by provider")
    assert page.evaluate("window.notReloaded") is True
    expect(charts).to_have_count(5)

    page.get_by_role("link", name="90 days").click()
    expect(page.get_by_role("link", name="90 days")).to_have_attribute("aria-current", "true")
    assert page.evaluate("window.notReloaded") is True

    page.locator("#cost summary").click()
    expect(page.locator("#cost table")).to_be_visible()
    assert csp_violations(console_messages) == []


def test_the_refresh_button_reads_balances_from_the_sandbox_without_a_reload(
    logged_in, live_server, console_messages, sandbox_history
):
    page = logged_in
    page.goto(f"{live_server.url}/")
    page.evaluate("window.notReloaded = true")
    before = BalanceSnapshot.objects.filter(source="manual").count()
    page.get_by_role("button", name="Refresh balances").click()
    expect(page.get_by_role("status")).to_contain_text("Sandbox itrx: 5,000.000000 TRX")
    assert page.evaluate("window.notReloaded") is True
    assert BalanceSnapshot.objects.filter(source="manual").count() == before + 3
    assert csp_violations(console_messages) == []
