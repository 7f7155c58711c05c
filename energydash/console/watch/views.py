"""Watch rules in the console: list, create/edit with pasted addresses, a rule's page with its
history and money spent today (orders/watch.py does the work). Viewers read; operators change."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from energydash.console.http import HtmxHttpRequest
from energydash.console.orders.views import operator_required
from energydash.core.roles import can_operate
from energydash.orders.models import WatchEvent, WatchRule
from energydash.orders.watch import FIELDS, WatchRefused, save_rule, spent_today

from .forms import WatchRuleForm


@require_GET
def rule_list(request: HtmxHttpRequest) -> HttpResponse:
    rules = [(rule, spent_today(rule)) for rule in WatchRule.objects.order_by("name", "pk")]
    for rule, _spent in rules:
        rule.address_count = rule.addresses.count()
    return render(
        request, "watch/list.html", {"rules": rules, "can_operate": can_operate(request.user)}
    )


@require_GET
def rule_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(WatchRule, pk=pk)
    context = {
        "rule": rule,
        "spent": spent_today(rule),
        "addresses": rule.addresses.order_by("pk"),
        "accounts": rule.accounts.order_by("name"),
        "events": WatchEvent.objects.filter(rule=rule).select_related("order")[:200],
        "can_operate": can_operate(request.user),
    }
    return render(request, "watch/detail.html", context)


@require_http_methods(["GET", "POST"])
@operator_required
def rule_edit(request: HtmxHttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(WatchRule, pk=pk) if pk is not None else None
    if request.method == "GET":
        initial = {}
        if rule is not None:
            initial = {name: getattr(rule, name) for name in FIELDS}
            initial["accounts"] = list(rule.accounts.all())
            initial["addresses"] = "\n".join(
                rule.addresses.order_by("pk").values_list("address", flat=True)
            )
        form = WatchRuleForm(initial=initial)
        return render(request, "watch/edit.html", {"form": form, "rule": rule})
    form = WatchRuleForm(request.POST)
    if not form.is_valid():
        return render(request, "watch/edit.html", {"form": form, "rule": rule}, status=422)
    data = dict(form.cleaned_data)
    data["accounts"] = [a.pk for a in data["accounts"]]
    try:
        rule = save_rule(rule, data)
    except WatchRefused as exc:
        form.add_error(None, f"{exc}; nothing was changed.")
        return render(request, "watch/edit.html", {"form": form, "rule": rule}, status=422)
    return redirect("watch:detail", pk=rule.pk)


@require_POST
@operator_required
def rule_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(WatchRule, pk=pk).delete()
    return redirect("watch:list")
