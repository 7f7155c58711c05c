"""The bulk order page: its line table refreshes with the summary, with each line's order status."""

from __future__ import annotations

import re

from energydash.batches import services
from energydash.batches.models import Batch, BatchLine
from energydash.orders.models import Order, Status
from tests.api.conftest import _sandbox_urls, address, box, http  # noqa: F401  (fixtures)
from tests.batches.test_batches import make

A, B, C = address("p-1"), address("p-2"), address("p-3")


def _line_cells(html: str) -> dict[int, str]:
    """Each line's row in the table, as text, by line number."""
    rows = re.findall(r'<tr class="line-[a-z]+"[^>]*>(.*?)</tr>', html, re.S)
    found = {}
    for row in rows:
        cells = [
            re.sub(r"<[^>]+>|\s+", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        found[int(cells[0])] = " | ".join(cells)
    return found


def test_after_cancel_the_polled_table_agrees_with_the_summary(operator_client, http):  # noqa: F811
    box("itrx", "itrx-a")
    batch = make([A, B, C])
    services.start(batch)
    services.run_line(batch, batch.lines.get(number=1), client=http)
    BatchLine.objects.filter(batch=batch, number=1).update(status=BatchLine.Status.PLACED)
    assert services.cancel(batch)
    batch = services.run_batch(batch.pk, client=http)
    assert batch.status == Batch.Status.CANCELLED

    polled = operator_client.get(f"/batches/{batch.code}/progress/", HTTP_HX_REQUEST="true")
    html = polled.content.decode()
    assert "1 placed" in html and "2 cancelled" in html
    lines = _line_cells(html)
    assert len(lines) == 3
    assert "Placed" in lines[1] and "Submitted" in lines[1]
    assert all("Cancelled" in lines[n] for n in (2, 3))
    # The line's order is still open: the page keeps polling to show it complete.
    assert polled.status_code == 200 and 'hx-trigger="every' in html


def test_a_placed_lines_order_status_follows_the_order_then_polling_stops(
    operator_client,
    http,  # noqa: F811
):
    box("itrx", "itrx-a")
    batch = make([A])
    services.start(batch)
    batch = services.run_batch(batch.pk, client=http)
    order = Order.objects.get()
    assert order.status == Status.SUBMITTED
    first = operator_client.get(f"/batches/{batch.code}/progress/", HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and "Submitted" in _line_cells(first.content.decode())[1]

    Order.objects.filter(pk=order.pk).update(status=Status.COMPLETED)
    done = operator_client.get(f"/batches/{batch.code}/progress/", HTTP_HX_REQUEST="true")
    assert done.status_code == 286  # htmx stops polling: nothing on the page can change now
    assert "Completed" in _line_cells(done.content.decode())[1]
