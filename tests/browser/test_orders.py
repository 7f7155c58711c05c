from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from energydash.orders.models import Order, Status
from energydash.orders.placement_outcome import FIRST_POLL_SECONDS
from energydash.orders.polling import poll_pass
from energydash.sandbox.models import SandboxOrder
from tests.browser.test_login import csp_violations
from tests.orders.conftest import address
from tests.waiting import wait_until


def test_an_order_placed_through_the_form_turns_completed_without_a_reload(
    logged_in, live_server, console_messages, sandbox_itrx
):
    page = logged_in
    page.goto(f"{live_server.url}/orders/new/")
    page.get_by_label("Receive address").fill(address("browser"))
    expect(page.locator("#address-feedback")).to_have_text("Valid TRON address.")
    page.get_by_role("button", name=re.compile(r"^131,000")).click()  # fills the energy box
    expect(page.get_by_role("heading", name="Live prices")).to_be_visible()
    expect(page.locator("tr.cheapest")).to_contain_text("Sandbox itrx")

    page.get_by_role("button", name="Review order").click()
    place = page.get_by_role("button", name=re.compile(r"Place order for [\d.]+ TRX"))
    expect(place).to_be_visible()
    place.click()
    expect(page.get_by_role("heading", name=re.compile("Energy rental"))).to_be_visible()
    order = Order.objects.get()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)

    page.goto(f"{live_server.url}/orders/")
    badge = page.locator(f"#order-{order.code} .badge")
    expect(badge).not_to_have_text("Completed")
    page.evaluate("window.__marker = 'same page'")

    # The sandbox delegates one second after the order: wait for that, not for a guessed time.
    remote = SandboxOrder.objects.get()
    wait_until(lambda: remote.is_delegated(timezone.now()), message="the sandbox delegated")
    # What the django-q2 worker does every few seconds, once the order's first look is due.
    poll_pass(now=timezone.now() + timedelta(seconds=FIRST_POLL_SECONDS))
    assert Order.objects.get().status == Status.COMPLETED

    expect(badge).to_have_text("Completed")  # the list refreshes open rows every 3 s
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
    assert csp_violations(console_messages) == []


def test_another_person_approves_a_large_order_on_its_page(
    logged_in, live_server, console_messages, sandbox_itrx, django_user_model
):
    from energydash.lib.tron import SUN_PER_TRX
    from energydash.orders.placement import place_order
    from energydash.orders.spec import OrderSpec

    sandbox_itrx.approval_above_sun = 1 * SUN_PER_TRX
    sandbox_itrx.save(update_fields=["approval_above_sun"])
    maker = django_user_model.objects.create_user(username="maker", password="x")
    order = place_order(
        OrderSpec(
            account=sandbox_itrx, kind="energy", receive_address=address("approve"), energy=65_000
        ),
        actor=maker,
    )
    assert order.status == Status.AWAITING_APPROVAL and not SandboxOrder.objects.exists()

    page = logged_in
    page.goto(f"{live_server.url}/orders/")
    page.get_by_role("link", name="1 order awaiting approval").click()
    page.get_by_role("link", name=order.short_code).click()
    expect(page.locator("#approval")).to_contain_text("Nothing was sent")
    page.get_by_label("Comment (required)").fill("address checked with treasury")
    page.get_by_role("button", name=re.compile(r"^Approve and send")).click()
    expect(page.locator("#order-live .badge")).not_to_have_text("Awaiting approval")
    order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
    assert SandboxOrder.objects.count() == 1
    expect(page.locator(".timeline")).to_contain_text("address checked with treasury")
    assert csp_violations(console_messages) == []
