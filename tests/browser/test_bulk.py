"""Browser: a bulk order is planned, confirmed, and its progress bar moves without a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from energydash.batches import services
from energydash.batches.models import Batch
from tests.browser.test_login import csp_violations
from tests.orders.conftest import address


def test_the_progress_bar_follows_the_batch_without_a_reload(
    logged_in, live_server, console_messages, sandbox_itrx
):
    page = logged_in
    page.goto(f"{live_server.url}/batches/new/")
    addresses = [address(f"bulk-browser-{n}") for n in range(5)]
    page.get_by_label("Addresses", exact=True).fill("\n".join(addresses))
    page.get_by_role("button", name="Check and plan").click()

    confirm = page.get_by_role("button", name="Confirm and place 5 orders")
    expect(confirm).to_be_visible()
    expect(page.locator("#planned-total")).to_contain_text("TRX")
    confirm.click()
    bar = page.locator("#batch-progress")
    expect(bar).to_have_attribute("value", "0")
    expect(page.locator("#batch-counts")).to_contain_text("5 remaining")

    # The worker's part, done here (no qcluster in tests): two lines, then the rest.
    batch = Batch.objects.get()
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.RUNNING)
    for line in batch.lines.order_by("number")[:2]:
        services.run_line(batch, line)
    expect(page.locator("#batch-counts")).to_contain_text("2 placed", timeout=30_000)
    expect(bar).to_have_attribute("value", "2")
    expect(page.locator("#batch-counts")).to_contain_text("3 remaining")

    services.run_batch(batch.pk)
    expect(page.locator("#batch-status")).to_have_text("Finished", timeout=30_000)
    expect(bar).to_have_attribute("value", "5")
    expect(page.locator("#batch-counts")).to_contain_text(
        re.compile(r"5 placed .* [\d.,]+ TRX spent", re.S)
    )
    assert not csp_violations(console_messages)
