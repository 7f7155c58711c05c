"""/api/v1/watch-rules over real HTTP: scopes, create with pasted addresses, update, history,
delete, and problem responses (never a 500) that change nothing."""

from __future__ import annotations

import httpx
import pytest

from energydash.orders.models import WatchAddress, WatchEvent, WatchRule
from tests.api.conftest import address, box, issue

ONE = address("watch-api-one")
TWO = address("watch-api-two")
BODY = {
    "name": "hot wallets",
    "energy": 70_000,
    "max_price_sun": 60,
    "daily_budget_sun": 50_000_000,
    "addresses": [ONE, TWO],
}


def client(base, role):
    _token, raw = issue(f"w-{role}", role)
    return httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=30
    )


@pytest.fixture
def operator(live_sandbox):
    with client(live_sandbox, "operator") as http:
        yield http


@pytest.fixture
def viewer(live_sandbox):
    with client(live_sandbox, "viewer") as http:
        yield http


def test_create_read_update_history_delete(operator, viewer):
    box("tronzap", "tz", price="50")
    made = operator.post("/watch-rules", json=BODY)
    assert made.status_code == 201, made.text
    rule = made.json()
    assert rule["addresses"] == [ONE, TWO] and rule["kind"] == "threshold"
    assert rule["interval_seconds"] == 300 and rule["spent_today_sun"] == 0
    assert viewer.get(f"/watch-rules/{rule['id']}").json()["name"] == "hot wallets"
    assert [r["id"] for r in viewer.get("/watch-rules").json()] == [rule["id"]]
    changed = operator.patch(
        f"/watch-rules/{rule['id']}",
        json={"kind": "renew", "renew_minutes": 10, "addresses": [TWO], "accounts": ["tz"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["addresses"] == [TWO] and changed.json()["accounts"] == ["tz"]
    assert changed.json()["energy"] == 70_000  # fields not given are kept
    WatchEvent.objects.create(
        rule_id=rule["id"], address=TWO, kind="skip", reason="skipped: price above cap"
    )
    history = viewer.get(f"/watch-rules/{rule['id']}/history").json()
    assert [(e["kind"], e["reason"]) for e in history] == [("skip", "skipped: price above cap")]
    assert operator.delete(f"/watch-rules/{rule['id']}").status_code == 204
    assert not WatchRule.objects.exists() and not WatchEvent.objects.exists()


def test_a_viewer_reads_but_cannot_change(operator, viewer):
    refused = viewer.post("/watch-rules", json=BODY)
    assert refused.status_code == 403 and not WatchRule.objects.exists()
    rule = operator.post("/watch-rules", json=BODY).json()
    assert viewer.patch(f"/watch-rules/{rule['id']}", json={"energy": 1}).status_code == 403
    assert viewer.delete(f"/watch-rules/{rule['id']}").status_code == 403
    assert WatchRule.objects.get().energy == 70_000


@pytest.mark.parametrize(
    "change, words",
    [
        ({"addresses": [ONE, "T123"]}, "not a valid TRON address"),
        ({"max_price_sun": None}, "max_price_sun: required"),
        ({"kind": "renew"}, "renew_minutes: required"),
        ({"hour_from": 8}, "both or neither"),
        ({"accounts": ["nobody"]}, "no account"),
        ({"energy": "70000"}, ""),
        ({"interval_seconds": 5}, ""),
        ({"period": "2H"}, ""),
        ({"colour": "red"}, ""),
    ],
)
def test_bad_input_is_a_problem_and_changes_nothing(operator, change, words):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    answer = operator.post("/watch-rules", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert words in answer.json()["detail"]
    assert not WatchRule.objects.exists() and not WatchAddress.objects.exists()
    rule = operator.post("/watch-rules", json=BODY).json()
    assert operator.patch(f"/watch-rules/{rule['id']}", json=change).status_code == 422
    assert WatchRule.objects.get().energy == 70_000 and WatchAddress.objects.count() == 2


def test_unknown_rules_are_404_not_500(viewer, operator):
    for rule_id in ("99", "0", "99999999999999999999"):
        assert viewer.get(f"/watch-rules/{rule_id}").status_code in (404, 422)
        assert operator.delete(f"/watch-rules/{rule_id}").status_code in (404, 422)
    assert viewer.get("/watch-rules/abc/history").status_code == 422


def test_the_rules_are_in_the_openapi(viewer):
    paths = viewer.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/watch-rules"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/watch-rules/{rule_id}"])
    assert "get" in paths["/api/v1/watch-rules/{rule_id}/history"]
