from __future__ import annotations

import io
import json
import threading
import time

import httpx
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.polling import next_delay, poll_pass
from energydash.orders.spec import OrderSpec
from energydash.providers.itrx import sign
from tests.orders.conftest import address, make_box


def place(box, http, **kw) -> Order:
    values = {
        "account": box.account,
        "kind": "energy",
        "receive_address": address("poll"),
        "energy": 65_000,
        "period": "1H",
    }
    values.update(kw)
    return place_order(OrderSpec(**values), client=http)


@pytest.mark.parametrize("kind", ["itrx", "tronzap", "netts"])
def test_polling_follows_an_order_to_completed(kind, http, request):
    box = request.getfixturevalue(kind)
    order = place(box, http)
    start = timezone.now()
    with time_machine.travel(start + timezone.timedelta(seconds=10)):
        result = poll_pass(client=http)
    order.refresh_from_db()
    assert result.changed == 1
    assert order.status == Status.COMPLETED
    assert order.tx_hashes and order.finished_at
    # final orders are not looked at again
    with time_machine.travel(start + timezone.timedelta(hours=1)):
        assert poll_pass(client=http).checked == 0


def test_polling_looks_often_while_young_then_backs_off(itrx, http):
    itrx.sandbox.delegation_delay_seconds = 60
    itrx.sandbox.save()
    order = place(itrx, http)
    start = order.next_poll_at
    with time_machine.travel(start, tick=False):
        poll_pass(client=http)  # delegation not done yet
    order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert order.poll_count == 1
    assert order.next_poll_at == start + next_delay(start - order.created, "itrx")
    seconds = timezone.timedelta(seconds=1)
    # A young order is looked at every 2 s (fresh within ~10 s p95), an old one less often
    # (orders/schedule.py; tests/orders/test_schedule.py).
    assert order.next_poll_at - order.created <= 5 * seconds
    assert next_delay(10 * seconds) <= 3 * seconds
    assert next_delay(50 * seconds) <= 3 * seconds
    assert next_delay(10 * seconds) < next_delay(30 * 60 * seconds) <= 120 * seconds


def test_an_order_stuck_past_the_limit_needs_review(itrx, http, settings):
    order = place(itrx, http)
    itrx.sandbox.delegation_delay_seconds = 10_000
    itrx.sandbox.save()
    with time_machine.travel(
        timezone.now() + timezone.timedelta(minutes=settings.ENERGYDASH_ORDER_STUCK_MINUTES + 1)
    ):
        poll_pass(client=http)
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
    assert "Still" in order.events.last().message


def test_poll_orders_command_prints_how_many_changed(itrx, http, monkeypatch):
    from energydash.providers import registry

    place(itrx, http)
    monkeypatch.setattr(
        "energydash.orders.polling.adapter_for",
        lambda creds, client=None: registry.adapter_for(creds, http),
    )
    out = io.StringIO()
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=30)):
        call_command("poll_orders", stdout=out)
    assert out.getvalue().startswith("1 order(s) changed")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_pollers_process_each_order_once():
    box = make_box("tronzap")
    orders = [
        Order.objects.create(
            account=box.account,
            kind="energy",
            receive_address=address(f"c{i}"),
            energy=65_000,
            period="1H",
            status=Status.SUBMITTED,
            provider_ref=f"tz-{i}",
            burn_sun_per_energy=100,
            next_poll_at=timezone.now() - timezone.timedelta(seconds=1),
        )
        for i in range(12)
    ]
    seen: list[str] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        ref = json.loads(request.content)["id"]
        with lock:
            seen.append(ref)
        time.sleep(0.02)  # keep both workers busy at once
        return httpx.Response(
            200,
            json={
                "code": 0,
                "result": {
                    "id": ref,
                    "external_id": "",
                    "status": "success",
                    "amount": "3.40",
                    "hash": "ab" * 32,
                    "params": {"address": "x", "amount": 65000, "duration": 1},
                },
            },
        )

    def worker() -> None:
        try:
            poll_pass(client=httpx.Client(transport=httpx.MockTransport(handler)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(o.provider_ref for o in orders)  # each exactly once
    assert set(Order.objects.values_list("status", flat=True)) == {Status.COMPLETED}
    assert all(o.events.filter(kind="state").count() == 1 for o in Order.objects.all())


def callback(client, account, payload: dict, *, ts: int | None = None, secret: str | None = None):
    ts = int(time.time()) if ts is None else ts
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    signature = sign(secret or account.api_secret.reveal(), ts, body)
    headers = {"TIMESTAMP": str(ts), "SIGNATURE": signature}
    url = reverse("itrx_callback", args=[account.code])
    if isinstance(client, httpx.Client):  # the WSGI app in this thread, as the sandbox is served
        headers["Content-Type"] = "application/json"
        return client.post("http://testserver" + url, content=body.encode(), headers=headers)
    return client.post(url, data=body, content_type="application/json", headers=headers)


def payload_for(order: Order, status: int = 40) -> dict:
    return {
        "active_hash": "",
        "bandwidth_hash": "",
        "energy_amount": order.energy,
        "out_trade_no": order.reference,
        "pay_amount": 65050.0,
        "serial": order.provider_ref,
        "txid": "cd" * 32,
        "status": status,
        "type": "energy",
        "receive_address": order.receive_address,
        "source": "api",
    }


@pytest.fixture
def callbacks_reach(monkeypatch):
    """Point the callback view's provider look-ups at a given httpx client."""
    from energydash.providers import registry

    def use(client: httpx.Client) -> None:
        monkeypatch.setattr(
            "energydash.console.orders.callbacks.adapter_for",
            lambda creds, client_=None: registry.adapter_for(creds, client),
        )

    return use


def test_a_signed_itrx_callback_completes_the_order_with_the_providers_cost(
    itrx, http, callbacks_reach
):
    """The callback carries no money: the order is fetched (query by serial) before it is
    marked final, so the recorded cost is itrx's own figure. Retries change nothing."""
    callbacks_reach(http)
    before = itrx.balance()
    order = place(itrx, http)
    Order.objects.filter(pk=order.pk).update(cost_sun=None)  # as if the answer had no amount
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=10)):
        first = callback(http, itrx.account, payload_for(order))
        again = callback(http, itrx.account, payload_for(order))
    order.refresh_from_db()
    assert first.status_code == 200 and again.status_code == 200
    assert order.status == Status.COMPLETED
    assert order.cost_sun == before - itrx.balance() > 0
    assert order.tx_hashes and order.energy_delivered == 65_000
    assert order.events.filter(kind="state", to_status=Status.COMPLETED).count() == 1
    assert "confirmed by looking the order up" in order.events.get(to_status="completed").message


def test_a_final_callback_whose_order_cannot_be_fetched_leaves_it_open_for_polling(
    itrx, http, callbacks_reach
):
    """Without the provider's cost the order is not marked final: the poller finishes it."""
    callbacks_reach(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503))))
    order = place(itrx, http)
    response = callback(http, itrx.account, payload_for(order))
    order.refresh_from_db()
    assert response.status_code == 200
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert order.next_poll_at <= timezone.now()
    assert "polling will finish it" in order.events.filter(kind="note").last().message
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=10)):
        poll_pass(client=http)
    order.refresh_from_db()
    assert order.status == Status.COMPLETED and order.cost_sun


def test_a_callback_41_records_the_refund_as_polling_does(itrx, http, callbacks_reach):
    """41 is "refund termination" in the query API: the callback fetches the order and records
    the refund with its figure, as a poll would (it used to freeze the order as failed)."""
    order = place(itrx, http)

    def query(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get("serial") == order.provider_ref
        return httpx.Response(
            200,
            json={
                "errno": 0,
                "order_no": order.provider_ref,
                "out_trade_no": order.reference,
                "status": 41,
                "amount": order.cost_sun,
                "refund_amount": order.cost_sun,
                "energy_amount": 65000,
                "pay_amount": 0,
                "details": [],
            },
        )

    callbacks_reach(httpx.Client(transport=httpx.MockTransport(query)))
    response = callback(http, itrx.account, payload_for(order, status=41))
    order.refresh_from_db()
    assert response.status_code == 200
    assert order.status == Status.REFUNDED
    assert order.refund_sun == order.cost_sun > 0
    assert order.finished_at is not None


def test_a_forged_callback_changes_nothing_and_an_old_signed_one_is_accepted(
    itrx, http, callbacks_reach
):
    """itrx retries for about an hour with the payload it first signed: age alone is no reason
    to refuse; the signature is."""
    callbacks_reach(http)
    order = place(itrx, http)
    forged = callback(http, itrx.account, payload_for(order), secret="not-the-secret")
    order.refresh_from_db()
    assert forged.status_code == 403
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert not order.events.filter(actor_label="callback:itrx").exists()
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=10)):
        old = callback(http, itrx.account, payload_for(order), ts=int(time.time()) - 3600)
    order.refresh_from_db()
    assert old.status_code == 200 and order.status == Status.COMPLETED


def test_callbacks_need_no_login_but_only_accept_post(itrx, client):
    url = reverse("itrx_callback", args=[itrx.account.code])
    assert client.get(url).status_code == 405


def test_the_callback_url_is_sent_only_with_a_public_url(itrx, http, settings):
    order = place(itrx, http)
    assert "callback_url" not in order.events.get(method="POST").request_body
    settings.ENERGYDASH_PUBLIC_URL = "https://energy.example.com"
    order = place(itrx, http, receive_address=address("cb"))
    body = json.loads(order.events.get(method="POST").request_body)
    assert body["callback_url"] == f"https://energy.example.com/callbacks/itrx/{itrx.account.code}/"


def test_setup_schedules_is_idempotent(db):
    from django_q.models import Schedule

    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())
    names = list(Schedule.objects.values_list("name", flat=True))
    assert names.count("orders: poll open orders") == 1


def test_the_poll_task_reports_its_passes_and_stops_when_nothing_is_due(itrx, http, monkeypatch):
    from energydash.orders import tasks
    from energydash.providers import registry

    place(itrx, http)
    monkeypatch.setattr(
        "energydash.orders.polling.adapter_for",
        lambda creds, client=None: registry.adapter_for(creds, http),
    )
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=30)):
        summary = tasks.poll_orders(run_for=0)
    assert summary == "1 pass(es), 1 order(s) checked, 1 changed"
    assert Order.objects.get().status == Status.COMPLETED


def test_a_replayed_signed_callback_folds_into_the_timeline_instead_of_growing_it(
    itrx, http, callbacks_reach
):
    """Security issue, finding 6: the same signed callback posted again and again (a replay)
    leaves the timeline at the rows of the first two posts (a repeat is folded into its row, or
    adds nothing to a final order)."""
    callbacks_reach(http)
    order = place(itrx, http)
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=10)):
        body = payload_for(order)
        ts = int(time.time())
        callback(http, itrx.account, body, ts=ts)
        callback(http, itrx.account, body, ts=ts)
        rows = order.events.count()
        for _ in range(20):
            assert callback(http, itrx.account, body, ts=ts).status_code == 200
    assert order.events.count() == rows
