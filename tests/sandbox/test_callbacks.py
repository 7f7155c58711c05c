from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from django.core.management import call_command
from django_q.models import Schedule

from energydash.sandbox.models import SandboxCallback
from energydash.sandbox.schedules import CALLBACKS_SCHEDULE, ensure_schedules
from energydash.sandbox.tasks import deliver_due_callbacks
from tests.sandbox.helpers import address, itrx_post, unactivated

START = datetime(2026, 8, 7, 10, 0, tzinfo=UTC)
# The sandbox calls back only this console's own callback endpoint (ENERGYDASH_PUBLIC_URL).
CONSOLE = "https://operator.example"
HOOK = CONSOLE + "/callbacks/itrx/5f0c9a4e-2d7b-4c41-9a57-2f1f7d2a0b11/"
RECEIVER = address("callback receiver")


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ENERGYDASH_PUBLIC_URL = CONSOLE


class Receiver:
    """An httpx.MockTransport that answers the given statuses in turn and keeps the requests."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx.Response(status, text="ok")


def place(http, itrx_box, **extra) -> str:
    body = {"energy_amount": 65_000, "period": "1H", "receive_address": RECEIVER}
    body |= {"callback_url": HOOK, "out_trade_no": "our-7"} | extra
    with time_machine.travel(START, tick=False):
        return itrx_post(http, itrx_box, "order", body).json()["serial"]


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_nothing_is_sent_before_the_delegation_completes(http, itrx_box):
    place(http, itrx_box)
    receiver = Receiver(200)
    assert deliver_due_callbacks(now=at(5), client=receiver.client()) == 0
    assert receiver.requests == []


def test_the_callback_is_signed_like_the_docs_say(http, itrx_box):
    serial = place(http, itrx_box)
    receiver = Receiver(200)
    assert deliver_due_callbacks(now=at(6), client=receiver.client()) == 1
    (request,) = receiver.requests
    assert str(request.url) == HOOK
    timestamp = request.headers["TIMESTAMP"]
    assert timestamp == str(int(at(6).timestamp()))
    payload = json.loads(request.content)
    compact = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    assert request.content == compact.encode()
    expected = hmac.new(
        itrx_box.secret.encode(), f"{timestamp}&{compact}".encode(), hashlib.sha256
    ).hexdigest()
    assert request.headers["SIGNATURE"] == expected
    assert payload == {
        "active_hash": "",
        "bandwidth_hash": "",
        "energy_amount": 65_000,
        "out_trade_no": "our-7",
        "pay_amount": 65_000.0,
        "serial": serial,
        "txid": payload["txid"],
        "status": 40,
        "type": "energy",
        "receive_address": RECEIVER,
        "source": "api",
    }
    assert len(payload["txid"]) == 64


def test_an_activation_hash_is_sent_when_the_order_activated_the_address(http, itrx_box):
    place(http, itrx_box, receive_address=unactivated("callback new"), active=1)
    receiver = Receiver(200)
    deliver_due_callbacks(now=at(6), client=receiver.client())
    assert len(json.loads(receiver.requests[0].content)["active_hash"]) == 64


def test_a_failed_delivery_is_retried_after_15s_then_stops_once_answered_200(http, itrx_box):
    place(http, itrx_box)
    receiver = Receiver(500, 200)
    deliver_due_callbacks(now=at(6), client=receiver.client())
    callback = SandboxCallback.objects.get()
    assert (callback.attempts, callback.last_status) == (1, 500)
    assert callback.next_attempt_at == at(21)
    assert deliver_due_callbacks(now=at(20), client=receiver.client()) == 0
    assert deliver_due_callbacks(now=at(21), client=receiver.client()) == 1
    callback.refresh_from_db()
    assert (callback.attempts, callback.last_status, callback.delivered_at) == (2, 200, at(21))
    assert callback.next_attempt_at is None
    assert deliver_due_callbacks(now=at(99_999), client=receiver.client()) == 0
    assert len(receiver.requests) == 2


def test_retries_follow_the_documented_schedule_then_drop(http, itrx_box):
    place(http, itrx_box)
    receiver = Receiver(503)
    now, gaps = at(6), []
    while True:
        assert deliver_due_callbacks(now=now, client=receiver.client()) == 1
        callback = SandboxCallback.objects.get()
        if callback.next_attempt_at is None:
            break
        gaps.append(int((callback.next_attempt_at - now).total_seconds()))
        now = callback.next_attempt_at
    assert gaps == [15, 15, 30, 180, 600, 1200, 1800]
    assert callback.attempts == 8 and callback.dropped
    assert deliver_due_callbacks(now=now + timedelta(days=1), client=receiver.client()) == 0


def test_a_connection_error_counts_as_a_failed_attempt(http, itrx_box):
    place(http, itrx_box)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    deliver_due_callbacks(now=at(6), client=client)
    callback = SandboxCallback.objects.get()
    assert callback.last_status is None
    assert callback.last_error.startswith("ConnectError")
    assert callback.next_attempt_at == at(21)


def test_orders_without_callback_url_send_nothing(http, itrx_box):
    place(http, itrx_box, callback_url="")
    assert not SandboxCallback.objects.exists()


def test_the_command_delivers_due_callbacks(http, itrx_box, capsys, settings):
    settings.ENERGYDASH_PUBLIC_URL = "http://127.0.0.1:9"
    place(http, itrx_box, callback_url="http://127.0.0.1:9/callbacks/itrx/unreachable/")
    with time_machine.travel(at(6), tick=False):
        call_command("sandbox_deliver_callbacks")
    assert "1 callback delivery attempt(s) made." in capsys.readouterr().out
    assert SandboxCallback.objects.get().attempts == 1


def test_the_schedule_is_created_once(db):
    ensure_schedules()
    ensure_schedules()
    schedule = Schedule.objects.get(name=CALLBACKS_SCHEDULE)
    assert schedule.func == "energydash.sandbox.tasks.deliver_due_callbacks"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
