"""The shipped Prometheus rules (deploy/prometheus/energydash.rules.yml), tested with promtool
on series made from what this code's /metrics really reports.

Each scenario scrapes /metrics before and after a scripted stretch of work at the sandbox: a
fault run (low balance, short runway, a refused order, an order waiting for review, overdue
polls, no worker, a new ledger finding, a webhook endpoint failing until given up) and a clean
run (the same work going right). The two scrapes become promtool input series (the "before"
values for 5 minutes, a ramp, then the "after" values), and promtool checks that each alert fires
in the fault run with the expected labels and stays silent in the clean one.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
import yaml
from django.utils import timezone
from django_q.models import Task

from energydash.api.models import WebhookDelivery
from energydash.api.webhooks import deliver
from energydash.balances.models import LedgerFlag
from energydash.balances.services import record_balance
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.polling import poll_pass
from energydash.orders.spec import OrderSpec
from energydash.orders.transitions import transition
from tests.api.conftest import issue
from tests.ops.conftest import make_box, scrape
from tests.sandbox.helpers import address

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "energydash.rules.yml"
STEPS = 60  # minutes of series: before 0-4, ramp 5-9, after 10-60
SKIP_SUFFIXES = ("_bucket", "_created", "_sum", "_count")


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: run scripts/ensure-promtool (Debian package prometheus)")
    return path


def rules() -> list[dict]:
    return yaml.safe_load(RULES.read_text())["groups"][0]["rules"]


def _fmt(v: float) -> str:
    return "+Inf" if math.isinf(v) else repr(float(v))


def series(before: dict, after: dict) -> list[dict]:
    out = []
    for key in sorted(set(before) | set(after)):
        name, labels = key
        if not name.startswith("energydash_") or name.endswith(SKIP_SUFFIXES):
            continue
        counter = name.endswith("_total")
        b = before.get(key, 0.0 if counter else None)
        a = after.get(key)
        values: list[str] = []
        for minute in range(STEPS + 1):
            if minute < 5:
                v = b
            elif minute < 10 and a is not None and b is not None and not math.isinf(a + b):
                v = b + (a - b) * (minute - 4) / 5
            else:
                v = a if minute >= 10 else b
            values.append("_" if v is None else _fmt(v))
        selector = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"
        out.append({"series": selector, "values": " ".join(values)})
    return out


def expected(rule: dict, labels: dict[str, str]) -> dict:
    def render(text: str) -> str:
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)

    return {
        "exp_labels": {**rule["labels"], **labels},
        "exp_annotations": {k: render(v) for k, v in rule["annotations"].items()},
    }


def run_promtool(tmp_path: Path, input_series: list[dict], firing: dict[str, list[dict]]):
    tests = []
    for rule in rules():
        rate = "increase(" in rule["expr"]
        tests.append(
            {
                "eval_time": "15m" if rate else "40m",
                "alertname": rule["alert"],
                "exp_alerts": [expected(rule, labels) for labels in firing.get(rule["alert"], [])],
            }
        )
    spec = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series, "alert_rule_test": tests}],
    }
    path = tmp_path / "generated.test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = subprocess.run(
        [promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_file_is_valid():
    result = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _spec(box, who: str) -> OrderSpec:
    return OrderSpec(
        account=box.account, kind="energy", receive_address=address(who), energy=65_000
    )


TZ = {"provider": "tronzap", "account": "Sandbox tronzap"}


def test_every_alert_fires_in_a_fault_run(
    http, tronzap, metrics_open, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.ENERGYDASH_WEBHOOK_MAX_ATTEMPTS = 1  # the first failure gives up
    poor = make_box("itrx", balance_sun=1 * SUN_PER_TRX)
    poor.account.low_balance_threshold_sun = 0
    poor.account.save()
    token, _raw = issue("hooks", "operator", webhook_url="https://hooks.example.com/e")
    record_balance(tronzap.account, 500 * SUN_PER_TRX, source="refresh")
    before = scrape(http)

    with django_capture_on_commit_callbacks(execute=True):
        placed = place_order(_spec(tronzap, "ok"), via=token.placed_via, client=http)
        assert place_order(_spec(poor, "poor"), client=http).status == Status.FAILED
        transition(placed, Status.COMPLETED, message="done", energy_delivered=65_000)
    record_balance(tronzap.account, 1 * SUN_PER_TRX, source="refresh")  # below 100 TRX
    old = timezone.now() - timedelta(minutes=45)
    stuck = place_order(_spec(tronzap, "stuck"), client=http)
    Order.objects.create(
        account=tronzap.account,
        kind="energy",
        receive_address=address("review"),
        energy=65_000,
        status=Status.NEEDS_REVIEW,
        burn_sun_per_energy=100,
    )
    Order.objects.filter(status=Status.NEEDS_REVIEW).update(updated=old)
    LedgerFlag.objects.create(
        account=tronzap.account,
        kind="discrepancy",
        key="k1",
        started_at=old,
        ended_at=old,
        amount_sun=5,
    )
    refusing = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    deliver(WebhookDelivery.objects.get(order=placed).pk, client=refusing)
    assert stuck.next_poll_at is not None
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        after = scrape(http)  # no worker ever ran; the stuck order's polls are overdue

    run_promtool(
        tmp_path,
        series(before, after),
        {
            "EnergydashBalanceLow": [TZ],
            "EnergydashRunwayShort": [TZ],
            "EnergydashOrderFailureRate": [{"provider": "itrx"}],
            "EnergydashNeedsReviewWaiting": [{}],
            "EnergydashPollingLag": [{}],
            "EnergydashWorkerDown": [{}],
            "EnergydashLedgerDiscrepancy": [{**TZ, "kind": "discrepancy"}],
            "EnergydashWebhookFailures": [{}],
            "EnergydashWebhookEndpointDisabled": [{}],
        },
    )


def test_no_alert_fires_in_a_clean_run(
    http, tronzap, metrics_open, tmp_path, django_capture_on_commit_callbacks
):
    token, _raw = issue("hooks", "operator", webhook_url="https://hooks.example.com/e")
    record_balance(tronzap.account, 1_000_000 * SUN_PER_TRX, source="refresh")
    before = scrape(http)
    with django_capture_on_commit_callbacks(execute=True):
        placed = place_order(_spec(tronzap, "ok"), via=token.placed_via, client=http)
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            poll_pass(client=http)
        placed.refresh_from_db()
        assert placed.status == Status.COMPLETED
        accepting = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
        deliver(WebhookDelivery.objects.get(order=placed).pk, client=accepting)
        Task.objects.create(
            id="a" * 32,
            name="poll",
            func="energydash.orders.tasks.poll_orders",
            started=timezone.now(),
            stopped=timezone.now(),
            success=True,
        )
        after = scrape(http)
    run_promtool(tmp_path, series(before, after), {})
