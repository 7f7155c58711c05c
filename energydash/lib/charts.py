"""Chart maths for server-side SVG: nice ticks, linear scales, paths, stacking. No Django.

Templates draw the result; everything here is plain data in, plain data out, so it is tested
without a browser. Values may be int, float or Decimal (money stays exact until it is scaled
to pixels); axis ticks are Decimals so their labels read 0.25, not 0.25000000000000006.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

from django.utils.formats import date_format
from django.utils.translation import pgettext

from energydash.lib.l10n import localize_digits

Number = int | float | Decimal
XY = tuple[float, float]

NICE_MANTISSAS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
TIME_STEPS = tuple(
    timedelta(hours=h) for h in (1, 2, 3, 6, 12, 24, 48, 72, 24 * 7, 24 * 14, 24 * 28)
)


def to_decimal(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return Decimal(str(value))


def nice_step(span: Decimal, count: int) -> Decimal:
    """The smallest 1/2/2.5/5 x 10^k step that covers span in at most `count` intervals."""
    if span <= 0:
        return Decimal(1)
    raw = span / max(count, 1)
    exponent = raw.adjusted()
    for mantissa in NICE_MANTISSAS:
        step = mantissa.scaleb(exponent)
        if step >= raw:
            return step.normalize()
    return Decimal(10).scaleb(exponent).normalize()  # pragma: no cover - 10 always covers


def nice_ticks(lo: Number, hi: Number, count: int = 5) -> list[Decimal]:
    """Evenly spaced round values from at or below lo to at or above hi (at least two).

    A flat range is widened to include zero (or to 0..1 when it is zero), so a constant
    series draws as a visible line above or below the axis instead of collapsing.
    """
    low, high = sorted((to_decimal(lo), to_decimal(hi)))
    if low == high:
        low, high = (min(low, Decimal(0)), max(high, Decimal(0))) if low else (low, low + 1)
    with localcontext() as ctx:
        ctx.prec = 60  # room for sun totals far beyond any real balance
        step = nice_step(high - low, count)
        first = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
        last = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
        intervals = int((last - first) / step)
        # "+ 0" turns a -0 tick into 0; normalize() drops trailing zeros from the step.
        return [(first + step * i).normalize() + 0 for i in range(intervals + 1)]


def value_ticks(values: Sequence[Number], *, include_zero: bool = True, count: int = 5):
    """Ticks for a y axis showing `values`; (0, 1) when there are none."""
    if not values:
        return nice_ticks(0, 1, count)
    low, high = min(values), max(values)
    if include_zero:
        low, high = min(low, 0), max(high, 0)
    return nice_ticks(low, high, count)


def scale(value: Number, domain: tuple[Number, Number], rng: tuple[float, float]) -> float:
    """Map value linearly from domain to rng; a zero-width domain maps to rng's middle."""
    d0, d1 = float(domain[0]), float(domain[1])
    r0, r1 = rng
    if d1 == d0:
        return (r0 + r1) / 2
    return r0 + (float(value) - d0) * (r1 - r0) / (d1 - d0)


def time_scale(moment: datetime, start: datetime, end: datetime, rng: tuple[float, float]) -> float:
    return scale(moment.timestamp(), (start.timestamp(), end.timestamp()), rng)


def time_ticks(start: datetime, end: datetime, tz: tzinfo, max_ticks: int = 8) -> list[datetime]:
    """Round local times in [start, end): whole hours, or local midnights for steps of a day
    or more. The end itself gets no tick; its label would hang off the plot."""
    if end <= start:
        return [start]
    span = end - start
    step = next((s for s in TIME_STEPS if span / s <= max_ticks), TIME_STEPS[-1])
    local = start.astimezone(tz)
    if step >= timedelta(days=1):
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
        days = step.days
        ticks, day = [], first
        while day < end:
            if day >= start:
                ticks.append(day)
            day += timedelta(days=days)  # same tzinfo: wall-clock days, midnight stays midnight
        return ticks
    hours = int(step.total_seconds() // 3600)
    first = local.replace(minute=0, second=0, microsecond=0)
    first += timedelta(hours=(-first.hour) % hours)
    ticks, moment = [], first
    while moment < end:
        if moment >= start:
            ticks.append(moment)
        moment = moment + step
    return ticks


def time_label(moment: datetime, tz: tzinfo, *, with_time: bool) -> str:
    local = moment.astimezone(tz)
    if with_time:
        return f"{local:%H:%M}"
    # A short day as the active language writes it: "Mar 10", "10 мар", "3月10日".
    return date_format(local, pgettext("chart day label; a Django date format", "M j"))


def format_number(value: Number, places: int = 2) -> str:
    """1,234.5 style text: thousands separators, at most `places` decimals, no trailing zeros."""
    with localcontext() as ctx:
        ctx.prec = 60
        number = to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        text = f"{number:,f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return localize_digits(text)


def line_path(points: Sequence[XY]) -> str:
    """SVG path data joining points with straight lines ("" for no points)."""
    if not points:
        return ""
    head, *rest = points
    return f"M{head[0]:.1f} {head[1]:.1f}" + "".join(f" L{x:.1f} {y:.1f}" for x, y in rest)


def step_path(points: Sequence[XY]) -> str:
    """SVG path data for a value that holds until the next point (a balance between readings)."""
    if not points:
        return ""
    head, *rest = points
    parts = [f"M{head[0]:.1f} {head[1]:.1f}"]
    for x, y in rest:
        parts.append(f" H{x:.1f} V{y:.1f}")
    return "".join(parts)


def downsample[T](points: Sequence[tuple[T, Number]], max_points: int) -> list[tuple[T, Number]]:
    """At most about max_points points, keeping the first, the last, and each bucket's min and max
    in time order, so dips and peaks survive thinning."""
    if len(points) <= max_points or max_points < 4:
        return list(points)
    inner = points[1:-1]
    buckets = max(1, (max_points - 2) // 2)
    size = math.ceil(len(inner) / buckets)
    kept: list[tuple[T, Number]] = [points[0]]
    for i in range(0, len(inner), size):
        chunk = list(enumerate(inner[i : i + size]))
        low = min(chunk, key=lambda item: item[1][1])
        high = max(chunk, key=lambda item: item[1][1])
        kept.extend(point for _, point in sorted({low, high}, key=lambda item: item[0]))
    kept.append(points[-1])
    return kept


def stack(series: dict[str, Sequence[Number]]) -> dict[str, list[tuple[Number, Number]]]:
    """(bottom, top) of each series' segment per bucket, stacked in the dict's order.

    Negative values stack downwards from zero, separately from positive ones.
    """
    length = max((len(v) for v in series.values()), default=0)
    up: list[Number] = [0] * length
    down: list[Number] = [0] * length
    out: dict[str, list[tuple[Number, Number]]] = {}
    for name, values in series.items():
        segments = []
        for i in range(length):
            value = values[i] if i < len(values) else 0
            base = up if value >= 0 else down
            bottom = base[i]
            base[i] = bottom + value
            segments.append((bottom, base[i]))
        out[name] = segments
    return out


@dataclass(frozen=True)
class Frame:
    """The SVG canvas and the margins around its plot area, in user units."""

    width: int = 720
    height: int = 240
    left: int = 84
    right: int = 16
    top: int = 24  # room for the unit above the axis
    bottom: int = 30

    @property
    def x_range(self) -> tuple[float, float]:
        return (float(self.left), float(self.width - self.right))

    @property
    def y_range(self) -> tuple[float, float]:
        return (float(self.height - self.bottom), float(self.top))  # SVG y grows downwards

    @property
    def plot_width(self) -> float:
        return float(self.width - self.left - self.right)

    @property
    def baseline(self) -> float:
        return float(self.height - self.bottom)


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    name: str
    path: str
    markers: list[Marker]
    end: Marker | None  # where the series label goes


@dataclass(frozen=True)
class Bar:
    series: str
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass
class Chart:
    frame: Frame
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.bars and not any(line.markers for line in self.lines)


def y_axis(ticks: list[Decimal], frame: Frame, unit: Number) -> list[Tick]:
    domain = (ticks[0], ticks[-1])
    return [
        Tick(scale(t * to_decimal(unit), _scaled(domain, unit), frame.y_range), format_number(t))
        for t in ticks
    ]


def _scaled(domain: tuple[Decimal, Decimal], unit: Number) -> tuple[Decimal, Decimal]:
    return (domain[0] * to_decimal(unit), domain[1] * to_decimal(unit))


def line_chart(
    series: dict[str, Sequence[tuple[datetime, Number]]],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    *,
    frame: Frame | None = None,
    unit: Number = 1,
    step: bool = False,
    include_zero: bool = True,
    title: Callable[[str, datetime, Number], str] | None = None,
    max_points: int = 240,
) -> Chart:
    """Lines over time. Values are in base units (sun); the y axis is labelled in `unit`s (TRX)."""
    frame = frame or Frame()
    chart = Chart(frame)
    values = [to_decimal(v) / to_decimal(unit) for pts in series.values() for _, v in pts]
    ticks = value_ticks(values, include_zero=include_zero)
    chart.y_ticks = y_axis(ticks, frame, unit)
    domain = _scaled((ticks[0], ticks[-1]), unit)
    hours = (end - start) <= timedelta(days=2)
    chart.x_ticks = [
        Tick(time_scale(t, start, end, frame.x_range), time_label(t, tz, with_time=hours))
        for t in time_ticks(start, end, tz)
    ]
    describe = title or (lambda name, at, v: f"{name}: {format_number(v)} at {at:%Y-%m-%d %H:%M}")
    for name, points in series.items():
        thinned = downsample(list(points), max_points)
        xy = [
            (time_scale(at, start, end, frame.x_range), scale(v, domain, frame.y_range))
            for at, v in thinned
        ]
        markers = [
            Marker(x, y, describe(name, at, v)) for (x, y), (at, v) in zip(xy, thinned, strict=True)
        ]
        path = step_path(xy) if step else line_path(xy)
        chart.lines.append(Line(name, path, markers, markers[-1] if markers else None))
    return chart


def bar_chart(
    buckets: Sequence[datetime],
    series: dict[str, Sequence[Number]],
    tz: tzinfo,
    *,
    frame: Frame | None = None,
    unit: Number = 1,
    hourly: bool = False,
    title: Callable[[str, datetime, Number], str] | None = None,
) -> Chart:
    """Stacked bars, one band per bucket (day or hour), series stacked in the dict's order."""
    frame = frame or Frame()
    chart = Chart(frame)
    stacked = stack(series)
    ends = [
        to_decimal(v) / to_decimal(unit) for segs in stacked.values() for seg in segs for v in seg
    ]
    ticks = value_ticks(ends)
    chart.y_ticks = y_axis(ticks, frame, unit)
    domain = _scaled((ticks[0], ticks[-1]), unit)
    band = frame.plot_width / max(len(buckets), 1)
    width = max(band * 0.8, 1.0)
    every = max(1, math.ceil(len(buckets) / 8))
    chart.x_ticks = [
        Tick(frame.left + band * (i + 0.5), time_label(b, tz, with_time=hourly))
        for i, b in enumerate(buckets)
        if i % every == 0
    ]
    describe = title or (lambda name, at, v: f"{name}: {format_number(v)} on {at:%Y-%m-%d}")
    for name, segments in stacked.items():
        for i, (bottom, top) in enumerate(segments):
            if top == bottom:
                continue
            y0, y1 = scale(bottom, domain, frame.y_range), scale(top, domain, frame.y_range)
            chart.bars.append(
                Bar(
                    series=name,
                    x=frame.left + band * i + (band - width) / 2,
                    y=min(y0, y1),
                    width=width,
                    height=abs(y0 - y1),
                    title=describe(name, buckets[i], to_decimal(top) - to_decimal(bottom)),
                )
            )
    return chart
