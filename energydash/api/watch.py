"""/api/v1/watch-rules: watch rules (orders/watch.py) and their history.

Reading needs the `read` scope; creating, changing and deleting need `place` (an operator
token). Bad input is a 422 problem response and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Body, Field, Router, Schema, Status
from pydantic import ConfigDict

from energydash.api.auth import require_operator, require_scope
from energydash.api.models import ApiToken, Scope
from energydash.api.problems import Problem, only_params
from energydash.orders.models import WatchEvent, WatchRule
from energydash.orders.watch import WatchRefused, event_json, rule_json, save_rule

router = Router(tags=["watch rules"])


class WatchRuleIn(Schema):
    model_config = ConfigDict(strict=True, extra="forbid")

    name: str | None = Field(None, max_length=80)
    kind: Literal["threshold", "renew"] | None = Field(
        None,
        description="threshold: keep at least `energy` (within hour_from-hour_to if set); "
        "renew: buy `energy` again renew_minutes before the rule's current rental expires.",
    )
    energy: int | None = Field(None, ge=1, le=100_000_000)
    hour_from: int | None = Field(None, ge=0, le=23, description="Console time zone.")
    hour_to: int | None = Field(None, ge=0, le=23)
    renew_minutes: int | None = Field(None, ge=1, le=43_200)
    max_price_sun: int | None = Field(None, ge=1, description="Sun per energy, at most.")
    daily_budget_sun: int | None = Field(None, ge=0, description="Sun a day, at most.")
    period: Literal["1H", "1D", "3D", "30D"] | None = None
    accounts: list[str] | None = Field(None, description="Account names or ids; empty: any.")
    addresses: list[str] | None = Field(None, max_length=1000)
    enabled: bool | None = None
    interval_seconds: int | None = Field(None, ge=60, le=86_400)


class WatchRuleOut(Schema):
    id: int
    name: str
    kind: str
    energy: int
    hour_from: int | None
    hour_to: int | None
    renew_minutes: int | None
    max_price_sun: int
    daily_budget_sun: int
    period: str
    accounts: list[str]
    addresses: list[str]
    enabled: bool
    interval_seconds: int
    spent_today_sun: int = Field(description="Spend today (kept plus possible charges).")
    created: datetime


class WatchEventOut(Schema):
    id: int
    address: str
    kind: Literal["check", "purchase", "activation", "skip", "alert"]
    reason: str
    energy_available: int | None
    energy: int
    order: str | None
    created: datetime


def _rule(rule_id: int) -> WatchRule:
    rule = WatchRule.objects.filter(pk=rule_id).first() if 0 < rule_id < 2**63 else None
    if rule is None:
        raise Problem(404, "watch_rule_not_found", f"No watch rule with id {rule_id}.")
    return rule


def _changer(request: HttpRequest) -> ApiToken:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    require_scope(token, Scope.PLACE)
    require_operator(token)
    return token


def _save(rule: WatchRule | None, payload: WatchRuleIn) -> WatchRule:
    try:
        return save_rule(rule, payload.dict(exclude_unset=True))
    except WatchRefused as exc:
        raise Problem(422, "invalid_watch_rule", f"{exc}; nothing was changed.") from None


@router.get("", response=list[WatchRuleOut], summary="Every watch rule")
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request.auth, Scope.READ)  # type: ignore[attr-defined]
    only_params(request)
    return [rule_json(r) for r in WatchRule.objects.order_by("pk")]


@router.post(
    "",
    response={201: WatchRuleOut},
    summary="Create a watch rule",
    description="Required: name, energy, max_price_sun, daily_budget_sun (and renew_minutes for "
    "a renew rule). A worker checks each address every interval_seconds and buys through Ready "
    "to send's path: never above max_price_sun per energy, never beyond the daily budget or an "
    "account's limits.",
)
def create_rule(request: HttpRequest, payload: WatchRuleIn = Body(...)) -> Status:  # noqa: B008
    _changer(request)
    only_params(request)
    return Status(201, rule_json(_save(None, payload)))


@router.get("/{rule_id}", response=WatchRuleOut, summary="One watch rule")
def get_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    require_scope(request.auth, Scope.READ)  # type: ignore[attr-defined]
    only_params(request)
    return rule_json(_rule(rule_id))


@router.patch(
    "/{rule_id}",
    response=WatchRuleOut,
    summary="Change a watch rule (the fields given; `addresses` replaces the list)",
)
def update_rule(
    request: HttpRequest,
    rule_id: int,
    payload: WatchRuleIn = Body(...),  # noqa: B008
) -> dict[str, Any]:
    _changer(request)
    only_params(request)
    return rule_json(_save(_rule(rule_id), payload))


@router.delete("/{rule_id}", response={204: None}, summary="Delete a watch rule and its history")
def delete_rule(request: HttpRequest, rule_id: int) -> Status:
    _changer(request)
    only_params(request)
    _rule(rule_id).delete()
    return Status(204, None)


@router.get(
    "/{rule_id}/history",
    response=list[WatchEventOut],
    summary="A watch rule's history, newest first: checks, purchases, skips, alerts (500 at most)",
)
def rule_history(request: HttpRequest, rule_id: int) -> list[dict[str, Any]]:
    require_scope(request.auth, Scope.READ)  # type: ignore[attr-defined]
    only_params(request)
    rule = _rule(rule_id)
    events = WatchEvent.objects.filter(rule=rule).select_related("order")[:500]
    return [event_json(e) for e in events]
