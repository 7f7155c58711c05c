"""Simplified Chinese: ISO-like timestamps with the UTC offset, as the console writes them in
English (energydash/formats/en). Numbers grouped in thousands with commas (1,234.567890), as
Chinese exchanges and wallets write amounts; Django's zh_Hans leaves them ungrouped."""

DATETIME_FORMAT = r"Y-m-d H:i:s \U\T\CO"
SHORT_DATETIME_FORMAT = r"Y-m-d H:i \U\T\CO"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
