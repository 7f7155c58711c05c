from __future__ import annotations

from playwright.sync_api import expect

from energydash.orders.models import ReadyCheck
from energydash.orders.readiness import run_check
from tests.browser.test_login import csp_violations
from tests.orders.conftest import address


def test_ready_to_send_shows_progress_then_the_answer_in_words(
    logged_in, live_server, console_messages, sandbox_itrx, settings
):
    settings.ENERGYDASH_TRON_API_URL = f"{live_server.url}/sandbox/chain"
    settings.ENERGYDASH_TRON_API_QPS = 10_000
    page = logged_in
    page.goto(f"{live_server.url}/orders/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ready to send").click()
    page.get_by_label("Sender address").fill(address("browser ready"))
    page.get_by_label("USDT amount (optional)").fill("12.5")
    page.get_by_role("button", name="Make ready to send").click()
    answer = page.locator("#ready-answer")
    expect(answer).to_contain_text("Working: waiting for a worker to pick the check up.")
    page.evaluate("window.__marker = 'same page'")

    run_check(ReadyCheck.objects.get().pk)  # what the worker's task does

    expect(answer).to_contain_text("Ready to send. Bought 137,550 energy, verified on chain.")
    expect(answer).to_contain_text("Send with fee_limit 13.100000 TRX")
    order = ReadyCheck.objects.get().route.order
    expect(page.get_by_role("link", name=f"order {order.short_code}")).to_have_attribute(
        "href", f"/orders/{order.code}/"
    )
    assert page.evaluate("window.__marker") == "same page"  # the page followed it, no reload
    assert csp_violations(console_messages) == []
