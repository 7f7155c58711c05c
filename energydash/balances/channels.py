"""Alert channels: Telegram, Slack, Discord and generic webhooks through Apprise, e-mail through
Django's mailer (README "Monitoring", Alert channels).

Every alert (balances.models.Alert) is sent to each enabled channel that wants it (its account or
every account, its kinds or every kind) once when it is raised, then again every
ENERGYDASH_ALERT_RENOTIFY_MINUTES while nobody acknowledged or resolved it. Each send is claimed
first with one conditional UPDATE of the alert's notified_at, so two workers never both send the
same round.

Apprise sends with its own HTTP client (requests), so the destination host is checked against the
outbound guard (core/outbound.py) before each send, and again when Apprise connects: the send runs
inside outbound.guarded_sockets(), where every connection resolves the name once, refuses it when
any address is not public (and the host is not in ENERGYDASH_WEBHOOK_ALLOWED_HOSTS), and dials
only the vetted address. So a name that resolves inside only by the time Apprise connects (DNS
rebinding) is refused too. Apprise follows no redirect here. E-mail goes through Django's mailer,
the same SMTP settings the alert e-mails use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import apprise
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from energydash.balances.models import Alert, AlertChannel, AlertKind, ChannelKind
from energydash.core import outbound
from energydash.lib.tron import format_trx

logger = logging.getLogger("energydash.alerts")


class ChannelError(Exception):
    """A channel cannot be used as configured (the message never holds its secret)."""


@dataclass(frozen=True)
class Target:
    url: str  # the Apprise URL: holds the secret, never logged or shown
    host: str  # where Apprise will connect, for the outbound guard
    port: int


def _plugin_endpoint(plugin: type, attribute: str) -> tuple[str, int]:
    parts = urlsplit(getattr(plugin, attribute))
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def target(channel: AlertChannel) -> Target:
    """The Apprise URL of a chat or webhook channel, and the host it will reach."""
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.slack import NotifySlack
    from apprise.plugins.telegram import NotifyTelegram

    secret = channel.secret.reveal() if channel.secret else ""
    if not secret:
        raise ChannelError("no token or URL is stored for this channel")
    if channel.kind == ChannelKind.TELEGRAM:
        if not channel.chat_id:
            raise ChannelError("a Telegram channel needs a chat id")
        host, port = _plugin_endpoint(NotifyTelegram, "notify_url")
        return Target(f"tgram://{secret}/{channel.chat_id}/", host, port)
    parts = urlsplit(secret)
    if parts.scheme != "https" and channel.kind != ChannelKind.WEBHOOK:
        raise ChannelError("the webhook URL must start with https://")
    if channel.kind == ChannelKind.SLACK:
        segments = [s for s in parts.path.split("/") if s]
        if (
            parts.hostname != "hooks.slack.com"
            or segments[:1] != ["services"]
            or len(segments) != 4
        ):
            raise ChannelError(
                "a Slack webhook URL looks like https://hooks.slack.com/services/T…/B…/…"
            )
        host, port = _plugin_endpoint(NotifySlack, "webhook_url")
        return Target("slack://" + "/".join(segments[1:]), host, port)
    if channel.kind == ChannelKind.DISCORD:
        segments = [s for s in parts.path.split("/") if s]
        if (
            parts.hostname not in ("discord.com", "discordapp.com")
            or segments[:2]
            != [
                "api",
                "webhooks",
            ]
            or len(segments) != 4
        ):
            raise ChannelError(
                "a Discord webhook URL looks like https://discord.com/api/webhooks/ID/TOKEN"
            )
        host, port = _plugin_endpoint(NotifyDiscord, "notify_url")
        return Target(f"discord://{segments[2]}/{segments[3]}/", host, port)
    if channel.kind == ChannelKind.WEBHOOK:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelError("the webhook URL must be an http:// or https:// URL")
        scheme = "jsons" if parts.scheme == "https" else "json"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        # Apprise reads its own options from the query; "-name" passes a parameter through.
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = ("?" + urlencode([(f"-{k}", v) for k, v in pairs])) if pairs else ""
        return Target(f"{scheme}://{netloc}{parts.path or '/'}{query}", parts.hostname, port)
    raise ChannelError(f"{channel.kind} is not a chat or webhook channel")


def _scrub(text: str, channel: AlertChannel) -> str:
    secret = channel.secret.reveal() if channel.secret and channel.secret.readable else ""
    for piece in {secret, *[p for p in secret.split("/") if len(p) >= 6]}:
        if piece:
            text = text.replace(piece, "••••")
    return text[:300]


def send(channel: AlertChannel, title: str, body: str) -> str:
    """Send one message on one channel; "ok", or why not in words (never the secret)."""
    try:
        if channel.kind == ChannelKind.EMAIL:
            to = [e.strip() for e in channel.emails.split(",") if e.strip()]
            if not to:
                raise ChannelError("no e-mail address is set")
            send_mail(title, body, settings.DEFAULT_FROM_EMAIL, to)
            return "ok"
        where = target(channel)
        outbound.check_host(where.host, where.port)
        notifier = apprise.Apprise(asset=apprise.AppriseAsset(http_redirects=False))
        if not notifier.add(where.url):
            raise ChannelError("Apprise did not accept this channel's settings")
        with (
            outbound.guarded_sockets() as guard,
            apprise.LogCapture(level=apprise.logging.WARNING) as captured,
        ):
            ok = notifier.notify(title=title, body=body)
        if guard.refused:
            return outbound.REFUSED_PRIVATE
        if ok:
            return "ok"
        detail = captured.getvalue().strip().splitlines()
        return _scrub("not delivered" + (f": {detail[-1]}" if detail else ""), channel)
    except outbound.Refused:
        return outbound.REFUSED_PRIVATE
    except ChannelError as exc:
        return str(exc)
    except Exception as exc:  # any sending failure: say what kind, never the secret
        logger.warning("alert channel %s failed: %s", channel.name, type(exc).__name__)
        return _scrub(f"not delivered: {type(exc).__name__}", channel)


def inbox_url() -> str:
    path = reverse("balances:alerts")
    return f"{settings.ENERGYDASH_PUBLIC_URL}{path}" if settings.ENERGYDASH_PUBLIC_URL else path


def message(alert: Alert, *, again: bool = False) -> tuple[str, str]:
    title = ("Still open: " if again else "") + alert.subject
    lines = [str(AlertKind(alert.kind).label) if alert.kind in AlertKind.values else alert.kind]
    if alert.account_id:
        lines.append(f"Account: {alert.account.name} ({alert.account.provider})")
    if alert.kind in (AlertKind.LOW_BALANCE, AlertKind.REFRESH_FAILING) and alert.balance_sun:
        lines.append(
            f"Balance: {format_trx(alert.balance_sun, 2)} TRX "
            f"(threshold {format_trx(alert.threshold_sun, 2)} TRX)"
        )
    if alert.runway_days is not None:
        lines.append(f"Runway: {alert.runway_days} days")
    if alert.problem:
        lines.append(f"Problem: {alert.problem}")
    lines.append(f"Acknowledge it in the inbox: {inbox_url()}")
    return title, "\n".join(lines)


def _claim(alert_id: int, now: datetime, *, again: bool) -> bool:
    rows = Alert.objects.filter(pk=alert_id)
    if again:
        cutoff = now - timedelta(minutes=settings.ENERGYDASH_ALERT_RENOTIFY_MINUTES)
        rows = rows.filter(
            acknowledged_at__isnull=True, resolved_at__isnull=True, notified_at__lte=cutoff
        )
    else:
        rows = rows.filter(notified_at__isnull=True)
    return rows.update(notified_at=now, notify_count=F("notify_count") + 1) == 1


def notify(
    alert_id: int, *, again: bool = False, now: datetime | None = None
) -> dict[str, str] | None:
    """One round for one alert: claim it, then send to every channel that wants it. None when
    the round was not this caller's (already sent, acknowledged, or not due)."""
    now = now or timezone.now()
    if not _claim(alert_id, now, again=again):
        return None
    alert = Alert.objects.select_related("account").get(pk=alert_id)
    title, body = message(alert, again=again)
    results = {
        channel.name: send(channel, title, body)
        for channel in AlertChannel.objects.filter(enabled=True)
        if channel.wants(alert)
    }
    if results:
        Alert.objects.filter(pk=alert_id).update(channel_results=results)
    return results


def renotify_due(now: datetime | None = None) -> int:
    """Send again every open alert whose last round is older than the setting."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ENERGYDASH_ALERT_RENOTIFY_MINUTES)
    open_alerts = Alert.objects.filter(acknowledged_at__isnull=True, resolved_at__isnull=True)
    due = open_alerts.filter(notified_at__lte=cutoff).values_list("pk", flat=True)[:100]
    sent = sum(1 for pk in list(due) if notify(pk, again=True, now=now) is not None)
    # Never sent (its task was lost): sent now, a minute late rather than never.
    missed = open_alerts.filter(
        notified_at__isnull=True, created__lte=now - timedelta(minutes=1)
    ).values_list("pk", flat=True)[:100]
    return sent + sum(1 for pk in list(missed) if notify(pk, now=now) is not None)


def send_test(channel: AlertChannel) -> str:
    result = send(
        channel,
        "energydash: test message",
        f"This is a test of the alert channel {channel.name!r}. Alerts: {inbox_url()}",
    )
    AlertChannel.objects.filter(pk=channel.pk).update(
        last_test_at=timezone.now(), last_test_result=result[:300]
    )
    return result


def acknowledge(alert: Alert, user: object) -> bool:
    """Acknowledge an open alert (stops re-notifying); False when it was not open."""
    return (
        Alert.objects.filter(
            pk=alert.pk, acknowledged_at__isnull=True, resolved_at__isnull=True
        ).update(acknowledged_at=timezone.now(), acknowledged_by=user)
        == 1
    )


def resolve(alert: Alert, user: object) -> bool:
    return (
        Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=user
        )
        == 1
    )


def open_count() -> int:
    return Alert.objects.filter(acknowledged_at__isnull=True, resolved_at__isnull=True).count()


def on_alert_saved(sender: type, instance: Alert, created: bool, **kwargs: object) -> None:
    """post_save of Alert: a new alert is queued for its channels after the commit."""
    if not created or kwargs.get("raw"):
        return
    from django.db import transaction

    def queue() -> None:
        try:
            from django_q.tasks import async_task

            async_task(NOTIFY_TASK, instance.pk, task_name=f"alerts: notify {instance.pk}")
        except Exception:  # the broker is down: the re-notify schedule sends it later
            logger.exception("could not queue alert %s for its channels", instance.pk)

    transaction.on_commit(queue)


NOTIFY_TASK = "energydash.balances.tasks.notify_alert"
