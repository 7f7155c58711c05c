"""Issue 25 item 1 in Chromium at 390 and 1366 px: a quote above the account's maximum per order
says so and cannot be chosen (in English and, translated at display time, in Russian)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from energydash.lib.tron import SUN_PER_TRX
from tests.browser.test_console_pages import VIEWPORTS
from tests.browser.test_languages import assert_fits_saying_what, switch_language
from tests.browser.test_login import csp_violations
from tests.orders.conftest import address


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_a_quote_above_the_accounts_maximum_per_order_cannot_be_chosen(
    logged_in, live_server, console_messages, sandbox_itrx, size
):
    sandbox_itrx.max_order_sun = 5 * SUN_PER_TRX
    sandbox_itrx.save(update_fields=["max_order_sun"])
    page = logged_in
    width, height = VIEWPORTS[size]
    page.set_viewport_size({"width": width, "height": height})
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
    assert_fits_saying_what(page)

    # The same refusal for a Russian operator: the stored English reason shown in Russian.
    switch_language(page, "Русский")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    query = {"kind": "energy", "receive_address": address("limits"), "energy": 131000}
    page.goto(f"{live_server.url}/orders/new/?{urlencode({**query, 'period': '1H'})}")
    row = page.locator(f'tr[data-account="{sandbox_itrx.code}"]')
    expect(row).to_contain_text("больше максимума")
    expect(row).not_to_contain_text("per order")
    expect(row.locator("input[type=radio]")).to_have_count(0)
    assert_fits_saying_what(page)
    assert csp_violations(console_messages) == []
