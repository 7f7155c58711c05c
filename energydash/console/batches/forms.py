from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from energydash.lib.l10n import delocalize_amount
from energydash.lib.tron import parse_trx
from energydash.providers.base import PERIODS

ENERGY_CHOICES = (
    ("65000", _("65,000 — addresses that hold USDT")),
    ("131000", _("131,000 — addresses that never held USDT")),
)
MAX_UPLOAD_BYTES = 1_000_000


class BatchForm(forms.Form):
    addresses = forms.CharField(
        label=_("Addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 60, "spellcheck": "false"}),
        help_text=_("One per line: address, or address,energy."),
    )
    csv_file = forms.FileField(label=_("…or a CSV file (address[,energy])"), required=False)
    energy = forms.TypedChoiceField(
        label=_("Energy for lines without an amount"),
        choices=ENERGY_CHOICES,
        coerce=int,
        initial="65000",
    )
    period = forms.ChoiceField(label=_("Period"), choices=[(p, p) for p in PERIODS], initial="1H")
    max_cost_trx = forms.CharField(
        label=_("Maximum cost per line (TRX, optional)"), required=False, max_length=30
    )
    activate = forms.BooleanField(
        label=_("Activate addresses if needed (costs extra)"), required=False
    )

    def clean_max_cost_trx(self) -> int | None:
        raw = self.cleaned_data.get("max_cost_trx") or ""
        if not raw.strip():
            return None
        try:
            # "1,5" is 1.5 TRX to a Russian operator, 15 TRX to parse_trx: read it their way.
            return parse_trx(delocalize_amount(raw))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("csv_file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                self.add_error(
                    "csv_file", gettext("The file is larger than 1 MB; split it into batches.")
                )
                return data
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("csv_file", gettext("The file is not UTF-8 text."))
                return data
        else:
            data["text"] = data.get("addresses") or ""
        if not data["text"].strip() and not self.errors:
            self.add_error("addresses", gettext("Paste at least one address or upload a CSV file."))
        return data
