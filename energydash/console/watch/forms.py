from __future__ import annotations

from django import forms

from energydash.orders.models import WatchRule
from energydash.providers.models import ProviderAccount
from energydash.providers.results import PERIODS


class WatchRuleForm(forms.Form):
    """The fields as typed; orders/watch.py save_rule checks them all before writing."""

    name = forms.CharField(max_length=80)
    kind = forms.ChoiceField(choices=WatchRule.Kind.choices, label="Rule")
    energy = forms.CharField(
        max_length=12, help_text="Keep at least this much; or the energy a renewal buys."
    )
    hour_from = forms.CharField(
        max_length=2, required=False, label="Only from hour", help_text="0-23, console time zone"
    )
    hour_to = forms.CharField(max_length=2, required=False, label="until hour")
    renew_minutes = forms.CharField(
        max_length=6, required=False, help_text="Renew rules: minutes before the rental expires."
    )
    max_price_sun = forms.CharField(max_length=8, label="Max price (sun per energy)")
    daily_budget_sun = forms.CharField(max_length=16, label="Daily budget (sun)")
    period = forms.ChoiceField(choices=[(p, p) for p in PERIODS], label="Rental period")
    accounts = forms.ModelMultipleChoiceField(
        queryset=ProviderAccount.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any enabled account.",
    )
    interval_seconds = forms.CharField(max_length=6, initial="300", label="Check every (seconds)")
    enabled = forms.BooleanField(required=False, initial=True)
    addresses = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=60_000,
        help_text="One per line, or pasted CSV.",
    )
