"""Rate limits and failures: bounded retries with exponential backoff, Retry-After honoured, then
a clear "unavailable". The clock is fake: sleeping moves it, no test waits."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from energydash.chain.outcomes import OK, REFUSED, UNAVAILABLE
from tests.chain.conftest import address, make_reader

ALICE = address("alice")
PATH = "/wallet/getaccountresource"


@pytest.mark.parametrize("status", [403, 429, 503])
def test_a_rate_limit_answer_is_retried_then_succeeds(reader, node, clock, status):
    node.post(PATH).mock(side_effect=[httpx.Response(status), httpx.Response(200, json={})])
    reading = reader.account_resource(ALICE)
    assert reading.outcome == OK
    assert [e.status_code for e in reading.exchanges] == [status, 200]
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize("status", [403, 429, 503, 500, 502, 504])
def test_a_node_that_stays_limited_is_unavailable_after_bounded_retries(
    reader, node, clock, status
):
    route = node.post(PATH).respond(status, json={"Error": "over the limit"})
    reading = reader.account_resource(ALICE)
    assert reading.outcome == UNAVAILABLE
    assert reading.http_status == status
    assert route.call_count == 4  # the first try and 3 retries
    assert clock.sleeps == [0.5, 1.0, 2.0]  # exponential
    assert f"HTTP {status} 4 time(s)" in reading.message


def test_retry_after_in_seconds_is_honoured(reader, node, clock):
    node.post(PATH).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json={}),
        ]
    )
    assert reader.account_resource(ALICE).ok
    assert clock.sleeps == [3.0]


def test_retry_after_as_a_date_is_honoured(reader, node, clock):
    when = datetime.fromtimestamp(int(clock.now) + 5, tz=UTC)
    node.post(PATH).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200, json={}),
        ]
    )
    assert reader.account_resource(ALICE).ok
    assert 4.0 < clock.sleeps[0] <= 5.0


def test_a_long_penalty_ends_the_read_at_once(reader, node, clock):
    # TronGrid suspends a key over its limit for 30 s; holding a worker that long helps nobody.
    route = node.post(PATH).respond(403, headers={"Retry-After": "30"})
    reading = reader.account_resource(ALICE)
    assert reading.outcome == UNAVAILABLE
    assert "asks to wait 30 s" in reading.message
    assert route.call_count == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
def test_transport_errors_are_retried_then_unavailable(reader, node, clock, error):
    route = node.post(PATH).mock(side_effect=error)
    reading = reader.account_resource(ALICE)
    assert reading.outcome == UNAVAILABLE
    assert route.call_count == 4
    assert f"after 4 attempt(s) ({type(error).__name__})" in reading.message
    assert [e.error for e in reading.exchanges] == [type(error).__name__] * 4
    assert [e.status_code for e in reading.exchanges] == [None] * 4


def test_a_timeout_then_an_answer_is_fine(reader, node):
    node.post(PATH).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={})])
    reading = reader.account_resource(ALICE)
    assert reading.ok and reading.calls == 2


@pytest.mark.parametrize(
    ("status", "words"),
    [(400, "HTTP 400"), (401, "API key"), (404, "ENERGYDASH_TRON_API_URL"), (405, "HTTP 405")],
)
def test_other_client_errors_are_refusals_and_not_retried(reader, node, status, words):
    route = node.post(PATH).respond(status, text="nope")
    reading = reader.account_resource(ALICE)
    assert reading.outcome == REFUSED
    assert words in reading.message
    assert route.call_count == 1


def test_an_unreachable_node_is_unavailable_without_an_exception(clock):
    reader = make_reader(clock, retries=1)
    reader.node.base_url = "http://127.0.0.1:1"  # nothing listens on port 1
    reading = reader.account_resource(ALICE)
    assert reading.outcome == UNAVAILABLE
    assert reading.calls == 2
