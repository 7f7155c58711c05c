"""One account whose secret cannot be decrypted must not take the console down (issue 8, part 5).

Two ways it happens in real life: the field key in use is not the one the secrets were encrypted
with (every account unreadable), or one stored token is damaged (one account unreadable). In both
every page still answers, the broken account says what is wrong and can be fixed in admin, and
nothing that would use its credentials sends a request.
"""

from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from energydash.balances import tasks
from energydash.balances.models import AccountBalanceState
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders import quotes
from energydash.orders.models import Order
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec, PlacementRefused
from energydash.providers.credentials import UNREADABLE
from energydash.providers.models import ProviderAccount
from energydash.sandbox.models import SandboxAccount, SandboxOrder
from tests.core.test_admin_vault import form_data
from tests.core.test_vault import corrupt
from tests.sandbox.conftest import live_sandbox  # noqa: F401  (fixture)

ADDRESS = "TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kw"
PAGES = (
    ("home", ()),
    ("orders:list", ()),
    ("orders:new", ()),
    ("providers", ()),
    ("balances:alerts", ()),
    ("admin:providers_provideraccount_changelist", ()),
)


@pytest.fixture(params=["wrong field key", "one corrupted ciphertext"])
def broken(request, settings, itrx_account, tronzap_account, netts_account) -> ProviderAccount:
    """The itrx account made unreadable one way or the other; returns it."""
    if request.param == "wrong field key":
        settings.ENERGYDASH_FIELD_KEYS = [Fernet.generate_key().decode()]
    else:
        corrupt(itrx_account, "api_secret")
    return itrx_account


def test_every_console_page_answers_and_names_the_problem(admin_client_, broken):
    for name, args in PAGES:
        response = admin_client_.get(reverse(name, args=args))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "gAAAA" not in html, name  # never the ciphertext
        if name in ("home", "providers", "admin:providers_provideraccount_changelist"):
            assert UNREADABLE in html, name
    change = admin_client_.get(reverse("admin:providers_provideraccount_change", args=[broken.pk]))
    assert change.status_code == 200
    assert UNREADABLE in change.content.decode()


def test_the_other_accounts_show_no_such_problem_when_only_one_token_is_damaged(
    viewer_client, itrx_account, tronzap_account
):
    corrupt(itrx_account, "api_secret")
    html = viewer_client.get(reverse("providers")).content.decode()
    assert html.count(UNREADABLE) == 1
    assert "••••0001" in html  # tronzap's key still shows its mask


def test_admin_refuses_to_keep_an_unreadable_value_and_saving_new_ones_fixes_it(
    admin_client_, broken
):
    url = reverse("admin:providers_provideraccount_change", args=[broken.pk])
    before = admin_client_.get(reverse("providers")).content.decode().count(UNREADABLE)
    kept = admin_client_.post(url, form_data(broken))
    assert kept.status_code == 200
    assert f"The stored secret: {UNREADABLE}." in kept.content.decode()

    fixed = admin_client_.post(
        url,
        form_data(broken, new_api_key="NEW-KEY-0000000000001", new_api_secret="new-secret-000001"),
    )
    assert fixed.status_code == 302
    account = ProviderAccount.objects.get(pk=broken.pk)
    assert account.credentials_readable
    assert account.credentials().api_secret.reveal() == "new-secret-000001"
    after = admin_client_.get(reverse("providers")).content.decode().count(UNREADABLE)
    assert after < before  # (with a wrong field key the other accounts still need new values)


def test_refresh_with_a_wrong_field_key_skips_every_account_with_the_reason(
    settings, itrx_account, tronzap_account, monkeypatch
):
    settings.ENERGYDASH_FIELD_KEYS = [Fernet.generate_key().decode()]
    sent: list[httpx.Request] = []
    monkeypatch.setattr(httpx.Client, "send", lambda self, request, **kw: sent.append(request))
    summary = tasks.refresh_balances()
    assert summary == "0 refreshed, 2 failed"
    assert sent == []
    for state in AccountBalanceState.objects.all():
        assert state.last_error == UNREADABLE
        assert state.balance_sun is None


# Against the sandbox over real HTTP: one account damaged, the other two keep working. ----------

KEYS = {
    "itrx": ("UNREADABLEITRXKEY000000000000001", "unreadable-itrx-secret"),
    "tronzap": ("unreadable-tz-token-01", "unreadable-tz-secret"),
    "netts": ("u" * 32, ""),
}


@pytest.fixture
def three(settings, live_sandbox) -> dict[str, ProviderAccount]:  # noqa: F811
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    accounts = {}
    for kind, (key, secret) in KEYS.items():
        SandboxAccount.objects.create(
            provider=kind,
            name=f"unreadable box {kind}",
            api_key=key,
            api_secret=secret,
            balance_sun=100 * SUN_PER_TRX,
            whitelist_ips="203.0.113.7",
        )
        accounts[kind] = ProviderAccount.objects.create(
            name=f"acct {kind}",
            provider=kind,
            base_url=f"{live_sandbox}/sandbox/{kind}",
            api_key=key,
            api_secret=secret,
            egress_ip="203.0.113.7" if kind == "netts" else None,
        )
    corrupt(accounts["itrx"], "api_secret")
    return accounts


def test_refresh_skips_the_unreadable_account_and_refreshes_the_others(three):
    assert tasks.refresh_balances() == "2 refreshed, 1 failed"
    states = {s.account.provider: s for s in AccountBalanceState.objects.select_related("account")}
    assert states["itrx"].last_error == UNREADABLE
    assert states["itrx"].balance_sun is None
    for kind in ("tronzap", "netts"):
        assert states[kind].last_error == ""
        assert states[kind].balance_sun == 100 * SUN_PER_TRX


def test_quotes_give_the_reason_for_that_account_and_prices_for_the_others(three):
    specs = [
        OrderSpec(account=a, kind="energy", receive_address=ADDRESS, energy=65_000)
        for a in ProviderAccount.objects.all()
    ]
    rows = {row.account.provider: row for row in quotes.compare(specs)}
    assert UNREADABLE in rows["itrx"].error
    assert rows["itrx"].total_sun is None
    assert rows["tronzap"].available and rows["netts"].available


def test_placement_is_refused_with_the_reason_and_sends_nothing(three):
    sent: list[httpx.Request] = []
    counting = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r)))
    account = ProviderAccount.objects.get(provider="itrx")
    spec = OrderSpec(account=account, kind="energy", receive_address=ADDRESS, energy=65_000)
    with pytest.raises(PlacementRefused) as excinfo:
        place_order(spec, idempotency_key="unreadable-1", client=counting)
    assert str(excinfo.value) == f"acct itrx: {UNREADABLE}."
    assert sent == []
    assert not Order.objects.exists()
    assert not SandboxOrder.objects.exists()
