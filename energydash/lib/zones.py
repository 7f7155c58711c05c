"""Time-zone names as operators read them: the IANA name and its UTC offset, never an
abbreviation ("CST" is China, Central US or Cuba)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def offset_label(local: datetime) -> str:
    """The UTC offset of an aware local time: "UTC+08:00", "UTC-05:00", "UTC+00:00"."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def zone_label(name: str, moment: datetime | None = None) -> str:
    """The zone and its offset at `moment` (now by default): "Asia/Shanghai, UTC+08:00"."""
    if name == "UTC":
        return name
    return f"{name}, {offset_label((moment or datetime.now(UTC)).astimezone(ZoneInfo(name)))}"
