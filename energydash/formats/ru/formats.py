"""Russian: Django's own formats (energydash/formats/en explains why the UTC offset), with the
console's day-first timestamp. Numbers: Django's ru (1 234,567890, a no-break space)."""

DATETIME_FORMAT = r"d.m.Y H:i:s \U\T\CO"
SHORT_DATETIME_FORMAT = r"d.m.Y H:i \U\T\CO"
DATE_FORMAT = "d.m.Y"
SHORT_DATE_FORMAT = "d.m.Y"
TIME_FORMAT = "H:i:s"
