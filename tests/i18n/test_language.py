"""The console's language: English by default, the browser's Accept-Language when it names one
of ours, and a signed-in user's own choice (stored on the user) above both; the API stays
English; admin speaks Django's own translations; money and dates as each language writes them,
from the same integer sun."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import translation

from energydash.balances.models import AccountBalanceState
from energydash.console.batches.forms import BatchForm
from energydash.console.templatetags.money import energy, trx, ts
from energydash.core.models import UserPreferences
from energydash.orders.models import Order, Status
from tests.orders.conftest import address

pytestmark = pytest.mark.django_db


def heading(response) -> str:
    return re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


def test_english_by_default_and_for_a_browser_asking_for_a_language_we_do_not_have(
    operator_client,
):
    response = operator_client.get("/")
    assert heading(response) == "Dashboard"
    assert '<html lang="en">' in response.content.decode()
    response = operator_client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert heading(response) == "Dashboard"


@pytest.mark.parametrize(
    ("accept", "lang", "title"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans", "仪表盘"),
        ("zh-Hans", "zh-hans", "仪表盘"),
        ("ru-RU,ru;q=0.9", "ru", "Панель"),
    ],
)
def test_the_browsers_language_is_the_default(operator_client, accept, lang, title):
    response = operator_client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert heading(response) == title
    assert f'<html lang="{lang}">' in response.content.decode()
    assert response["Content-Language"] == lang


def test_a_users_choice_is_stored_and_wins_over_the_browser_in_every_later_session(
    operator, operator_client
):
    response = operator_client.post("/account/language/", {"language": "ru", "next": "/orders/"})
    assert response.status_code == 302 and response["Location"] == "/orders/"
    assert UserPreferences.objects.get(user=operator).language == "ru"
    page = operator_client.get("/orders/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert heading(page) == "Заказы"

    # Another browser, a new login, asking for Chinese: the stored choice applies at login.
    other = Client()
    other.force_login(operator)
    assert heading(other.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")) == "Панель"

    # Back to "as the browser asks": the browser's language again.
    operator_client.post("/account/language/", {"language": "", "next": "/"})
    assert UserPreferences.objects.get(user=operator).language == ""
    assert heading(operator_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")) == "仪表盘"
    assert heading(operator_client.get("/")) == "Dashboard"


def test_an_unknown_language_changes_nothing_and_says_so(operator, operator_client):
    operator_client.post("/account/language/", {"language": "zh-hans", "next": "/"})
    response = operator_client.post(
        "/account/language/", {"language": "xx", "next": "/"}, follow=True
    )
    assert UserPreferences.objects.get(user=operator).language == "zh-hans"
    assert "不支持该语言；未做任何更改。" in response.content.decode()


def test_the_switch_answers_htmx_with_a_redirect_and_refuses_an_off_site_next(operator_client):
    response = operator_client.post(
        "/account/language/",
        {"language": "ru", "next": "https://evil.example/"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/"


def test_the_switch_needs_the_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = client.post("/account/language/", {"language": "ru", "next": "/"})
    assert response.status_code == 403
    assert not UserPreferences.objects.filter(user=operator, language="ru").exists()
    # The top bar's switch carries the token and the current page to come back to.
    page = client.get("/orders/?status=open").content.decode()
    form = re.search(r'<form class="language".*?</form>', page, re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'name="next" value="/orders/?status=open"' in form
    assert 'hx-post="/account/language/"' in form


def test_the_login_page_can_be_switched_before_logging_in(client):
    response = client.post("/account/language/", {"language": "zh-hans", "next": "/login/"})
    assert response.cookies["django_language"].value == "zh-hans"
    assert heading(client.get("/login/")) == "登录"


def test_the_api_stays_english_whatever_the_client_asks(operator_client):
    response = operator_client.get("/api/v1/orders", HTTP_ACCEPT_LANGUAGE="ru")
    assert response["Content-Language"] == "en"


def test_admin_speaks_djangos_own_translations(admin_client):
    response = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ru")
    assert "Администрирование сайта" in response.content.decode()
    response = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "站点管理" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "amount", "grouped"),
    [
        ("en", "1,234,567.890123", "131,000"),
        ("zh-hans", "1,234,567.890123", "131,000"),
        ("ru", "1\xa0234\xa0567,890123", "131\xa0000"),
    ],
)
def test_money_is_written_per_language_from_the_exact_sun(language, amount, grouped):
    with translation.override(language):
        assert trx(1_234_567_890_123) == amount  # every one of the six places, none rounded
        assert energy(131_000) == grouped
        assert trx(1, 6).endswith("000001")
        assert trx(None) == "—"


def test_times_keep_the_utc_offset_in_every_language(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    moment = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    with translation.override("en"):
        assert ts(moment) == "2026-03-10 04:00:00 UTC+08:00"
    with translation.override("zh-hans"):
        assert ts(moment) == "2026-03-10 04:00:00 UTC+08:00"
    with translation.override("ru"):
        assert ts(moment) == "10.03.2026 04:00:00 UTC+08:00"


@pytest.mark.parametrize(
    ("language", "typed", "sun"),
    [
        ("ru", "1,5", 1_500_000),
        ("ru", "1 234,5", 1_234_500_000),
        ("ru", "1\xa0234,000001", 1_234_000_001),
        ("en", "1,234.5", 1_234_500_000),
        ("zh-hans", "1,234.5", 1_234_500_000),
    ],
)
def test_a_typed_amount_is_read_as_the_operators_language_writes_it(language, typed, sun):
    form_data = {"addresses": address("lang"), "energy": "65000", "period": "1H"}
    with translation.override(language):
        form = BatchForm({**form_data, "max_cost_trx": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["max_cost_trx"] == sun


def test_an_amount_mixing_both_marks_is_refused_in_russian_not_guessed():
    form_data = {"addresses": address("lang"), "energy": "65000", "period": "1H"}
    with translation.override("ru"):
        form = BatchForm({**form_data, "max_cost_trx": "1,000.5"})
        assert not form.is_valid()
        assert "1 234,5" in str(form.errors["max_cost_trx"])


def test_pages_show_amounts_per_language_and_chart_coordinates_stay_numbers(
    operator, operator_client, itrx_account
):
    AccountBalanceState.objects.create(
        account=itrx_account,
        balance_sun=1_234_567_890_123,
        as_of=datetime.now(UTC),
        source="refresh",
    )
    Order.objects.create(
        account=itrx_account,
        kind="energy",
        receive_address=address("lang"),
        energy=131_000,
        period="1H",
        quoted_cost_sun=8_515_001,
        cost_sun=8_515_001,
        burn_sun_per_energy=100,
        status=Status.COMPLETED,
    )
    UserPreferences.objects.create(user=operator, language="ru")
    operator_client.force_login(operator)
    page = operator_client.get("/").content.decode()
    assert "1\xa0234\xa0567,89" in page  # the balance, two places in the table
    # SVG coordinates are numbers for the browser, never "12,5".
    assert not re.search(r'\b(x|y|cx|cy|x1|x2|y1|y2|width|height)="-?\d+,\d', page)
    orders = operator_client.get("/orders/").content.decode()
    assert "8,52" in orders and "131\xa0000" in orders
