from __future__ import annotations

import re

from playwright.sync_api import expect

from energydash.lib.tron import SUN_PER_TRX
from tests.browser.test_login import csp_violations
from tests.orders.conftest import address


def test_a_quote_above_the_accounts_maximum_per_order_cannot_be_chosen(
    logged_in, live_server, console_messages, sandbox_itrx
):
    sandbox_itrx.max_order_sun = 5 * SUN_PER_TRX
    sandbox_itrx.save(update_fields=["max_order_sun"])
    page = logged_in
    page.goto(f"{live_server.url}/orders/new/")
    page.get_by_label("Receive address").fill(address("limits"))
    page.get_by_role("button", name=re.compile(r"^131,000")).click()
    expect(page.get_by_role("heading", name="Live prices")).to_be_visible()

    row = page.locator(f'tr[data-account="{sandbox_itrx.code}"]')
    expect(row).to_contain_text("maximum of 5.000000 TRX per order")
    expect(row).not_to_contain_text("cheapest")
    expect(row.locator("input[type=radio]")).to_have_count(0)
    expect(page.get_by_text("No account can take this order")).to_be_visible()
    expect(page.get_by_role("button", name="Review order")).to_have_count(0)
    assert csp_violations(console_messages) == []
