"""Ready to send in the console: the form on an address, the worker's answer on the check's page."""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import reverse

from energydash.chain.reader import ChainReader
from energydash.orders.models import Order, ReadyCheck
from energydash.orders.readiness import run_check
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box

SENDER = address("ready-console-sender")
NEWBIE = address("ready-console-newbie")


@pytest.fixture
def chain(settings, http):
    settings.ENERGYDASH_TRON_API_URL = "http://testserver/sandbox/chain"
    settings.ENERGYDASH_TRON_API_QPS = 10_000
    settings.ENERGYDASH_READY_HEADROOM_PERCENT = 5
    return ChainReader.from_settings(client=http, retries=0)


def work(check_id, http, reader):
    """The worker's task body, over WSGI. Django's test client reconnects the request signals
    that close connections after each of its requests; the sandbox's requests must not."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    run_check(check_id, client=http, reader=reader)


def form(client, **fields):
    page = client.get(reverse("ready:new"), {"address": fields.get("sender", "")})
    assert page.status_code == 200
    token = page.context["form"].initial["token"]
    return {"sender": "", "recipient": "", "usdt": "", "token": token, **fields}


def test_an_operator_asks_and_reads_the_answer_in_words(operator_client, chain, http):
    box("tronzap", "tz", price="50")
    body = form(operator_client, sender=SENDER, recipient=NEWBIE, usdt="25.5")
    assert (
        f'value="{SENDER}"'
        in operator_client.get(reverse("ready:new"), {"address": SENDER}).content.decode()
    )
    sent = operator_client.post(reverse("ready:new"), body)
    check = ReadyCheck.objects.get()
    assert sent.status_code == 302 and sent.url == reverse("ready:detail", args=[check.pk])
    assert (check.via, check.actor.username, check.usdt_units) == ("console", "otto", 25_500_000)
    working = operator_client.get(sent.url).content.decode()
    assert "Working:" in working and "waiting for a worker" in working
    assert not SandboxOrder.objects.exists()
    # Sent twice (a double click, a reload): the same check, nothing queued again.
    again = operator_client.post(reverse("ready:new"), body)
    assert again.url == sent.url and ReadyCheck.objects.count() == 1

    work(check.pk, http, chain)  # the worker
    page = operator_client.get(sent.url).content.decode()
    assert 'data-state="ready"' in page and "Ready to send." in page
    assert "Bought 137,550 energy, verified on chain" in page
    assert "Send with fee_limit 13.100000 TRX" in page
    assert f'href="{reverse("orders:detail", args=[Order.objects.get().code])}"' in page
    # The live part stops polling once the answer is in (htmx 286).
    live = operator_client.get(sent.url, headers={"HX-Request": "true", "HX-Target": "ready-live"})
    assert live.status_code == 286 and "Ready to send." in live.content.decode()


def test_a_not_ready_answer_gives_the_reason(operator_client, chain, http):
    tz = box("tronzap", "tz", price="50")
    tz.account.max_order_sun = 1
    tz.account.save()
    operator_client.post(reverse("ready:new"), form(operator_client, sender=SENDER))
    work(ReadyCheck.objects.get().pk, http, chain)
    page = operator_client.get(reverse("ready:detail", args=[ReadyCheck.objects.get().pk]))
    text = page.content.decode()
    assert 'data-state="not_ready"' in text and "No account could take the order" in text
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"sender": SENDER[:-1] + ("2" if SENDER.endswith("1") else "1")}, "Not a valid TRON"),
        ({"sender": SENDER, "recipient": "Tnope"}, "Not a valid TRON"),
        ({"sender": SENDER, "usdt": "1.1234567"}, "not an amount of USDT"),
        ({"sender": SENDER, "usdt": "-3"}, "not an amount of USDT"),
        ({"sender": ""}, "This field is required"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_done(operator_client, chain, fields, error):
    refused = operator_client.post(reverse("ready:new"), form(operator_client, **fields))
    assert refused.status_code == 422 and error in refused.content.decode()
    assert not ReadyCheck.objects.exists()


def test_a_viewer_cannot_ask(viewer_client, chain):
    assert viewer_client.get(reverse("ready:new")).status_code == 403
    refused = viewer_client.post(
        reverse("ready:new"), {"sender": SENDER, "token": "abc", "recipient": "", "usdt": ""}
    )
    assert refused.status_code == 403 and not ReadyCheck.objects.exists()
