"""CSV exports, streamed in chunks so a year of orders never sits in memory at once.

A million orders stream at well over 50k rows/s (docs/benchmarks.md), so a full export takes
well under 30 s on the bench machine; the server settings that keep a long export from being
cut off are in README ("Exports").
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, QuerySet, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from energydash.balances.ranges import local_tz
from energydash.balances.stats import BOUGHT, spending, sum_or_zero
from energydash.console.orders import listing
from energydash.console.orders.filters import OrderFilterForm
from energydash.lib.tron import format_trx
from energydash.orders.models import POSSIBLE_STATUSES, SPEND_STATUSES, UNSENT, Order
from energydash.orders.money import SPEND, spend_sql
from energydash.providers.models import ProviderAccount

CHUNK = 5000  # rows per server-side cursor fetch and per streamed chunk (~1 MB of CSV)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DAILY_FIELDS = (
    "day",
    "account__name",
    "account__provider",
    "order_count",
    "energy_total",
    "cost_total",
)
ORDER_COLUMNS = [
    ("created", "created"),
    ("code", "code"),
    ("account__name", "account"),
    ("account__provider", "provider"),
    ("kind", "kind"),
    ("status", "status"),
    ("receive_address", "receive_address"),
    ("energy", "energy"),
    ("period", "period"),
    ("quoted_cost_sun", "quoted_cost_sun"),
    ("cost_sun", "cost_sun"),
    ("cost_trx", "cost_trx"),
    ("unit_price_sun", "unit_price_sun"),
    ("burn_sun_per_energy", "burn_sun_per_energy"),
    ("refund_sun", "refund_sun"),
    ("refund_trx", "refund_trx"),
    ("kept_sun", "kept_sun"),
    ("kept_trx", "kept_trx"),
    ("provider_ref", "provider_ref"),
    ("reference", "reference"),
    ("placed_via", "placed_via"),
]


# The query reads the account id; name and provider are filled in from a dict per row.
ORDER_FIELDS = [
    "created", "code", "account_id", "kind", "status", "receive_address", "energy", "period",
    "quoted_cost_sun", "cost_sun", "unit_price_sun", "burn_sun_per_energy", "refund_sun",
    "kept", "provider_ref", "reference", "placed_via",
]  # fmt: skip
# The *_trx columns repeat the sun figure before them in TRX, six places, no grouping (the exact
# amount, as the daily export's spend_trx); empty where the sun figure is.
# kept_sun: what the provider kept (cost - refund; 0 when nothing was charged); empty while the
# order is unresolved (unknown, needs review), a draft or awaiting approval: not known yet.
NOT_SETTLED = (*UNSENT, *POSSIBLE_STATUSES)
KEPT_OR_NONE = Case(When(status__in=NOT_SETTLED, then=None), default=SPEND)


class InvalidFilters(ValueError):
    def __init__(self, form: OrderFilterForm) -> None:
        self.form = form
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        super().__init__(errors)


def filtered_orders(params: Mapping[str, Any], queryset: QuerySet | None = None) -> QuerySet:
    """The orders the list shows for these GET params (filters and search); raises
    InvalidFilters on a bad filter (an export must never silently widen to more rows than the
    operator asked for)."""
    return listing.filter_orders(
        _valid_form(params), Order.objects.all() if queryset is None else queryset
    )


def _valid_form(params: Mapping[str, Any]) -> OrderFilterForm:
    form = OrderFilterForm(params)
    if not form.is_valid():
        raise InvalidFilters(form)
    return form


class _Buffer:
    """csv.writer target collecting one chunk of lines."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, value: str) -> None:
        self.parts.append(value)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def _safe(value: Any) -> Any:
    """Text cells only: keep spreadsheets from evaluating a name as a formula."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return "" if value is None else value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(local_tz()).isoformat()
    return _safe(value)


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text in chunks of CHUNK rows (about a megabyte), not one socket write per row."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow(header)
    batch: list[list[Any]] = []
    for row in rows:
        batch.append([_cell(v) for v in row])
        if len(batch) >= CHUNK:
            writer.writerows(batch)
            batch.clear()
            yield buffer.take()
    writer.writerows(batch)
    yield buffer.take()


# Newest first, as the orders list shows them.
EXPORT_ORDER = ("-created", "-id")


def _trx(sun: int | None) -> str:
    """format_trx(sun) without its grouping (1234.500000), by integer arithmetic: the Decimal
    division and quantize cost more than the rest of a SQLite export row (issue 23)."""
    if sun is None:
        return ""
    whole, part = divmod(abs(int(sun)), 1_000_000)
    return f"{'-' if sun < 0 else ''}{whole}.{part:06d}"


def _trx_sql(column: str) -> str:
    """A sun column as TRX text, exactly as _trx writes it (NULL stays NULL)."""
    return f"CAST(CAST({column} AS numeric) / 1000000 AS numeric(38, 6))"


def order_rows(params: Mapping[str, Any]) -> Iterator[str] | Iterator[bytes]:
    """Every matching order, newest first, streamed from a server-side cursor in chunks.

    Per row only the columns that need it are converted (the time to the operators' zone,
    text that could start a formula); account name and provider come from a dict, not a join.
    """
    orders = filtered_orders(params).order_by(*EXPORT_ORDER)
    if connection.vendor == "postgresql":
        return _copy_lines(orders)
    return _order_lines(fast_values(order_values(orders)))


def _dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def fast_values(rows: QuerySet) -> Iterator[tuple]:
    """The rows of a values_list over orders, as the queryset would give them, for the export.

    Django's per-row converters were most of the SQLite export's time (issue 23: 35k rows/s,
    goal 50k): a uuid.UUID built for every code only to be printed, and every `created` (already
    parsed by the driver) made aware through the generic converter chain. Here a code stays the
    text SQLite holds, printed with its dashes, and `created` gets the connection's zone
    directly; every other column keeps Django's own converters (the Decimal price quantized as
    the field says). Other databases: the queryset's own iterator.
    """
    if connection.vendor != "sqlite":
        yield from rows.iterator(chunk_size=CHUNK)
        return
    from django.db.models.sql.constants import MULTI

    compiler = rows.query.get_compiler(using=rows.db)
    chunks = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=CHUNK)
    if chunks is None:
        return
    selected = [s[0] for s in compiler.select[: compiler.col_count]]
    # values_list's rows are the compiler's rows as they come (ValuesListIterable), in its order
    names = list(rows._fields)
    fast = {names.index("created"), names.index("code")}
    others = [
        (index, converters, expression)
        for index, (converters, expression) in compiler.get_converters(selected).items()
        if index not in fast
    ]
    created, code = names.index("created"), names.index("code")
    zone = connection.timezone
    for chunk in chunks:
        for raw in chunk:
            row = list(raw)
            row[created] = row[created].replace(tzinfo=zone)
            row[code] = _dashed(row[code])
            for index, converters, expression in others:
                value = row[index]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[index] = value
            yield tuple(row)


def order_values(orders: QuerySet) -> QuerySet:
    """The Python path's rows: ORDER_FIELDS, with each order's kept money annotated."""
    return orders.annotate(kept=KEPT_OR_NONE).values_list(*ORDER_FIELDS)


def _safe_sql(column: str) -> str:
    """The column's text, with ' before a leading formula character; '' as NULL (unquoted)."""
    starts = ", ".join(["'='", "'+'", "'-'", "'@'", "E'\\t'", "E'\\r'"])
    return (
        f"CASE WHEN left({column}, 1) IN ({starts}) "
        f"THEN chr(39) || {column} ELSE NULLIF({column}, '') END"
    )


def _local_time_sql() -> str:
    """created as Python's isoformat() of the local time: 2026-03-01T10:00:00[.123456]+08:00.

    One to_char in the session's zone (_copy_lines sets it to the operators' zone for its
    transaction); whole seconds drop the ".000000", as isoformat() does. The former expression
    (five AT TIME ZONE and an offset computed from epochs) cost more than the rest of the row.
    """
    return f"replace(to_char({_O}.created, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000', '')"


# The tables as Django's query names them (no aliases), so the list's own WHERE clause (filters
# and search) is used as it is, without an IN (...) over the table.
_O = '"orders_order"'
_A = '"providers_provideraccount"'


def copy_select(orders: QuerySet) -> tuple[str, list[Any]]:
    """The export's SELECT: the filtered orders, newest first, with the CSV's columns as SQL.
    One statement over the list's own WHERE clause, read in the (created, id) index's order
    (backwards)."""
    time_sql = _local_time_sql()
    unsettled = ", ".join(repr(str(s)) for s in NOT_SETTLED)
    kept = f"CASE WHEN {_O}.status IN ({unsettled}) THEN NULL ELSE {spend_sql(_O)} END"
    columns = [
        RawSQL(time_sql, []),
        RawSQL(f"{_O}.code", []),
        RawSQL(_safe_sql(f"{_A}.name"), []),
        RawSQL(f"{_A}.provider", []),
        RawSQL(f"{_O}.kind", []),
        RawSQL(f"{_O}.status", []),
        RawSQL(f"{_O}.receive_address", []),
        RawSQL(f"{_O}.energy", []),
        RawSQL(_safe_sql(f"{_O}.period"), []),
        RawSQL(f"{_O}.quoted_cost_sun", []),
        RawSQL(f"{_O}.cost_sun", []),
        RawSQL(_trx_sql(f"{_O}.cost_sun"), []),
        RawSQL(f"{_O}.unit_price_sun", []),
        RawSQL(f"{_O}.burn_sun_per_energy", []),
        RawSQL(f"{_O}.refund_sun", []),
        RawSQL(_trx_sql(f"{_O}.refund_sun"), []),
        RawSQL(kept, []),
        RawSQL(_trx_sql(f"({kept})"), []),
        RawSQL(_safe_sql(f"{_O}.provider_ref"), []),
        RawSQL(f"{_O}.reference", []),
        RawSQL(_safe_sql(f"{_O}.placed_via"), []),
    ]
    names = [f"c{n}" for n in range(len(columns))]
    # account__name joins the accounts table under its own name (the RawSQL columns read it).
    rows = orders.order_by(*EXPORT_ORDER).annotate(
        _account=F("account__name"), **dict(zip(names, columns, strict=True))
    )
    sql, params = rows.values_list(*names).query.sql_with_params()
    return sql, list(params)


def _copy_lines(orders: QuerySet) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself (COPY ... TO STDOUT): the same columns and text as the
    Python path, at the database's speed, streamed in ~1 MB chunks with constant memory.

    Rows come newest first from the (created, id) index read backwards, not from a sort of the
    whole result: the planner weighs total cost, and for a large unfiltered export a sequential
    scan and a sort cost less in total but write nothing until the sort is done (6.7 s at a
    million orders).
    `SET LOCAL enable_sort = off`, for this one statement's transaction, makes it take the
    index order whenever an index gives it (a filter or search whose rows must be sorted
    still sorts them: only those rows)."""
    yield (",".join(h for _, h in ORDER_COLUMNS) + "\n").encode()
    select, params = copy_select(orders)
    query = f"COPY ({select}) TO STDOUT WITH (FORMAT csv)"
    buffer: list[bytes] = []
    size = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        # The CSV's times in the operators' zone (_local_time_sql), for this transaction only.
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [local_tz().key])
        with cursor.cursor.copy(query, params) as copy:
            for block in copy:
                buffer.append(bytes(block))
                size += len(block)
                if size >= 1 << 20:
                    yield b"".join(buffer)
                    buffer.clear()
                    size = 0
    yield b"".join(buffer)


def _order_lines(rows: Iterable[tuple]) -> Iterator[str]:
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow([h for _, h in ORDER_COLUMNS])
    yield buffer.take()  # the download starts before the database is read
    accounts = {a.pk: (_safe(a.name), a.provider) for a in ProviderAccount.objects.all()}
    tz = local_tz()
    batch: list[tuple] = []
    append = batch.append
    for (
        created,
        code,
        account_id,
        kind,
        status,
        address,
        energy,
        period,
        quoted,
        cost,
        price,
        burn,
        refund,
        kept,
        provider_ref,
        reference,
        via,
    ) in rows:
        name, provider = accounts.get(account_id, ("", ""))
        append(
            (
                created.astimezone(tz).isoformat(),
                code,
                name,
                provider,
                kind,
                status,
                address,
                energy,
                period,
                quoted,
                cost,
                _trx(cost),
                price,
                burn,
                refund,
                _trx(refund),
                kept,
                _trx(kept),
                "'" + provider_ref if provider_ref[:1] in FORMULA_STARTS else provider_ref,
                reference,
                "'" + via if via[:1] in FORMULA_STARTS else via,
            )
        )
        if len(batch) >= CHUNK:
            writer.writerows(batch)
            batch.clear()
            yield buffer.take()
    writer.writerows(batch)
    yield buffer.take()


def daily_cost_rows(params: Mapping[str, Any]) -> Iterator[str]:
    """Spend per local calendar day and account, with the list's filters.

    Read from the daily rollups (a few rows per day and account) unless the filters include an
    address or a search, which the rollups do not keep: then one grouped query over the orders.
    """
    form = _valid_form(params)
    data = form.cleaned_data
    # spend: what the providers kept (cost - refund) plus the possible charges of unresolved
    # orders, as on the dashboard (orders.money.SPEND).
    header = ["date", "account", "provider", "orders", "energy", "spend_sun", "spend_trx"]
    if data.get("address") or data.get("q"):
        rows = _daily_from_orders(params)
    else:
        rows = (
            listing.rollup_rows(data)
            .filter(status__in=SPEND_STATUSES)
            .values("day", "account__name", "account__provider")
            .annotate(
                order_count=sum_or_zero("orders"),
                energy_total=sum_or_zero("energy", BOUGHT),
                cost_total=sum_or_zero("spend_sun"),
            )
            .order_by("day", "account__name")
            .values_list(*DAILY_FIELDS)
        )
    return csv_lines(
        header,
        ((*row, format_trx(row[-1]).replace(",", "")) for row in rows.iterator(chunk_size=CHUNK)),
    )


def _daily_from_orders(params: Mapping[str, Any]) -> QuerySet:
    return (
        filtered_orders(params, spending())
        .annotate(day=TruncDate("created", tzinfo=local_tz()))
        .values("day", "account__name", "account__provider")
        .annotate(
            order_count=Count("id"),
            energy_total=sum_or_zero("energy", BOUGHT),
            cost_total=sum_or_zero(SPEND),
        )
        .order_by("day", "account__name")
        .values_list(*DAILY_FIELDS)
    )


def selected_order_lines(orders: QuerySet) -> Iterator[str]:
    """The orders CSV (same columns as the full export) of a few chosen orders, newest first."""
    return _order_lines(order_values(orders.order_by(*EXPORT_ORDER)).iterator())
