"""Keyset pagination: page N costs what page 1 costs, and pages stay stable under inserts.

A page is asked for by a cursor, the sort key and id of the last (or first) row already seen,
instead of an OFFSET: the database walks an index from that point and reads `size + 1` rows, so
page 2,000 is as cheap as page 1, and a new order arriving at the top does not shift the rows of
the page an operator is reading. Every sort key ends with the primary key, so ties are stable.

Reusable for any queryset whose model has the sort key's index: `keyset_page(qs, SORTS["-created"],
cursor=..., size=50)`. Cursors are opaque short strings safe in a URL; a malformed one is an
error the caller shows (and then shows the first page), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import BigIntegerField, Expression, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
KEY = "_sort_key"


class BadCursor(ValueError):
    """A cursor that was not made by this module (edited URL)."""


@dataclass(frozen=True)
class Sort:
    """One sort order: an expression with an index on (expression, id), and its direction."""

    name: str  # as in ?sort=
    label: str  # lazily translated
    expression: Callable[[], Expression]
    descending: bool
    parse: Callable[[str], Any]  # cursor text -> value
    dump: Callable[[Any], str]  # value -> cursor text


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive time")
    return value


def _sorts() -> dict[str, Sort]:
    created = (lambda: F("created"), _parse_time, lambda v: v.isoformat())
    cost = (
        # Same expression as the order_cost_id index: final cost, else quoted, else 0.
        lambda: Coalesce(F("cost_sun"), F("quoted_cost_sun"), Value(0)),
        int,
        str,
    )
    energy = (lambda: Coalesce(F("energy"), Value(0), output_field=BigIntegerField()), int, str)
    table = [
        ("-created", _("newest first"), created, True),
        ("created", _("oldest first"), created, False),
        ("-cost", _("highest cost"), cost, True),
        ("cost", _("lowest cost"), cost, False),
        ("-energy", _("most energy"), energy, True),
        ("energy", _("least energy"), energy, False),
    ]
    return {
        name: Sort(name, label, expression, descending, parse, dump)
        for name, label, (expression, parse, dump), descending in table
    }


SORTS = _sorts()
DEFAULT_SORT = "-created"


@dataclass
class KeysetPage:
    rows: list[Any]
    sort: Sort
    size: int
    has_next: bool = False  # older / further rows exist
    has_previous: bool = False
    next_cursor: str = ""
    previous_cursor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def encode(sort: Sort, value: Any, pk: int) -> str:
    return f"{sort.dump(value)}~{pk}"


def decode(sort: Sort, cursor: str) -> tuple[Any, int]:
    try:
        text, _, pk = cursor.rpartition("~")
        return sort.parse(text), int(pk)
    except (ValueError, TypeError, OverflowError):
        raise BadCursor("This page link is not valid any more; showing the first page.") from None


def keyset_page(
    queryset: QuerySet,
    sort: Sort,
    *,
    after: str = "",
    before: str = "",
    size: int = DEFAULT_PAGE_SIZE,
) -> KeysetPage:
    """The `size` rows after cursor `after` (or before `before`), in `sort` order.

    Raises BadCursor for a cursor this module did not make.
    """
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    backwards = bool(before) and not after
    cursor = before if backwards else after
    qs = queryset.annotate(**{KEY: sort.expression()})
    # Walking towards the end of the list means "smaller" keys when the sort is descending.
    smaller = sort.descending != backwards
    if cursor:
        value, pk = decode(sort, cursor)
        if smaller:
            # key <= v narrows the index range; the OR then drops the rows already seen.
            qs = qs.filter(**{f"{KEY}__lte": value}).filter(
                Q(**{f"{KEY}__lt": value}) | Q(pk__lt=pk)
            )
        else:
            qs = qs.filter(**{f"{KEY}__gte": value}).filter(
                Q(**{f"{KEY}__gt": value}) | Q(pk__gt=pk)
            )
    if smaller:
        qs = qs.order_by(F(KEY).desc(), "-pk")
    else:
        qs = qs.order_by(F(KEY).asc(), "pk")
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = KeysetPage(rows=rows, sort=sort, size=size)
    if backwards:
        page.has_next = True
        page.has_previous = more
    else:
        page.has_next = more
        page.has_previous = bool(cursor)
    if rows:
        first, last = rows[0], rows[-1]
        page.next_cursor = encode(sort, *_key_of(last))
        page.previous_cursor = encode(sort, *_key_of(first))
    return page


def _key_of(row: Any) -> tuple[Any, int]:
    """(sort key, pk) of a model instance or of a .values() dict (which must include "pk")."""
    if isinstance(row, dict):
        return row[KEY], row.get("pk", row.get("id"))
    return getattr(row, KEY), row.pk


def capped_count(queryset: QuerySet, cap: int) -> tuple[int, bool]:
    """How many rows match, counting at most cap + 1: (count, capped)."""
    count = queryset.order_by()[: cap + 1].count()
    return min(count, cap), count > cap
