"""One timestamp format for the console and admin: ISO-like, 24-hour, with the zone named.

Loaded through settings.FORMAT_MODULE_PATH; anything not set here falls back to Django's "en".
"""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
