from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from energydash.console.orders.forms import TronAddressField
from energydash.orders.readiness import ReadyRefused, usdt_units


class ReadyForm(forms.Form):
    sender = TronAddressField(label=_("Sender address"))
    recipient = TronAddressField(
        label=_("Recipient (optional)"),
        required=False,
        help_text=_(
            "With a recipient the transfer's energy is estimated on chain; without, a "
            "transfer to a new USDT holder (131,000 energy) is assumed."
        ),
    )
    usdt = forms.CharField(
        label=_("USDT amount (optional)"),
        required=False,
        max_length=20,
        help_text=_("e.g. 25.5"),
    )
    # One key per form shown: submitting the same form twice answers the same check.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_usdt(self) -> int | None:
        text = (self.cleaned_data.get("usdt") or "").strip()
        try:
            return usdt_units(text)
        except ReadyRefused as exc:
            raise forms.ValidationError(f"{str(exc).removeprefix('usdt: ')}.") from None

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not token.isalnum():
            raise forms.ValidationError(_("The form is damaged; open it again."))
        return token
