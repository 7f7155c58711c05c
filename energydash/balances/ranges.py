"""The chart ranges (24 h, 7 d, 30 d, 90 d) and their buckets in the operators' time zone."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def local_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=local_tz())


def today() -> date:
    return timezone.now().astimezone(local_tz()).date()


def row_datetime(value: str | datetime) -> datetime:
    """A datetime read by raw SQL, aware: PostgreSQL returns aware datetimes, SQLite text in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Range:
    key: str
    label: str  # lazily translated
    hours: int  # 24 h is drawn per hour; the others per calendar day

    @property
    def hourly(self) -> bool:
        return self.hours <= 24

    @property
    def days(self) -> int:
        return max(1, self.hours // 24)

    def start(self, now: datetime | None = None) -> datetime:
        """Where the chart begins: 24 h ago on the hour, or local midnight `days - 1` days ago."""
        now = now or timezone.now()
        if self.hourly:
            # Absolute hours (UTC arithmetic), so a DST change neither skips nor repeats one.
            top = now.astimezone(local_tz()).replace(minute=0, second=0, microsecond=0)
            return top.astimezone(UTC) - timedelta(hours=self.hours - 1)
        first = now.astimezone(local_tz()).date() - timedelta(days=self.days - 1)
        return local_midnight(first)

    def buckets(self, now: datetime | None = None) -> list[datetime]:
        """The start of every bucket, oldest first (local hours or local midnights)."""
        start = self.start(now)
        if self.hourly:
            return [start + timedelta(hours=i) for i in range(self.hours)]
        return [local_midnight(start.date() + timedelta(days=i)) for i in range(self.days)]


RANGES = {
    r.key: r
    for r in (
        Range("24h", _("24 hours"), 24),
        Range("7d", _("7 days"), 24 * 7),
        Range("30d", _("30 days"), 24 * 30),
        Range("90d", _("90 days"), 24 * 90),
    )
}
DEFAULT_RANGE = "30d"


def parse_range(value: str | None) -> Range:
    """The requested range, or the default one for anything unknown."""
    return RANGES.get(value or "", RANGES[DEFAULT_RANGE])
