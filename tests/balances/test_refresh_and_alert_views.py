from __future__ import annotations

from django.urls import reverse

from energydash.balances.models import Alert, BalanceSnapshot
from energydash.balances.services import state_for
from energydash.lib.tron import SUN_PER_TRX

REFRESH = reverse("balances:refresh")


def fake_refresh(monkeypatch, balances: dict[str, int | None]):
    """Refresh without a provider: the named account gets the balance, or a failure for None."""
    from energydash.balances import services
    from energydash.providers.base import UNAVAILABLE, ProviderError

    def refresh_account(account, *, source="refresh", client=None):
        value = balances[account.name]
        if value is None:
            services.record_refresh_error(account, ProviderError(UNAVAILABLE, "down"))
            return None
        return services.record_balance(account, value, source=source)

    monkeypatch.setattr("energydash.balances.passes.refresh_account", refresh_account)


def test_a_viewer_may_not_refresh_balances(viewer_client, itrx_account):
    response = viewer_client.post(REFRESH)
    assert response.status_code == 403
    assert not BalanceSnapshot.objects.exists()


def test_an_anonymous_visitor_may_not_refresh_balances(client, itrx_account):
    assert client.post(REFRESH).status_code == 302
    assert not BalanceSnapshot.objects.exists()


def test_refresh_is_post_only(operator_client, db):
    assert operator_client.get(REFRESH).status_code == 405


def test_an_operator_refreshes_through_htmx_and_gets_the_balances_fragment(
    operator_client, itrx_account, tronzap_account, monkeypatch
):
    fake_refresh(monkeypatch, {"itrx main": 42 * SUN_PER_TRX, "tronzap main": None})
    response = operator_client.post(REFRESH, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="accounts"')
    assert "itrx main: 42.000000 TRX" in html
    assert "tronzap main: error: provider unavailable" in html
    snapshot = BalanceSnapshot.objects.get()
    assert snapshot.source == "manual"


def test_an_admin_refreshes_without_javascript_and_is_sent_back_with_messages(
    admin_client_, itrx_account, monkeypatch
):
    fake_refresh(monkeypatch, {"itrx main": 7 * SUN_PER_TRX})
    response = admin_client_.post(REFRESH, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "itrx main: 7.000000 TRX" in response.content.decode()


def test_one_account_can_be_refreshed_alone(
    operator_client, itrx_account, tronzap_account, monkeypatch
):
    fake_refresh(monkeypatch, {"itrx main": 1, "tronzap main": 2})
    operator_client.post(REFRESH, {"account": str(tronzap_account.code)})
    assert state_for(tronzap_account).balance_sun == 2
    assert state_for(itrx_account).balance_sun is None


def test_the_alerts_page_lists_alerts_for_a_viewer(viewer_client, itrx_account):
    Alert.objects.create(
        account=itrx_account,
        kind="low_balance",
        balance_sun=5 * SUN_PER_TRX,
        threshold_sun=100 * SUN_PER_TRX,
        recipients=["ops@example.com"],
        subject="Low balance",
    )
    Alert.objects.create(
        account=itrx_account,
        kind="refresh_failing",
        threshold_sun=100 * SUN_PER_TRX,
        problem="IP not whitelisted",
        subject="failing",
        delivery_error="no recipients: set the account's alert e-mails",
    )
    response = viewer_client.get(reverse("balances:alerts"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Low balance" in html and "ops@example.com" in html and "5.00" in html
    assert "Balance refresh failing: IP not whitelisted" in html
    assert "not sent: no recipients" in html


def test_anonymous_visitors_cannot_see_alerts(client, db):
    assert client.get(reverse("balances:alerts")).status_code == 302
