from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from energydash.core.models import AuditEvent
from energydash.lib.money_fields import plain_trx
from energydash.providers.models import ProviderAccount

SECRET = "0285A2741D0E76E2E187260EB23E51851D48403A756333E7D0CF845406ABF3E8"
KEY = "B433BFF1CDE7450AA38A56BEAC690DD4"


def form_data(account: ProviderAccount, **overrides) -> dict:
    data = {
        "name": account.name,
        "provider": account.provider,
        "enabled": "on",
        "new_api_key": "",
        "new_api_secret": "",
        "base_url": account.base_url,
        "egress_ip": account.egress_ip or "",
        "low_balance_threshold_sun": plain_trx(account.low_balance_threshold_sun),  # typed in TRX
        "alert_emails": account.alert_emails,
        "max_order_sun": "",
        "daily_budget_sun": "",
        "timeout_seconds": account.timeout_seconds,
        "connect_timeout_seconds": account.connect_timeout_seconds,
        "priority": account.priority,
    }
    data.update(overrides)
    return data


def test_admin_change_page_and_list_never_contain_the_secret(admin_client_, itrx_account):
    change = admin_client_.get(
        reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    )
    listing = admin_client_.get(reverse("admin:providers_provideraccount_changelist"))
    search = admin_client_.get(
        reverse("admin:providers_provideraccount_changelist"), {"q": SECRET[:10]}
    )
    for response in (change, listing, search):
        assert response.status_code == 200
        html = response.content.decode()
        assert SECRET not in html and KEY not in html
        assert "gAAAA" not in html  # nor the ciphertext
    assert "••••F3E8" in change.content.decode()
    assert "itrx main" not in search.content.decode().split("<tbody>")[-1]  # search ignores secrets


def test_a_blank_secret_field_keeps_the_stored_value(admin_client_, itrx_account):
    url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    response = admin_client_.post(url, form_data(itrx_account, low_balance_threshold_sun=5))
    assert response.status_code == 302
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert account.api_secret.reveal() == SECRET
    assert account.api_key.reveal() == KEY
    assert account.low_balance_threshold_sun == 5_000_000  # 5 TRX, typed in TRX


def test_changing_a_secret_in_admin_writes_an_audit_row_without_the_value(
    admin_client_, itrx_account, admin_user
):
    url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    new_secret = "NEW-SECRET-VALUE-0123456789abcdef"
    response = admin_client_.post(url, form_data(itrx_account, new_api_secret=new_secret))
    assert response.status_code == 302
    assert ProviderAccount.objects.get(pk=itrx_account.pk).api_secret.reveal() == new_secret
    event = AuditEvent.objects.get(action="provider_account.changed")
    assert event.actor == admin_user
    assert event.details["secrets_changed"] == ["api_secret"]
    dumped = (
        str(event.details)
        + str(event)
        + "".join(str(e.change_message) for e in LogEntry.objects.all())
    )
    assert new_secret not in dumped and SECRET not in dumped


def test_adding_an_account_in_admin_is_audited_and_needs_a_key(admin_client_):
    url = reverse("admin:providers_provideraccount_add")
    base = form_data(
        ProviderAccount(name="tz", provider="tronzap"), new_api_secret="s3cret-value-xyz"
    )
    refused = admin_client_.post(url, base)
    assert refused.status_code == 200
    assert "An API key is required." in refused.content.decode()
    assert not ProviderAccount.objects.exists()

    created = admin_client_.post(url, {**base, "new_api_key": "token-abcdefgh1234"})
    assert created.status_code == 302
    account = ProviderAccount.objects.get(name="tz")
    assert account.effective_base_url == "https://api.tronzap.com"
    event = AuditEvent.objects.get(action="provider_account.created")
    assert sorted(event.details["secrets_changed"]) == ["api_key", "api_secret"]
    assert "token-abcdefgh1234" not in str(event.details)


def test_netts_needs_its_whitelisted_egress_ip(admin_client_):
    url = reverse("admin:providers_provideraccount_add")
    data = form_data(ProviderAccount(name="n", provider="netts"), new_api_key="k" * 32)
    response = admin_client_.post(url, data)
    assert "X-Real-IP" in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_deleting_an_account_is_audited(admin_client_, itrx_account):
    url = reverse("admin:providers_provideraccount_delete", args=[itrx_account.pk])
    assert admin_client_.post(url, {"post": "yes"}).status_code == 302
    assert AuditEvent.objects.filter(action="provider_account.deleted").count() == 1


def test_audit_events_are_read_only_in_admin(admin_client_, itrx_account):
    event = AuditEvent.record("test.event", itrx_account, actor_label="test")
    url = reverse("admin:core_auditevent_change", args=[event.pk])
    assert admin_client_.get(url).status_code == 200
    assert admin_client_.post(url, {"action": "tampered"}).status_code == 403
    assert admin_client_.get(reverse("admin:core_auditevent_add")).status_code == 403


def test_viewers_and_operators_cannot_open_the_vault(client, viewer, operator, itrx_account):
    for user in (viewer, operator):
        client.force_login(user)
        url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
        assert client.get(url).status_code == 302  # to the admin login: not staff
