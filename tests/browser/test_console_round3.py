"""Issue 25 in a browser (Chromium at 390x844 and 1366x768, light and dark where it matters):
the sandbox fault banner, the ledger's folded runs, new orders arriving on the list, the phone
dashboard and the failed order's "Try the next cheapest account".

Screenshots go to var/screenshots/ like the other browser tests'.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox.models import SandboxAccount
from tests.browser.test_console_pages import SCREENSHOTS, VIEWPORTS, assert_fits, problems

SIZES = pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])


def _at(page: Page, size: str, scheme: str = "light") -> tuple[int, int]:
    width, height = VIEWPORTS[size]
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme=scheme)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return width, height


@SIZES
@SCHEMES
def test_a_banner_says_so_while_a_sandbox_fault_is_on(
    logged_in, live_server, sandbox_itrx, console_messages, size, scheme
):
    page = logged_in
    width, height = _at(page, size, scheme)
    banner = page.locator("#sandbox-fault-banner")
    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("heading", level=1).first).to_contain_text("Orders")
    expect(banner).to_have_count(0)

    SandboxAccount.objects.filter(name="browser box").update(error_rate=0.25)
    page.goto(f"{live_server.url}/orders/")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Sandbox faults are switched on")
    expect(banner).to_contain_text("browser box: error_rate")
    box = banner.bounding_box()
    assert box and box["y"] < height / 2, "the banner is at the top of the page"
    assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"sandbox-banner-{scheme}-{width}x{height}.png"))
    link = banner.get_by_role("link", name="Sandbox accounts")
    expect(link).to_have_attribute("href", "/admin/sandbox/sandboxaccount/")

    SandboxAccount.objects.filter(name="browser box").update(error_rate=0)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(banner).to_have_count(0)
    assert problems(console_messages) == []


@pytest.fixture
def ledger_history(sandbox_itrx):
    """A day of readings: hourly heartbeats, a few orders, a top-up and a discrepancy."""
    from datetime import timedelta

    from django.utils import timezone

    from energydash.balances.models import BalanceSnapshot
    from energydash.orders.models import Order, Status
    from tests.orders.conftest import address

    account = sandbox_itrx
    start = timezone.now() - timedelta(hours=30)
    balance = 500 * SUN_PER_TRX
    BalanceSnapshot.objects.create(
        account=account, balance_sun=balance, taken_at=start, source="refresh"
    )
    for hour in range(1, 29):
        at = start + timedelta(hours=hour)
        if hour % 7 == 0:  # an order charged in this interval
            cost = 8_515_000
            order = Order.objects.create(
                account=account,
                kind="energy",
                receive_address=address(f"ledger{hour}"),
                energy=131_000,
                period="1H",
                status=Status.COMPLETED,
                burn_sun_per_energy=100,
                quoted_cost_sun=cost,
                cost_sun=cost,
            )
            Order.objects.filter(pk=order.pk).update(
                submitted_at=at - timedelta(minutes=30), finished_at=at - timedelta(minutes=29)
            )
            balance -= cost
        elif hour == 10:
            balance += 1_000 * SUN_PER_TRX  # a deposit
        elif hour == 20:
            balance -= 3 * SUN_PER_TRX  # money gone without an order
        BalanceSnapshot.objects.create(
            account=account, balance_sun=balance, taken_at=at, source="heartbeat"
        )
    return account


@SIZES
@SCHEMES
def test_the_ledger_fits_and_folds_unchanged_readings(
    logged_in, live_server, ledger_history, console_messages, size, scheme
):
    page = logged_in
    width, height = _at(page, size, scheme)
    page.goto(f"{live_server.url}/ledger/{ledger_history.code}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ledger")
    rows = page.locator("table.ledger tbody tr")
    # 4 orders, a top-up and a discrepancy; the 22 quiet hours fold into the 5 runs between them
    expect(page.locator('tr[data-kind="unchanged"]')).to_have_count(5)
    expect(rows).to_have_count(6 + 5)
    expect(page.locator('tr[data-kind="unchanged"]').first).to_contain_text("unchanged readings")
    discrepancy = page.locator('tr[data-kind="discrepancy"]')
    expect(discrepancy).to_contain_text("3.000000 TRX unaccounted for")
    if size == "laptop":
        assert_fits(page)  # no sideways scrolling at 1366
        verdict = discrepancy.locator("td.verdict")
        box = verdict.bounding_box()
        assert box and box["x"] + box["width"] <= width, "the verdict is on screen"
        when = discrepancy.locator("td.when time")
        line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 22")
        assert when.bounding_box()["height"] <= line * 1.5, "the dates are on one line"
    else:
        # a phone scrolls the table in its own box; the page itself does not move sideways
        assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"ledger-{scheme}-{width}x{height}.png"), full_page=True)

    page.get_by_role("link", name="Show every interval").click()
    expect(page.locator('tr[data-kind="unchanged"]')).to_have_count(0)
    expect(rows).to_have_count(28)
    if size == "laptop":
        assert_fits(page)
    page.get_by_role("link", name="Show only intervals that moved money").click()
    expect(page.locator('tr[data-kind="unchanged"]')).to_have_count(5)

    page.goto(f"{live_server.url}/ledger/{ledger_history.code}/daily/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Daily ledger")
    assert_fits(page)
    page.screenshot(
        path=str(SCREENSHOTS / f"ledger-daily-{scheme}-{width}x{height}.png"), full_page=True
    )
    assert problems(console_messages) == []


@SIZES
def test_new_orders_appear_at_the_top_of_the_list_without_a_reload(
    logged_in, live_server, sandbox_itrx, console_messages, size
):
    from datetime import timedelta

    from django.utils import timezone

    from energydash.orders.models import Order, Status
    from tests.orders.conftest import address

    def new_order(tag: str, created) -> Order:
        return Order.objects.create(
            account=sandbox_itrx,
            kind="energy",
            receive_address=address(tag),
            energy=65_000,
            period="1H",
            status=Status.SUBMITTED,
            burn_sun_per_energy=100,
            quoted_cost_sun=3_250_000,
            created=created,
        )

    page = logged_in
    width, height = _at(page, size)
    old = new_order("old", timezone.now() - timedelta(minutes=5))
    page.goto(f"{live_server.url}/orders/")
    rows = page.locator("table.orders tbody tr:not([hidden])")
    expect(rows).to_have_count(1)
    marker = page.evaluate("window.keptAcrossPolls = 'same page'")
    fresh = new_order("fresh", timezone.now())
    # the poll brings it in, at the top, in the same page (no reload)
    expect(rows.first).to_have_id(f"order-{fresh.code}")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_have_id(f"order-{old.code}")
    assert page.evaluate("window.keptAcrossPolls") == "same page", marker
    if size == "phone":
        box = rows.first.bounding_box()
        assert box and box["y"] < height, "the newest order is above the fold"
    assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"orders-newer-{width}x{height}.png"))
    assert problems(console_messages) == []


@SCHEMES
def test_the_phone_dashboard_shows_each_accounts_state_and_the_charts_follow_dark_mode(
    logged_in, live_server, console_messages, scheme, settings, transactional_db
):
    from energydash.demo.seed import seed_history
    from energydash.providers.models import ProviderAccount
    from energydash.sandbox.setup import setup_sandbox

    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    setup_sandbox(live_server.url)
    seed_history()
    # one account low, so all three states are not the same word
    ProviderAccount.objects.filter(provider="netts").update(
        low_balance_threshold_sun=10**9 * SUN_PER_TRX
    )
    page = logged_in
    width, height = _at(page, "phone", scheme)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    rows = page.locator("table.balances tbody tr")
    expect(rows).to_have_count(3)
    for i in range(3):
        badge = rows.nth(i).locator("td.state .badge")
        expect(badge).to_be_visible()
        box = badge.bounding_box()
        assert box and box["x"] + box["width"] <= width, f"state of row {i} is off-screen"
    expect(rows.locator("td.state .badge", has_text="low")).to_have_count(1)
    savings = page.locator("table.spend tfoot td.savings")
    box = savings.bounding_box()
    assert box and box["x"] + box["width"] <= width
    assert_fits(page)
    page.screenshot(
        path=str(SCREENSHOTS / f"dashboard-{scheme}-{width}x{height}.png"), full_page=True
    )

    width, height = _at(page, "laptop", scheme)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # Savings is the spend table's last column: not cut by its scroll box at 1366
    scroller = page.locator("table.spend").locator("xpath=..")
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth", scroller.element_handle())
    assert page.evaluate(
        "(el) => el.scrollWidth <= el.clientWidth",
        rows.first.locator(
            "xpath=ancestor::div[contains(@class, 'table-scroll')]"
        ).element_handle(),
    )
    card = page.locator(".chart-card").first
    body = page.evaluate("getComputedStyle(document.body).backgroundColor")
    card_bg = page.evaluate("(el) => getComputedStyle(el).backgroundColor", card.element_handle())
    axis = page.locator("svg.chart g.axis").first
    axis_fill = page.evaluate("(el) => getComputedStyle(el).fill", axis.element_handle())
    if scheme == "dark":
        assert body == "rgb(12, 17, 29)"
        assert card_bg == "rgb(22, 27, 38)", "chart cards take the dark card colour"
        assert axis_fill != "rgb(91, 102, 117)", "axis labels are not the light palette's grey"
    else:
        assert card_bg == "rgb(255, 255, 255)"
        assert axis_fill == "rgb(91, 102, 117)"
    assert_fits(page)
    page.screenshot(
        path=str(SCREENSHOTS / f"dashboard-{scheme}-{width}x{height}.png"), full_page=True
    )
    assert problems(console_messages) == []


@SCHEMES
def test_on_a_phone_quote_warnings_show_and_a_refused_row_is_one_short_card(
    logged_in, live_server, sandbox_itrx, console_messages, scheme
):
    import re

    from energydash.providers.models import ProviderAccount
    from tests.orders.conftest import address

    sandbox_itrx.large_order_sun = 1 * SUN_PER_TRX
    sandbox_itrx.save(update_fields=["large_order_sun"])
    capped = ProviderAccount.objects.create(
        name="Capped itrx",
        provider="itrx",
        base_url=sandbox_itrx.base_url,
        api_key=sandbox_itrx.api_key,
        api_secret=sandbox_itrx.api_secret,
        max_order_sun=5 * SUN_PER_TRX,
    )
    page = logged_in
    width, height = _at(page, "phone", scheme)
    page.goto(f"{live_server.url}/orders/new/")
    page.get_by_label("Receive address").fill(address("phone"))
    page.get_by_role("button", name=re.compile(r"^131,000")).click()
    expect(page.get_by_role("heading", name="Live prices")).to_be_visible()
    ok_row = page.locator(f'tr[data-account="{sandbox_itrx.code}"]')
    warning = ok_row.locator(".quote-warning", has_text="Unusually large")
    expect(warning).to_be_visible()
    box = warning.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    refused = page.locator(f'tr[data-account="{capped.code}"]')
    expect(refused).to_contain_text("maximum of 5.000000 TRX per order")
    note = refused.locator("td.notes")
    box = note.bounding_box()
    assert box and box["x"] + box["width"] <= width
    assert refused.bounding_box()["height"] < 140, "a refused row is a short card"
    assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"quotes-{scheme}-{width}x{height}.png"), full_page=True)
    assert problems(console_messages) == []


def test_on_a_phone_the_first_order_is_above_the_fold(
    logged_in, live_server, sandbox_itrx, console_messages
):
    from energydash.orders.models import Order, Status
    from tests.orders.conftest import address

    for status in (Status.NEEDS_REVIEW, Status.COMPLETED):
        Order.objects.create(
            account=sandbox_itrx,
            kind="energy",
            receive_address=address(status),
            energy=65_000,
            period="1H",
            status=status,
            burn_sun_per_energy=100,
            quoted_cost_sun=3_250_000,
        )
    page = logged_in
    width, height = _at(page, "phone")
    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("alert").filter(has_text="need")).to_be_visible()  # attention banner
    first = page.locator("table.orders tbody tr:not([hidden])").first
    box = first.bounding_box()
    assert box and box["y"] + box["height"] <= height, "the first order row is above the fold"
    # the filters are one tap away, and open by themselves when one is set
    page.get_by_text("Filters", exact=True).click()
    expect(page.get_by_label("Status")).to_be_visible()
    page.goto(f"{live_server.url}/orders/?status=completed")
    expect(page.get_by_label("Status")).to_be_visible()
    assert_fits(page)
    assert problems(console_messages) == []


@SIZES
def test_a_failed_order_offers_the_next_cheapest_account(
    logged_in, live_server, sandbox_itrx, console_messages, size
):
    from energydash.orders.models import Order, Status
    from energydash.providers.models import ProviderAccount
    from tests.orders.conftest import address

    second = ProviderAccount.objects.create(
        name="Second itrx",
        provider="itrx",
        base_url=sandbox_itrx.base_url,
        api_key=sandbox_itrx.api_key,
        api_secret=sandbox_itrx.api_secret,
    )
    failed = Order.objects.create(
        account=sandbox_itrx,
        kind="energy",
        receive_address=address("retry"),
        energy=65_000,
        period="1H",
        status=Status.FAILED,
        burn_sun_per_energy=100,
        quoted_cost_sun=3_250_000,
        last_error="itrx refused the order: address not activated",
    )
    page = logged_in
    width, height = _at(page, size)
    page.goto(f"{live_server.url}/orders/{failed.code}/")
    button = page.get_by_role("button", name="Try the next cheapest account")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box and box["x"] + box["width"] <= width
    assert_fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"order-retry-{width}x{height}.png"), full_page=True)
    button.click()
    expect(
        page.get_by_text("Placed at Second itrx (next cheapest after Sandbox itrx)")
    ).to_be_visible()
    new = Order.objects.exclude(pk=failed.pk).get()
    expect(page).to_have_url(f"{live_server.url}/orders/{new.code}/")
    assert new.account == second
    assert problems(console_messages) == []
