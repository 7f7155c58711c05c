"""The console on a phone (390x844) and a laptop (1366x768): no page overflow, no console error
or CSP violation, a collapsed menu on the phone, dark mode, and the behaviours of issue 11 that
only a browser shows (energy box and presets, kind fields, busy place button, live detail page).

Screenshots of every page at both sizes go to var/screenshots/ (kept by CI as artifacts).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from energydash.balances.models import AccountBalanceState, Alert
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, OrderEvent, Status
from tests.orders.conftest import address

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
VIEWPORTS = {"phone": (390, 844), "laptop": (1366, 768)}
WAIT_MS = 30_000


@pytest.fixture
def console(live_server, sandbox_itrx):
    """One sandbox itrx account that is low on balance, and orders in three states."""
    account = sandbox_itrx
    account.low_balance_threshold_sun = 1_000 * SUN_PER_TRX
    account.save(update_fields=["low_balance_threshold_sun"])
    AccountBalanceState.objects.create(
        account=account, balance_sun=500 * SUN_PER_TRX, as_of=timezone.now(), source="refresh"
    )
    Alert.objects.create(
        account=account,
        kind="low_balance",
        balance_sun=500 * SUN_PER_TRX,
        threshold_sun=1_000 * SUN_PER_TRX,
        recipients=["ops@example.com"],
        subject="energydash: Sandbox itrx is low",
    )
    common = {
        "account": account,
        "kind": "energy",
        "receive_address": address("pages"),
        "energy": 131_000,
        "period": "1H",
        "burn_sun_per_energy": 100,
        "quoted_cost_sun": 8_515_000,
    }
    done = Order.objects.create(
        **common,
        status=Status.COMPLETED,
        cost_sun=8_515_000,
        provider_ref="itrx-order-1234567890",
        tx_hashes=["a" * 64],
        finished_at=timezone.now(),
        last_error="itrx gave no usable answer (timeout); reconcile before retrying.",
    )
    OrderEvent.objects.create(
        order=done,
        kind="exchange",
        method="POST",
        url=f"{live_server.url}/sandbox/itrx/api/v1/frontend/order/create?very_long_query="
        + "x" * 80,
        http_status=200,
        request_body='{"energy_amount":131000,"receive_address":"' + address("pages") + '"}',
        response_body='{"errno":0,"serial":"' + "f" * 60 + '"}',
        elapsed_ms=1234,
    )
    Order.objects.create(**common, status=Status.FAILED, last_error="address not activated")
    submitted = Order.objects.create(
        **common, status=Status.SUBMITTED, created=timezone.now() - timedelta(seconds=5)
    )
    return {"account": account, "done": done, "submitted": submitted}


def problems(messages: list[str]) -> list[str]:
    """Console errors, uncaught page errors and CSP reports: none is acceptable."""
    return [
        m
        for m in messages
        if m.startswith(("error:", "pageerror:"))
        or "Content Security Policy" in m
        or "Refused to" in m
    ]


def assert_fits(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} overflows: {widths[0]} > {widths[1]} px"


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_every_page_fits_the_screen_without_errors(
    logged_in, live_server, console_messages, console, size
):
    page = logged_in
    width, height = VIEWPORTS[size]
    page.set_viewport_size({"width": width, "height": height})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "dashboard": ("/", "Dashboard"),
        "orders": ("/orders/", "Orders"),
        "new-order": ("/orders/new/", "New order"),
        "order-detail": (f"/orders/{console['done'].code}/", "Energy rental"),
        "alerts": ("/alerts/", "Alerts"),
    }
    for name, (path, heading) in pages.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
        notice = page.locator("#account-notice")
        expect(notice).to_contain_text("low balance on Sandbox itrx")
        assert_fits(page)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}x{height}.png"), full_page=True)

    menu = page.get_by_text("Menu", exact=True)
    orders_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders")
    if size == "phone":
        # The menu is collapsed; opening it shows every link inside the screen, on the dark bar.
        expect(menu).to_be_visible()
        expect(orders_link).to_be_hidden()
        menu.click()
        expect(orders_link).to_be_visible()
        box = orders_link.bounding_box()
        assert box and box["x"] + box["width"] <= width
        assert_fits(page)
        page.screenshot(path=str(SCREENSHOTS / f"menu-open-{width}x{height}.png"))
        orders_link.click()
        expect(page).to_have_url(re.compile(r"/orders/$"))
    else:
        expect(menu).to_be_hidden()
        expect(orders_link).to_be_visible()

    # Dark mode follows the system setting, from the same stylesheet (no inline style).
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(12, 17, 29)"
    assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-dark-{width}x{height}.png"), full_page=True)
    assert problems(console_messages) == []


def test_new_order_quotes_the_typed_amount_shows_kind_fields_and_waits_visibly(
    logged_in, live_server, console_messages, console
):
    page = logged_in
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/orders/new/")
    page.get_by_label("Receive address").fill(address("browser"))
    expect(page.locator("#address-feedback")).to_have_text("Valid TRON address.")

    # Defect 1: the typed amount is what is quoted, with no radio to forget.
    page.get_by_label("Energy", exact=True).fill("200000")
    expect(page.get_by_role("heading", name="Live prices for 200,000 energy")).to_be_visible(
        timeout=WAIT_MS
    )
    page.get_by_role("button", name=re.compile(r"^131,000")).click()
    expect(page.get_by_label("Energy", exact=True)).to_have_value("131000")
    expect(page.get_by_role("heading", name="Live prices for 131,000 energy")).to_be_visible(
        timeout=WAIT_MS
    )

    # Only the chosen kind's fields show.
    kind = page.get_by_label("Kind")
    destination = page.get_by_label("USDT destination (collection only)")
    expect(destination).to_be_hidden()
    kind.select_option("collection")
    expect(destination).to_be_visible()
    expect(page.get_by_label("Energy", exact=True)).to_be_hidden()
    kind.select_option("activation")
    expect(destination).to_be_hidden()
    expect(page.get_by_label("Period")).to_be_hidden()
    kind.select_option("energy")
    expect(page.get_by_label("Energy", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Live prices for 131,000 energy")).to_be_visible(
        timeout=WAIT_MS
    )

    page.get_by_role("button", name="Review order").click()
    place = page.get_by_role("button", name=re.compile(r"Place order for [\d,]+\.\d{6} TRX"))
    expect(place).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / "confirm-390x844.png"), full_page=True)

    # Defect 9: while the provider is slow the page shows what it waits for. The browser's own
    # submission is cancelled after our script has run, so the busy state stays to be checked.
    page.evaluate("window.addEventListener('submit', (event) => event.preventDefault())")
    place.click()
    waiting = page.get_by_role("button", name="Waiting for itrx.io…")
    expect(waiting).to_be_disabled()
    expect(page.locator(".place-form .busy-note")).to_have_text("Waiting for itrx.io…")
    assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / "placing-390x844.png"), full_page=True)
    assert Order.objects.count() == 3  # only the fixture's: the held submission never left
    assert problems(console_messages) == []


def test_the_order_page_updates_itself_until_the_order_is_final(
    logged_in, live_server, console_messages, console
):
    page = logged_in
    order = console["submitted"]
    page.goto(f"{live_server.url}/orders/{order.code}/")
    badge = page.locator("#order-live .badge")
    expect(badge).to_have_text("Submitted")
    page.evaluate("window.__sameDocument = true")

    Order.objects.filter(pk=order.pk).update(
        status=Status.COMPLETED, cost_sun=8_515_000, finished_at=timezone.now()
    )
    expect(badge).to_have_text("Completed", timeout=WAIT_MS)
    expect(page.locator("#order-live dd.cost")).to_contain_text("8.515000 TRX")
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, no reload
    # The final fragment no longer polls.
    expect(page.locator("#order-live")).not_to_have_attribute("hx-trigger", "every 3s")
    assert problems(console_messages) == []
