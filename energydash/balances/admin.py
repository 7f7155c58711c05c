"""Alert channels in admin: the token or URL is write-only (encrypted, never shown again), and
each channel has a "Send a test" button."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from energydash.balances import channels
from energydash.balances.models import AlertChannel, AlertKind, ChannelKind
from energydash.core.forms import write_only_field
from energydash.core.models import AuditEvent
from energydash.core.outbound import validate_public_url
from energydash.lib.crypto import Secret

SECRET_HELP = {
    ChannelKind.TELEGRAM: "the bot token from @BotFather",
    ChannelKind.SLACK: "the incoming-webhook URL (https://hooks.slack.com/services/…)",
    ChannelKind.DISCORD: "the webhook URL (https://discord.com/api/webhooks/…)",
    ChannelKind.WEBHOOK: "the URL energydash POSTs the alert JSON to",
}


class AlertChannelForm(forms.ModelForm):
    new_secret = write_only_field(
        "Token or webhook URL",
        "Telegram: the bot token. Slack, Discord, webhook: the URL. Stored encrypted and never "
        "shown again; leave blank to keep the stored one. Not used for e-mail.",
    )
    alert_kinds = forms.MultipleChoiceField(
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every kind.",
    )

    class Meta:
        model = AlertChannel
        fields = ("name", "kind", "chat_id", "emails", "account", "alert_kinds", "enabled")

    def clean_emails(self) -> str:
        emails = [e.strip() for e in self.cleaned_data.get("emails", "").split(",") if e.strip()]
        for email in emails:
            validate_email(email)
        return ", ".join(emails)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        secret = data.get("new_secret", "")
        has_secret = bool(secret) or bool(self.instance.pk and self.instance.secret)
        if kind == ChannelKind.EMAIL:
            if not data.get("emails"):
                self.add_error("emails", "An e-mail channel needs at least one address.")
            return data
        if kind and not has_secret:
            self.add_error("new_secret", f"Enter {SECRET_HELP.get(kind, 'the token or URL')}.")
            return data
        if kind == ChannelKind.TELEGRAM and not data.get("chat_id"):
            self.add_error("chat_id", "A Telegram channel needs the chat id.")
        if secret and kind in (ChannelKind.SLACK, ChannelKind.DISCORD, ChannelKind.WEBHOOK):
            try:
                validate_public_url(secret)
            except ValidationError as exc:
                self.add_error("new_secret", exc)
                return data
        if secret and kind:
            probe = AlertChannel(kind=kind, chat_id=data.get("chat_id") or "x")
            probe.secret = Secret(secret)
            try:
                channels.target(probe)
            except channels.ChannelError as exc:
                self.add_error("new_secret", str(exc))
        return data

    def save(self, commit: bool = True) -> AlertChannel:
        channel = super().save(commit=False)
        channel.alert_kinds = list(self.cleaned_data.get("alert_kinds") or [])
        if self.cleaned_data.get("new_secret"):
            channel.secret = self.cleaned_data["new_secret"]
        if commit:
            channel.save()
        return channel


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    form = AlertChannelForm
    list_display = (
        "name",
        "kind",
        "account",
        "kinds",
        "enabled",
        "last_test_at",
        "last_test_result",
    )
    list_filter = ("kind", "enabled")
    readonly_fields = ("stored_secret", "last_test_at", "last_test_result")
    fields = (
        "name",
        "kind",
        "stored_secret",
        "new_secret",
        "chat_id",
        "emails",
        "account",
        "alert_kinds",
        "enabled",
        "last_test_at",
        "last_test_result",
    )

    @admin.display(description="alert kinds")
    def kinds(self, obj: AlertChannel) -> str:
        return ", ".join(obj.alert_kinds) or "every kind"

    @admin.display(description="stored token or URL")
    def stored_secret(self, obj: AlertChannel) -> str:
        return "set (hidden)" if obj.secret else "not set"

    @method_decorator(sensitive_post_parameters("new_secret"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().changeform_view(request, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: AlertChannel, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = [f for f in form.changed_data if f != "new_secret"]
        if form.cleaned_data.get("new_secret"):
            changed.append("secret (replaced)")
        AuditEvent.record(
            "alert_channel.changed" if change else "alert_channel.created",
            obj,
            actor=request.user,
            details={"kind": obj.kind, "changed": changed},  # never the token or URL
        )

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/send-test/",
                self.admin_site.admin_view(require_POST(self.send_test_view)),
                name="balances_alertchannel_send_test",
            )
        ]
        return own + super().get_urls()

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        channel = get_object_or_404(AlertChannel, pk=pk)
        if not self.has_change_permission(request, channel):
            messages.error(request, "You may not use this channel.")
        else:
            result = channels.send_test(channel)
            if result == "ok":
                messages.success(request, f"Test message sent on {channel.name}.")
            else:
                messages.error(request, f"The test message was not sent: {result}")
        return HttpResponseRedirect(reverse("admin:balances_alertchannel_change", args=[pk]))
