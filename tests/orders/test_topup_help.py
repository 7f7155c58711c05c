"""Top-up help: each account's deposit address from its provider's balance answer, with a copy
button and a QR code drawn on the server, and the top-ups the ledger has seen."""

from __future__ import annotations

from datetime import timedelta

import pytest
import segno
from django.urls import reverse
from django.utils import timezone

from energydash.balances.models import AccountBalanceState, BalanceSnapshot
from energydash.balances.services import refresh_account
from energydash.lib.tron import SUN_PER_TRX
from tests.orders.conftest import address, make_box

DEPOSIT = address("deposit")


def _page(client, account):
    response = client.get(reverse("provider_topup", args=[account.code]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("kind", ["tronzap", "netts"])
def test_the_refresh_keeps_the_providers_deposit_address_and_the_page_shows_it(
    viewer_client, http, kind
):
    box = make_box(kind, deposit_address=DEPOSIT)
    assert refresh_account(box.account, client=http) is not None
    assert AccountBalanceState.objects.get(account=box.account).deposit_address == DEPOSIT
    html = _page(viewer_client, box.account)
    assert f'<code id="deposit-address">{DEPOSIT}</code>' in html
    assert 'data-copy="deposit-address"' in html
    assert '<svg width="' in html and 'class="segno"' in html
    assert "<script" not in html.split("</head>")[1]


def test_the_qr_code_holds_exactly_the_address(viewer_client, http):
    box = make_box("tronzap", deposit_address=DEPOSIT)
    refresh_account(box.account, client=http)
    html = _page(viewer_client, box.account)
    expected = segno.make(DEPOSIT, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=f"QR code of {DEPOSIT}"
    )
    assert expected in html


def test_a_deposit_address_that_is_not_a_tron_address_is_never_shown(viewer_client, http):
    box = make_box("netts", deposit_address="TNotAnAddress<b>x</b>")
    refresh_account(box.account, client=http)
    assert AccountBalanceState.objects.get(account=box.account).deposit_address == ""
    html = _page(viewer_client, box.account)
    assert "TNotAnAddress" not in html and "No deposit address known yet" in html


def test_itrx_says_where_to_top_up_instead(viewer_client, http):
    box = make_box("itrx")
    refresh_account(box.account, client=http)
    html = _page(viewer_client, box.account)
    assert "does not name a deposit address" in html and "<svg" not in html


def test_the_top_ups_the_ledger_has_seen_are_listed(viewer_client, itrx):
    now = timezone.now()
    for minutes, trx in ((-60, 100), (-30, 350), (-10, 350)):
        BalanceSnapshot.objects.create(
            account=itrx.account,
            balance_sun=trx * SUN_PER_TRX,
            taken_at=now + timedelta(minutes=minutes),
            source="refresh",
        )
    html = _page(viewer_client, itrx.account)
    assert "250.000000" in html and "None seen." not in html


def test_the_providers_page_links_the_top_up_help(viewer_client, itrx):
    html = viewer_client.get(reverse("providers")).content.decode()
    assert reverse("provider_topup", args=[itrx.account.code]) in html
