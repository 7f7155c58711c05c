"""Order search: any part (start, middle or end) of the receive address, our reference, the
provider's order id, or the order code's hex (dashes ignored).

PostgreSQL: `LIKE '%text%'` on each column, answered by pg_trgm GIN indexes (orders migration
0010_search_trigram_indexes): a trigram index finds the rows holding every trigram of the text
without reading the table, so a search costs the same at a million orders as at ten thousand.
The order code is matched on REPLACE(code::text, '-', ''), the expression its index holds.

SQLite (`make run`, a few thousand orders): INSTR(column, text) > 0, a plain scan of the orders
(a case-sensitive substring test, as on PostgreSQL; LIKE would be case-insensitive there).
Acceptable at that scale; SQLite has no trigram index.

Searches need MIN_SEARCH characters (a trigram index needs at least 3 to narrow anything).
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Replace, StrIndex
from django.db.models.lookups import Contains, GreaterThan

MIN_SEARCH = 4
_HEX = re.compile(r"[0-9a-f]{4,32}")
SEARCHED = ("receive_address", "reference", "provider_ref")


def code_hex():  # noqa: ANN201
    """The order code as 32 hex digits: the expression the trigram index on codes holds."""
    return Replace(Cast("code", CharField()), Value("-"), Value(""))


def _part_of(expression, text: str) -> Q:  # noqa: ANN001
    if connection.vendor == "postgresql":
        return Q(Contains(expression, text))
    return Q(GreaterThan(StrIndex(expression, Value(text)), 0))


def search_q(text: str) -> Q:
    """Orders whose address, reference, provider id or code contains `text`."""
    query = Q()
    for column in SEARCHED:
        query |= _part_of(F(column), text)
    digits = text.lower().replace("-", "")
    if _HEX.fullmatch(digits):
        query |= _part_of(code_hex(), digits)
    return query
