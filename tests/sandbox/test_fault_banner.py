"""The console says so on every page while any sandbox fault is switched on (issue 25, item 8)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from energydash.sandbox.models import SandboxAccount

pytestmark = pytest.mark.django_db

BANNER = 'id="sandbox-fault-banner"'


def _box(**knobs):
    return SandboxAccount.objects.create(
        provider="itrx", name="box", api_key="FAULTBANNERKEY00000000000000001", **knobs
    )


def test_no_banner_while_every_fault_is_off(settings, operator_client):
    settings.ENERGYDASH_SANDBOX = True
    # Timings are not faults: latency and a slow (but default-rate) delegation stay quiet.
    _box(latency_ms=200, delegation_delay_seconds=30, hang_seconds=5)
    body = operator_client.get("/orders/").content.decode()
    assert BANNER not in body


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("error_rate", 0.2),
        ("late_refund_rate", 0.5),
        ("orders_unavailable", True),
        ("chain_delegated_percent", 50),
        ("chain_undelegate_after_seconds", 30),
    ],
)
def test_banner_names_the_account_and_the_fault(settings, operator_client, knob, value):
    settings.ENERGYDASH_SANDBOX = True
    _box(**{knob: value})
    for url in ("/", "/orders/", "/providers/"):
        body = operator_client.get(url).content.decode()
        assert BANNER in body, url
        assert f"box: {knob}" in body, url


def test_banner_goes_when_the_fault_is_switched_back_off(settings, operator_client):
    settings.ENERGYDASH_SANDBOX = True
    box = _box(timeout_rate=0.1)
    assert BANNER in operator_client.get("/orders/").content.decode()
    box.timeout_rate = 0
    box.save()
    assert BANNER not in operator_client.get("/orders/").content.decode()


def test_no_banner_and_no_sandbox_query_when_the_sandbox_is_off(settings, operator_client):
    """Production without the sandbox: the sandbox table is never read for the banner."""
    settings.ENERGYDASH_SANDBOX = False
    _box(error_rate=1.0)
    with CaptureQueriesContext(connection) as queries:
        body = operator_client.get("/orders/").content.decode()
    assert BANNER not in body
    assert not [q for q in queries.captured_queries if "sandbox_" in q["sql"]]


def test_operator_sees_the_banner_without_the_admin_link(settings, operator_client):
    settings.ENERGYDASH_SANDBOX = True
    _box(error_rate=0.3)
    body = operator_client.get("/").content.decode()
    assert BANNER in body
    assert "/admin/sandbox/sandboxaccount/" not in body


def test_staff_gets_a_link_to_the_sandbox_accounts(settings, admin_client):
    settings.ENERGYDASH_SANDBOX = True
    _box(error_rate=0.3)
    assert "/admin/sandbox/sandboxaccount/" in admin_client.get("/").content.decode()
