"""The orders list's filters, shared by the list page and the CSV export (same rows in both)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from energydash.balances.ranges import local_midnight
from energydash.lib.tron import InvalidAddress, validate_address
from energydash.orders.models import DELIVERY_FAILED, OPEN, Delivery, Kind, Status
from energydash.providers.models import Provider, ProviderAccount

OPEN_FILTER = "open"  # every status that is not final, as the dashboard's "open" count links to
DELIVERY_FAILED_FILTER = "failed"  # short, missing or reclaimed early: the dashboard links here
DELIVERY_CHOICES = [
    ("", _("any delivery")),
    (DELIVERY_FAILED_FILTER, _("Failed on chain (short, missing, reclaimed)")),
    *Delivery.choices,
]


def filter_by_order_fields(rows: QuerySet, data: dict[str, Any]) -> QuerySet:
    """Status (or "open"), account, provider and kind: the filters that orders and the order
    rollups share (both have these columns)."""
    status = data.get("status")
    if status == OPEN_FILTER:
        rows = rows.filter(status__in=OPEN)
    elif status:
        rows = rows.filter(status=status)
    if data.get("account"):
        rows = rows.filter(account=data["account"])
    if data.get("provider"):
        rows = rows.filter(account__provider=data["provider"])
    if data.get("kind"):
        rows = rows.filter(kind=data["kind"])
    return rows


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
STATUS_CHOICES = [("", _("any status")), (OPEN_FILTER, _("Open (not final)")), *Status.choices]
# Days a filter accepts: far wider than any order history, yet far enough from the calendar's ends
# that "the day after" and the shift to UTC stay representable (9999-12-31 + 1 day overflows).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
DAY_RANGE = [
    MinValueValidator(FIRST_DAY, message=_("Pick a day from %(limit_value)s on.")),
    MaxValueValidator(LAST_DAY, message=_("Pick a day up to %(limit_value)s.")),
]


class OrderFilterForm(forms.Form):
    """GET filters: status, account (code), provider, kind, date_from, date_to, address, delivery
    (a delivery status, or "failed" for short, missing and reclaimed early), and the
    search box q (any part of an address, order code, provider order id or reference; applied by
    console.orders.listing.filter_orders, which the list and the export both use).

    Dates are calendar days in settings.TIME_ZONE, both inclusive. Build it from request.GET and
    call .filter(queryset): fields that did not validate are left out (their errors are on the
    form), so a list page still shows rows; the export refuses an invalid form instead.
    """

    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    account = forms.ModelChoiceField(
        label=_("Account"),
        queryset=ProviderAccount.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("any account"),
    )
    provider = forms.ChoiceField(
        label=_("Provider"), choices=[("", _("any provider")), *Provider.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("any kind")), *Kind.choices], required=False
    )
    date_from = forms.DateField(
        required=False,
        label=pgettext_lazy("date range", "From"),
        widget=DATE_INPUT,
        validators=DAY_RANGE,
    )
    date_to = forms.DateField(
        required=False,
        label=pgettext_lazy("date range", "To"),
        widget=DATE_INPUT,
        validators=DAY_RANGE,
    )
    address = forms.CharField(required=False, max_length=64, label=_("Receiving address"))
    delivery = forms.ChoiceField(choices=DELIVERY_CHOICES, required=False, label=_("Deliveries"))
    q = forms.CharField(
        required=False,
        max_length=100,
        label=_("Search"),
        help_text=_("Any part of an address, order code, provider order id or our reference."),
    )

    def clean_q(self) -> str:
        text = (self.cleaned_data.get("q") or "").strip()
        if text and len(text) < 4:
            raise forms.ValidationError(gettext("Type at least 4 characters to search."))
        return text

    def clean_address(self) -> str:
        text = (self.cleaned_data.get("address") or "").strip()
        if not text:
            return ""
        try:
            return validate_address(text)
        except InvalidAddress as exc:
            raise forms.ValidationError(
                gettext("Not a TRON address: %(problem)s.") % {"problem": exc}
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext("The end date is before the start date."))
        return data

    def filter(self, queryset: QuerySet) -> QuerySet:
        """The orders matching every filter that validated."""
        if not self.is_bound:
            return queryset
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        queryset = filter_by_order_fields(queryset, data)
        if data.get("date_from"):
            queryset = queryset.filter(created__gte=local_midnight(data["date_from"]))
        if data.get("date_to"):
            queryset = queryset.filter(
                created__lt=local_midnight(data["date_to"] + timedelta(days=1))
            )
        if data.get("address"):
            queryset = queryset.filter(receive_address=data["address"])
        delivery = data.get("delivery")
        if delivery == DELIVERY_FAILED_FILTER:
            queryset = queryset.filter(delivery_status__in=DELIVERY_FAILED)
        elif delivery:
            queryset = queryset.filter(delivery_status=delivery)
        return queryset
