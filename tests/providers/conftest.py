"""MockTransport plumbing shared by the adapter tests: no network, every request captured."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from energydash.lib.crypto import Secret
from energydash.providers.credentials import ITRX, NETTS, TRONZAP, Credentials
from tests.providers import fixtures as fx

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeProvider:
    """Answers requests from a script of replies (the last one repeats) and keeps every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def reply(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(data).encode())


def text_reply(text: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=text.encode())


def body_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def credentials(kind: str, **overrides: Any) -> Credentials:
    values: dict[str, Any] = {
        ITRX: {"api_key": fx.ITRX_KEY, "api_secret": fx.ITRX_SECRET},
        TRONZAP: {"api_key": fx.TZ_TOKEN, "api_secret": fx.TZ_SECRET},
        NETTS: {"api_key": fx.NETTS_KEY, "api_secret": "", "egress_ip": fx.EGRESS_IP},
    }[kind]
    values.update(overrides)
    return Credentials(
        provider=values.pop("provider", kind),
        base_url=values.pop("base_url", f"http://sandbox.test/prefix/{kind}/"),
        api_key=Secret(values.pop("api_key")),
        api_secret=Secret(values.pop("api_secret")),
        **values,
    )


@pytest.fixture
def no_sleep() -> list[float]:
    """Collects the backoff delays instead of sleeping."""
    return []
