"""One timestamp format for admin: ISO-like, 24-hour, with the UTC offset (the console: |ts).

Loaded through settings.FORMAT_MODULE_PATH; anything not set here falls back to Django's "en".
"""

# "UTC+0800": the UTC offset (O), not T, the zone's abbreviation ("CST" is China, Central US or
# Cuba). Django's formats have no "+08:00"; the console's |ts writes "UTC+08:00".
DATETIME_FORMAT = r"Y-m-d H:i:s \U\T\CO"
SHORT_DATETIME_FORMAT = r"Y-m-d H:i \U\T\CO"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
