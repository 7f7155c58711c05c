from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from energydash.lib.tron import InvalidAddress, validate_address
from energydash.orders.models import Kind
from energydash.orders.spec import OrderSpec
from energydash.providers.base import PERIODS
from energydash.providers.models import ProviderAccount

# Buttons that fill the one energy box (65,000 for an address that holds USDT, 131,000 for one
# that never did). Without JavaScript a button submits energy_preset and the server fills the box.
ENERGY_PRESETS = (
    (65_000, "65,000", _("to an address that holds USDT")),
    (131_000, "131,000", _("to an address that never held USDT")),
)
PERIOD_CHOICES = [(p, p) for p in PERIODS]


def _apply_preset(data: Any) -> Any:
    """A pressed preset button (energy_preset=131000) becomes the energy number itself.

    Older links may still say energy_preset=custom with the number in energy: the number wins.
    """
    preset = (data.get("energy_preset") or "").strip()
    if not preset.isdigit():
        return data
    copy = data.copy() if isinstance(data, QueryDict) else dict(data)
    copy["energy"] = preset
    copy.pop("energy_preset", None)
    return copy


def address_error(value: str) -> str:
    try:
        validate_address(value)
    except InvalidAddress as exc:
        return gettext("Not a valid TRON address: %(problem)s.") % {"problem": exc}
    return ""


class TronAddressField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 60)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "size": "40"})

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return value
        problem = address_error(value)
        if problem:
            raise forms.ValidationError(problem)
        return value.strip()


class OrderRequestForm(forms.Form):
    """What to buy. Which account to buy it from is chosen from the quotes.

    Energy is one number: presets fill it, so what is quoted is always what the box shows.
    """

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.ENERGY)
    receive_address = TronAddressField(label=_("Receive address"))
    energy = forms.IntegerField(
        label=_("Energy"),
        min_value=1,
        max_value=100_000_000,
        required=False,
        initial=ENERGY_PRESETS[0][0],
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "numeric"}),
    )
    period = forms.ChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, initial="1H", required=False
    )
    activate = forms.BooleanField(
        label=_("Activate the address if needed (costs extra)"), required=False
    )
    to_address = TronAddressField(label=_("USDT destination (collection only)"), required=False)

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None:
            data = _apply_preset(data)
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind == Kind.ENERGY:
            if not data.get("energy") and "energy" not in self.errors:
                self.add_error("energy", gettext("Enter the amount of energy."))
            data["period"] = data.get("period") or "1H"
        else:
            data["energy"] = None
            data["activate"] = False
        if kind != Kind.COLLECTION:
            data["to_address"] = ""
        return data

    def spec_for(self, account: ProviderAccount) -> OrderSpec:
        data = self.cleaned_data
        return OrderSpec(
            account=account,
            kind=data["kind"],
            receive_address=data["receive_address"],
            energy=data.get("energy"),
            period=data.get("period") or "1H",
            activate=bool(data.get("activate")),
            to_address=data.get("to_address") or "",
        )


MAX_CONFIRMED_SUN = 10**18  # a million TRX times a million: beyond any real order


class PlaceOrderForm(OrderRequestForm):
    """The confirmed order: request, chosen account, cost shown, and a one-time token."""

    account = forms.ModelChoiceField(
        queryset=ProviderAccount.objects.filter(enabled=True),
        to_field_name="code",
        empty_label=None,
        widget=forms.RadioSelect,
    )
    # Bounded: a tampered, absurd figure is a form error, not a crash in the money formatting.
    confirmed_cost_sun = forms.IntegerField(
        min_value=0, max_value=MAX_CONFIRMED_SUN, required=False, widget=forms.HiddenInput
    )
    token = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=(("placed", _("placed")), ("not_placed", _("not placed"))))
    provider_ref = forms.CharField(max_length=100, required=False, label=_("Provider's order id"))
    cost_trx = forms.DecimalField(
        max_digits=18,
        decimal_places=6,
        min_value=0,
        required=False,
        label=_("Cost charged (TRX)"),
    )
    comment = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "placed" and not (data.get("provider_ref") or "").strip():
            self.add_error(
                "provider_ref", gettext("Enter the provider's order id, from its dashboard.")
            )
        return data
