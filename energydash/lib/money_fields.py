"""Money in forms: people type and read TRX, the database keeps integer sun."""

from __future__ import annotations

from typing import Any

from django import forms

from energydash.lib.tron import format_trx, parse_trx


def plain_trx(sun: int) -> str:
    """TRX for an input box: grouped, no trailing zeros ('1,000,000,000', '0.000001', '500')."""
    text = format_trx(sun, 6)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class TrxField(forms.Field):
    """A form field for an amount of TRX whose cleaned value is integer sun.

    Shows a stored sun value as TRX (500_000_000 -> '500'), accepts thousands separators, and
    refuses negative amounts, more than 6 decimal places and non-numbers with words an operator
    can act on. min_sun/max_sun bound the result (in sun, the storage unit).
    """

    widget = forms.TextInput

    def __init__(
        self, *, min_sun: int | None = 0, max_sun: int | None = None, **kwargs: Any
    ) -> None:
        self.min_sun = min_sun
        self.max_sun = max_sun
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off", "size": "18"})
        return attrs

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return plain_trx(value)
        return value

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return parse_trx(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None

    def validate(self, value: int | None) -> None:
        super().validate(value)
        if value is None:
            return
        if self.min_sun is not None and value < self.min_sun:
            raise forms.ValidationError(
                f"Enter at least {plain_trx(self.min_sun)} TRX.", code="min_value"
            )
        if self.max_sun is not None and value > self.max_sun:
            raise forms.ValidationError(
                f"Enter at most {plain_trx(self.max_sun)} TRX.", code="max_value"
            )
