"""CSV cells that spreadsheet programs will not run as formulas."""

from __future__ import annotations

# A cell starting with one of these may be evaluated as a formula (tab and carriage return too:
# some programs strip them and then see the "=" behind).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """The cell with a leading ' when it could start a formula; otherwise unchanged."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
