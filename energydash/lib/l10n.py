"""Numbers as the active language writes them, from the exact English text.

Amounts are computed and stored as integer sun and turned into text once, exactly
("1,234.567890", lib/tron.py); this only swaps the separators for the active language's
("1 234,567890" in Russian), so no digit is ever rounded or lost on the way.
"""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _gettext

_SWAP = str.maketrans({",": "\x00", ".": "\x01"})


def localize_digits(text: str) -> str:
    """'1,234.567890' in the active language's grouping and decimal mark; other text unchanged."""
    decimal = str(formats.get_format("DECIMAL_SEPARATOR"))
    group = str(formats.get_format("THOUSAND_SEPARATOR"))
    if decimal == "." and group == ",":
        return text
    return text.translate(_SWAP).replace("\x00", group).replace("\x01", decimal)


def delocalize_amount(text: str) -> str:
    """An amount typed in the active language, as the English text parse_trx reads.

    Where the decimal mark is a comma (Russian: "1 234,5"), the comma is the decimal mark and
    spaces group thousands; a text with both a comma and a point is refused (ValueError) rather
    than guessed, since "1,000.5" and "1.000,5" mean different amounts. Elsewhere unchanged.
    """
    decimal = str(formats.get_format("DECIMAL_SEPARATOR"))
    if decimal != ",":
        return text
    raw = str(text)
    if "," in raw and "." in raw:
        raise ValueError(
            _gettext("Use a comma for the decimals and spaces between thousands: 1 234,5.")
        )
    for space in (" ", "\u00a0", "\u202f", "\u2009"):
        raw = raw.replace(space, "")
    return raw.replace(",", ".")
