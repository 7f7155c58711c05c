"""The console in Chinese (Simplified) and Russian, on a phone (390x844) and a laptop
(1366x768): the language switch in the top bar (a POST with the CSRF token, sent by htmx)
changes the whole page, and the main pages fit the screen in both languages.

Screenshots of the dashboard in each language at both sizes go to build/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect

from energydash.core.models import UserPreferences
from tests.browser.test_console_pages import (  # noqa: F401  (console: a fixture)
    VIEWPORTS,
    console,
    problems,
)
from tests.orders.conftest import address

SCREENSHOTS = Path(django_settings.BASE_DIR) / "build" / "screenshots"

# What each language calls the switch's option, the dashboard's heading and the other pages'.
LANGUAGES = {
    "zh-hans": {
        "option": "简体中文",
        "dashboard": "仪表盘",
        "orders": "订单",
        "order": "能量租赁",
        "new": "新订单",
        "ledger": "账本",
        "batches": "批量订单",
        "providers": "服务商账户",
        "live_prices": "实时价格",
    },
    "ru": {
        "option": "Русский",
        "dashboard": "Панель",
        "orders": "Заказы",
        "order": "Аренда энергии",
        "new": "Новый заказ",
        "ledger": "Журнал",
        "batches": "Пакетные заказы",
        "providers": "Аккаунты провайдеров",
        "live_prices": "Текущие цены",
    },
}


WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-scroll'))
    .slice(0, 5)
    .map((e) => `${e.tagName}.${e.className}: ${(e.textContent || '').trim().slice(0, 60)}`);
}"""


def assert_fits_saying_what(page: Page) -> None:
    """assert_fits, naming the elements that stick out when it fails."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url}: {widths} {page.evaluate(WIDEST)}"


def switch_language(page: Page, option: str) -> None:
    """Choose a language in the top bar as a person would (on a phone: open the menu first)."""
    toggle = page.locator("label.nav-toggle-label")
    if toggle.is_visible():
        toggle.click()
    page.locator("select[name=language]").first.select_option(label=option)


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
@pytest.mark.parametrize("language", LANGUAGES, ids=list(LANGUAGES))
def test_the_main_pages_speak_the_chosen_language_and_fit_the_screen(
    logged_in,
    live_server,
    console_messages,
    console,  # noqa: F811
    language,
    size,
):
    page = logged_in
    words = LANGUAGES[language]
    width, height = VIEWPORTS[size]
    page.set_viewport_size({"width": width, "height": height})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    switch_language(page, words["option"])
    # htmx posts the switch with the page's CSRF token; the answer redraws the whole page.
    expect(page.get_by_role("heading", level=1)).to_have_text(words["dashboard"])
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert UserPreferences.objects.get(user__username="browser").language == language
    assert_fits_saying_what(page)
    page.screenshot(
        path=str(SCREENSHOTS / f"dashboard-{language}-{width}x{height}.png"), full_page=True
    )

    account = console["account"]
    quote = urlencode(
        {"kind": "energy", "receive_address": address("lang"), "energy": 131000, "period": "1H"}
    )
    pages = {
        "orders": ("/orders/", words["orders"]),
        "order": (f"/orders/{console['done'].code}/", words["order"]),
        "new": (f"/orders/new/?{quote}", words["new"]),
        "ledger": (f"/ledger/{account.code}/", words["ledger"]),
        "batches": ("/batches/", words["batches"]),
        "providers": ("/providers/", words["providers"]),
    }
    for name, (path, heading) in pages.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
        if name == "new":  # the live quotes came back and are drawn in the language too
            expect(page.get_by_role("heading", level=2).first).to_contain_text(words["live_prices"])
        assert_fits_saying_what(page)
    assert problems(console_messages) == []
