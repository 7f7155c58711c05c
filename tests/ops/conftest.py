from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.orders.conftest import (  # noqa: F401  (shared fixtures)
    _sandbox_urls,
    http,
    itrx,
    make_box,
    tronzap,
)
from tests.sandbox.conftest import wsgi_app  # noqa: F401

METRICS_TOKEN = "metrics-token-for-tests-0001"


@pytest.fixture
def metrics_open(settings):
    settings.ENERGYDASH_METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    auth = f"Bearer {METRICS_TOKEN}"
    if isinstance(client, httpx.Client):  # the WSGI client the sandbox tests share
        response = client.get("http://testserver/metrics", headers={"Authorization": auth})
        assert response.status_code == 200, response.content
    else:
        response = client.get("/metrics", HTTP_AUTHORIZATION=auth)
        assert response.status_code == 200, response.content
    samples: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def fake_server():
    from tests.ops import fakehttp

    fake, server = fakehttp.start()
    yield fake
    server.shutdown()
    server.server_close()
