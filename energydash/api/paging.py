"""Keyset pagination over (created, id), newest first: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
from datetime import datetime

from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    pass


def encode(created: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError
        return when, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(cursor) from None


def page(queryset: QuerySet, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """One page of `limit` rows after `cursor`, and the cursor of the next page (or None)."""
    rows = queryset.order_by("-created", "-id")
    if cursor:
        created, pk = decode(cursor)
        rows = rows.filter(Q(created__lt=created) | Q(created=created, id__lt=pk))
    items = list(rows[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return items, (encode(items[-1].created, items[-1].pk) if more and items else None)
