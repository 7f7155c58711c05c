"""A client generated from /api/v1/openapi.json (openapi-python-client) places and reads an order.

The client is generated in the test, into a temporary directory, from the document the running
API serves: it cannot drift from the document, and nothing generated is committed to keep up to
date. Generation takes a few seconds.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from energydash.orders.models import Order
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, issue

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def generated_client(tmp_path, live_sandbox, monkeypatch):
    document = httpx.get(f"{live_sandbox}/api/v1/openapi.json", timeout=30)
    assert document.status_code == 200
    (tmp_path / "openapi.json").write_bytes(document.content)
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\npackage_name_override: energydash_client\n")
    package = tmp_path / "src" / "energydash_client"
    generated = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(package),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout  # every schema understood
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield importlib.import_module("energydash_client")
    for name in [m for m in sys.modules if m.split(".")[0] == "energydash_client"]:
        del sys.modules[name]


def test_a_generated_client_places_and_reads_orders(generated_client, live_sandbox):
    box("tronzap", "tz", base=live_sandbox, price="50")
    box("itrx", "itrx", base=live_sandbox, price="60")
    _token, raw = issue("generated", "operator")
    create = importlib.import_module("energydash_client.api.default.create_order")
    get = importlib.import_module("energydash_client.api.default.get_order")
    listing = importlib.import_module("energydash_client.api.default.list_orders")
    models = importlib.import_module("energydash_client.models")
    client = generated_client.AuthenticatedClient(
        base_url=live_sandbox, token=raw, timeout=httpx.Timeout(60)
    )
    with client:
        body = models.EnergyOrderIn(address=address("gen-1"), energy=65_000, max_cost_trx="50")
        placed = create.sync_detailed(client=client, body=body, idempotency_key="gen-1")
        assert placed.status_code == 201, placed.content
        order = placed.parsed
        assert isinstance(order, models.OrderDetail)
        assert order.kind == "energy" and order.account == "tz" and order.quoted_cost_sun > 0

        replay = create.sync_detailed(client=client, body=body, idempotency_key="gen-1")
        assert replay.status_code == 200 and replay.parsed.id == order.id

        collection = models.CollectionOrderIn(address=address("gen-2"), kind="collection")
        collected = create.sync_detailed(client=client, body=collection, idempotency_key="gen-2")
        assert collected.status_code == 201 and collected.parsed.account == "itrx"

        read = get.sync(client=client, order_id=order.id)
        assert isinstance(read, models.OrderDetail) and read.id == order.id
        assert [a.outcome for a in read.attempts] == ["accepted"]

        page = listing.sync(client=client, limit=25)
        assert {o.id for o in page.items} == {order.id, collected.parsed.id}

        refused = create.sync_detailed(
            client=client,
            body=models.EnergyOrderIn(address=address("gen-1"), energy=131_000),
            idempotency_key="gen-1",
        )
        assert refused.status_code == 422
        assert isinstance(refused.parsed, models.Problem)
        assert refused.parsed.code == "idempotency_key_reused"
    assert Order.objects.count() == SandboxOrder.objects.count() == 2
