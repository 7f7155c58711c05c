"""Time-zone names as operators read them: the IANA name and its UTC offset, never an
abbreviation ("CST" is China, Central US or Cuba)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def zone_label(name: str, moment: datetime | None = None) -> str:
    """ "Asia/Shanghai, UTC+08:00": the zone and its offset at `moment` (now by default)."""
    if name == "UTC":
        return name
    offset = (moment or datetime.now(UTC)).astimezone(ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{name}, UTC{sign}{hours:02d}:{rest:02d}"
