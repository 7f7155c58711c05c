"""Round 3's small things on the console's pages: grouping, zones, menu, busy text."""

from __future__ import annotations

import re

from django.urls import reverse

from energydash.batches import services
from tests.api.conftest import address
from tests.batches.test_batches import make

ALICE = address("small-1")


def current_menu_items(html: str) -> list[str]:
    """The main menu's items marked as the current page."""
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'aria-current="page">(.*?)</a>', nav)
    ]


def test_bulk_lines_group_the_energy_digits(operator_client, db):
    parsed, errors = services.parse(f"{ALICE},131000", 65_000)
    batch = services.create_batch(parsed, period="1H", via="console:batch")
    html = operator_client.get(reverse("batches:detail", args=[batch.code])).content.decode()
    assert "131,000" in html and ">131000<" not in html


def test_the_bulk_list_names_the_zone_of_its_times(settings, viewer_client, db):
    settings.TIME_ZONE = "Asia/Shanghai"
    make([ALICE])
    html = viewer_client.get(reverse("batches:list")).content.decode()
    assert "Created (Asia/Shanghai, UTC+08:00)" in html


def test_one_menu_item_is_current_on_the_bulk_pages(operator_client, db):
    assert current_menu_items(operator_client.get(reverse("batches:new")).content.decode()) == [
        "Bulk order"
    ]
    assert current_menu_items(operator_client.get(reverse("batches:list")).content.decode()) == [
        "Bulk order"
    ]
    assert current_menu_items(operator_client.get(reverse("orders:new")).content.decode()) == [
        "New order"
    ]
    assert current_menu_items(operator_client.get(reverse("orders:list")).content.decode()) == [
        "Orders"
    ]
