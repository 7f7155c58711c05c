"""A chain reader aimed at a mocked node on 127.0.0.1, with a clock and sleep it controls."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
import respx
from django.core.cache import caches

from energydash.chain.budget import RequestBudget
from energydash.chain.reader import ChainReader
from energydash.lib.tron import address_from_payload

NODE = "http://127.0.0.1:8090"
KEY = "7d5c2f1e-test-tron-pro-api-key-0001"


def address(seed: str) -> str:
    return address_from_payload(hashlib.sha256(seed.encode()).digest()[:20])


class FakeClock:
    """time.time and time.sleep in one: sleeping moves the clock, instantly."""

    def __init__(self, start: float = 1_750_000_000.25) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def node() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=NODE, assert_all_called=False) as router:
        yield router


def make_reader(clock: FakeClock, *, qps: int = 100, key: str = KEY, **kwargs) -> ChainReader:
    budget = RequestBudget(qps, cache=caches["default"], clock=clock, sleep=clock.sleep)
    return ChainReader(
        NODE, key, client=httpx.Client(), budget=budget, sleep=clock.sleep, clock=clock, **kwargs
    )


@pytest.fixture
def reader(clock, node) -> ChainReader:
    return make_reader(clock)
