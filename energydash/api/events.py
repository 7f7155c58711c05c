"""GET /api/v1/events: the webhook events of the calling token, to catch up after downtime.

Every event energydash recorded for the token's webhook (whatever became of its delivery) in the
order it was recorded, with the payload the webhook carried and the same `id` as its
`webhook-id` header. Page with `since`: the `next_since` of the previous page (a sequence
number, exclusive), or an ISO 8601 time for "everything recorded after this instant".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
from ninja import Query, Router, Schema

from energydash.api.auth import require_scope
from energydash.api.models import ApiToken, Scope, WebhookDelivery
from energydash.api.problems import Problem, only_params

router = Router(tags=["events"])


class EventOut(Schema):
    id: str
    seq: int
    event: str
    created: datetime
    data: dict[str, Any]
    delivery: str  # pending / delivered / gave up


class EventPage(Schema):
    events: list[EventOut]
    next_since: int | None
    has_more: bool


class EventQuery(Schema):
    since: str | None = None
    limit: int = 100


@router.get(
    "",
    response=EventPage,
    summary="Webhook events of this token since a point, oldest first (catch up after downtime)",
    description="`since`: the `next_since` of the previous page (exclusive), or an ISO 8601 "
    "time with its offset. Omitted: from the first event. `limit`: 1 to 500 (default 100). "
    "Each event's `id` is the `webhook-id` of its webhook.",
)
def list_events(request: HttpRequest, query: Query[EventQuery]) -> dict[str, Any]:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    require_scope(token, Scope.READ)
    only_params(request, "since", "limit")
    if not 1 <= query.limit <= 500:
        raise Problem(422, "invalid_limit", "limit must be between 1 and 500.")
    events = WebhookDelivery.objects.filter(token=token).order_by("id")
    since = (query.since or "").strip()
    if since:
        if since.isdigit() and len(since) <= 18:
            events = events.filter(id__gt=int(since))
        else:
            try:
                when = parse_datetime(since)
            except ValueError:
                when = None
            if when is None or when.tzinfo is None:
                raise Problem(
                    422,
                    "invalid_since",
                    "since must be a next_since number or an ISO 8601 time with its offset.",
                )
            events = events.filter(created__gt=when)
    rows = list(events[: query.limit + 1])
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {
        "events": [
            {
                "id": f"msg_{row.pk}",
                "seq": row.pk,
                "event": row.event,
                "created": row.created,
                "data": json.loads(row.payload),
                "delivery": row.state,
            }
            for row in rows
        ],
        "next_since": rows[-1].pk if rows else (int(since) if since.isdigit() else None),
        "has_more": has_more,
    }
