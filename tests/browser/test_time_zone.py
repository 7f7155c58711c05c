"""Issue 25 item 3 in Chromium at 390 and 1366 px: the dashboard names its zone with the UTC
offset ("CST" alone is ambiguous), and the line fits the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_pages import VIEWPORTS
from tests.browser.test_languages import assert_fits_saying_what


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_the_dashboard_names_its_days_zone_with_the_utc_offset(
    logged_in, live_server, settings, size
):
    settings.TIME_ZONE = "Asia/Shanghai"
    page = logged_in
    width, height = VIEWPORTS[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/")
    days = page.get_by_text("Days are calendar days in")
    expect(days).to_contain_text("Asia/Shanghai, UTC+08:00")
    expect(days).to_be_visible()
    assert_fits_saying_what(page)
