"""Structured logs: LOG_FORMAT=json lines carrying request_id (from the request into the tasks it
queues), order_code, account, provider and the provider's own request id; never a secret."""

from __future__ import annotations

import copy
import io
import json
import logging
import logging.config
import re

import httpx
import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import RequestFactory
from django_q.tasks import async_task

from energydash.core.logcontext import RequestIdMiddleware
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec, PlacementRefused
from tests.ops.conftest import make_box
from tests.sandbox.helpers import address


@pytest.fixture
def json_lines(settings):
    """The project's LOGGING with LOG_FORMAT=json, written to a buffer; returns a reader."""
    buffer = io.StringIO()
    config = copy.deepcopy(django_settings.LOGGING)
    config["handlers"]["console"] = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["context", "redact"],
        "stream": buffer,
    }
    config["root"]["level"] = "INFO"
    logging.config.dictConfig(config)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    lines.raw = buffer  # type: ignore[attr-defined]
    yield lines
    logging.config.dictConfig(django_settings.LOGGING)


def test_every_json_line_has_the_correlation_fields(json_lines):
    logging.getLogger("energydash.test").warning("plain words")
    (line,) = [r for r in json_lines() if r["message"] == "plain words"]
    assert line["level"] == "WARNING" and line["logger"] == "energydash.test"
    for field in (
        "time",
        "request_id",
        "order_code",
        "account",
        "provider",
        "provider_request_id",
        "task",
    ):
        assert field in line


def test_a_sane_incoming_request_id_is_kept_and_an_odd_one_replaced(client, db):
    kept = client.get("/login/", HTTP_X_REQUEST_ID="lb-7f3a9c21-req")
    assert kept["X-Request-ID"] == "lb-7f3a9c21-req"
    odd = client.get("/login/", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert re.fullmatch(r"[0-9a-f]{32}", odd["X-Request-ID"])
    assert client.get("/login/")["X-Request-ID"] != odd["X-Request-ID"]


def test_the_request_id_travels_into_the_task_the_request_queues(db, json_lines):
    def view(request):
        logging.getLogger("energydash.test").info("queueing")
        async_task("energydash.api.tasks.deliver_due_webhooks", sync=True)
        return HttpResponse("ok")

    request = RequestFactory().get("/x", HTTP_X_REQUEST_ID="req-from-the-proxy-01")
    response = RequestIdMiddleware(view)(request)
    assert response["X-Request-ID"] == "req-from-the-proxy-01"
    lines = json_lines()
    (queued,) = [r for r in lines if r["message"] == "queueing"]
    (started,) = [r for r in lines if r["message"].startswith("task ")]
    assert queued["request_id"] == started["request_id"] == "req-from-the-proxy-01"
    assert started["task"] == "energydash.api.tasks.deliver_due_webhooks"


class _ProviderIds(httpx.BaseTransport):
    """The sandbox, answering with a provider request id header as many real APIs do."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.headers["X-Request-Id"] = "tz-req-0000abcd"
        return response


def test_order_lines_carry_order_account_provider_and_the_providers_request_id(
    wsgi_app, json_lines
):
    box = make_box("tronzap", balance_sun=1_000_000)  # too little: refused, logged
    http = httpx.Client(transport=_ProviderIds(httpx.WSGITransport(app=wsgi_app)))
    order = place_order(
        OrderSpec(account=box.account, kind="energy", receive_address=address("l"), energy=65_000),
        client=http,
    )
    placing = [r for r in json_lines() if r["order_code"] == str(order.code)]
    assert placing, json_lines()
    for line in placing:
        assert line["account"] == "Sandbox tronzap" and line["provider"] == "tronzap"
    assert any(r["provider_request_id"] == "tz-req-0000abcd" for r in placing)


def test_planted_secrets_never_reach_a_log_line(client, wsgi_app, json_lines, settings, admin_user):
    from tests.api.conftest import issue

    planted_token = "metrics-planted-secret-7319"
    settings.ENERGYDASH_METRICS_TOKEN = planted_token
    settings.ENERGYDASH_TRON_API_KEY = "trongrid-planted-key-5521"
    token, raw = issue("planted", "operator", webhook_url="https://hooks.example.com/e")
    box = make_box("tronzap", error_rate=1.0)  # every sandbox answer a 500: logged warnings
    http = httpx.Client(transport=httpx.WSGITransport(app=wsgi_app))
    with pytest.raises(PlacementRefused):
        place_order(
            OrderSpec(
                account=box.account, kind="energy", receive_address=address("s"), energy=65_000
            ),
            client=http,
        )
    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {planted_token}x")
    client.get("/api/v1/balances", HTTP_AUTHORIZATION=f"Bearer {raw}x")
    log = logging.getLogger("energydash.test")
    log.warning("careless: Authorization: Bearer %s and %s", raw, token.signing_secret())
    log.warning("careless: %s %s", planted_token, settings.ENERGYDASH_TRON_API_KEY)
    try:
        raise ValueError(f"boom with {planted_token} and {django_settings.SECRET_KEY}")
    except ValueError:
        log.exception("careless exception")
    text = json_lines.raw.getvalue()
    assert "careless" in text and "[redacted]" in text
    for secret in (
        planted_token,
        "trongrid-planted-key-5521",
        raw,
        token.signing_secret(),
        django_settings.SECRET_KEY,
        box.account.api_key.reveal(),
        box.account.api_secret.reveal(),
        *settings.ENERGYDASH_FIELD_KEYS,
    ):
        assert secret not in text
