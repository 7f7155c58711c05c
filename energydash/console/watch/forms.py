from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from energydash.orders.models import WatchRule
from energydash.providers.models import ProviderAccount
from energydash.providers.results import PERIODS


class WatchRuleForm(forms.Form):
    """The fields as typed; orders/watch.py save_rule checks them all before writing."""

    name = forms.CharField(max_length=80, label=_("Name"))
    kind = forms.ChoiceField(choices=WatchRule.Kind.choices, label=_("Rule"))
    energy = forms.CharField(
        max_length=12,
        label=_("Energy"),
        help_text=_("Keep at least this much; or the energy a renewal buys."),
    )
    hour_from = forms.CharField(
        max_length=2,
        required=False,
        label=_("Only from hour"),
        help_text=_("0-23, console time zone"),
    )
    hour_to = forms.CharField(max_length=2, required=False, label=_("until hour"))
    renew_minutes = forms.CharField(
        max_length=6,
        required=False,
        label=_("Renew minutes"),
        help_text=_("Renew rules: minutes before the rental expires."),
    )
    max_price_sun = forms.CharField(max_length=8, label=_("Max price (sun per energy)"))
    daily_budget_sun = forms.CharField(max_length=16, label=_("Daily budget (sun)"))
    period = forms.ChoiceField(choices=[(p, p) for p in PERIODS], label=_("Rental period"))
    accounts = forms.ModelMultipleChoiceField(
        queryset=ProviderAccount.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Accounts"),
        help_text=_("None ticked: any enabled account."),
    )
    interval_seconds = forms.CharField(
        max_length=6, initial="300", label=_("Check every (seconds)")
    )
    enabled = forms.BooleanField(required=False, initial=True, label=_("Enabled"))
    addresses = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=60_000,
        label=_("Addresses"),
        help_text=_("One per line, or pasted CSV."),
    )
