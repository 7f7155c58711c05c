"""Exactly once: the same confirm form posted many times at once buys once.

Real HTTP against a live server: a logged-in operator's session cookie and CSRF token, N threads
posting the same form (same one-time token) together while the simulated provider answers
slowly, so every request is in flight while the first one is still sending. Runs on SQLite and,
with DATABASE_URL, on PostgreSQL (where request threads really race for the same rows).
No timing assumption: threads are joined and only the final state is asserted.
"""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from energydash.sandbox.models import SandboxOrder
from tests.orders.conftest import address, make_box

LATENCY_MS = 300  # every sandbox request, quotes included: slow enough to overlap, still fast
RECEIVER = address("exactly once")


class _FormInputs(HTMLParser):
    """The named inputs of the form posting to `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form":
            self.inside = attr.get("action") == self.action
        elif tag == "input" and self.inside and attr.get("name"):
            self.fields[attr["name"]] = attr.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def logged_in(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    login = reverse("login")
    page = client.get(login)
    form = _FormInputs(login)
    form.feed(page.text)
    response = client.post(login, data={**form.fields, "username": username, "password": password})
    assert response.status_code == 302, response.text[:500]
    return client


def confirm_form(client: httpx.Client, account_code: str) -> dict[str, str]:
    query = {
        "kind": "energy",
        "receive_address": RECEIVER,
        "energy": "65000",
        "period": "1H",
        "account": account_code,
    }
    page = client.get(f"{reverse('orders:confirm')}?{urlencode(query)}")
    assert page.status_code == 200, page.text[:500]
    form = _FormInputs(reverse("orders:place"))
    form.feed(page.text)
    assert form.fields.get("token") and form.fields.get("csrfmiddlewaretoken"), page.text[:2000]
    return form.fields


def post_together(base: str, cookies: httpx.Cookies, form: dict[str, str], n: int) -> list:
    """n threads, each its own connection with the same session, post the form at once."""
    start = threading.Barrier(n)
    results: list[httpx.Response | BaseException] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            with httpx.Client(base_url=base, cookies=cookies, timeout=120) as client:
                start.wait()
                response = client.post(reverse("orders:place"), data=form)
        except BaseException as exc:  # reported by the assertion below, not lost in a thread
            response = exc
        with lock:
            results.append(response)

    threads = [threading.Thread(target=post) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def plain_http_cookies(settings):
    # The live server speaks plain HTTP; production keeps secure cookies.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.mark.parametrize("racers", [2, 20])
@pytest.mark.parametrize("kind", ["itrx", "tronzap", "netts"])
def test_the_same_confirm_form_posted_at_once_buys_exactly_once(
    kind, racers, live_sandbox, operator, plain_http_cookies
):
    box = make_box(kind, base=live_sandbox, latency_ms=LATENCY_MS)
    before = box.balance()
    browser = logged_in(live_sandbox, "otto", "pw-otto")
    try:
        form = confirm_form(browser, str(box.account.code))
        results = post_together(live_sandbox, browser.cookies, form, racers)
    finally:
        browser.close()

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    order = Order.objects.get()  # one console order
    assert SandboxOrder.objects.filter(account=box.sandbox).count() == 1  # one provider order
    assert order.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
    assert order.cost_sun == before - box.balance() > 0  # recorded = charged
    assert order.idempotency_key == form["token"]
    # Every submit lands on that one order's page; none was refused or failed.
    detail = reverse("orders:detail", args=[order.code])
    assert [(r.status_code, r.headers.get("location")) for r in results] == [(302, detail)] * racers
    assert order.events.filter(kind="exchange", method="POST").count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_place_order_calls_with_one_key_send_once(live_sandbox):
    """The service itself, without the web layer: only the call that created the draft sends
    it; the others get that order back, marked replayed, and send nothing."""
    box = make_box("tronzap", base=live_sandbox, latency_ms=LATENCY_MS)
    spec = OrderSpec(
        account=box.account, kind="energy", receive_address=RECEIVER, energy=65_000, period="1H"
    )
    n = 8
    start = threading.Barrier(n)
    orders: list[Order] = []

    def submit() -> None:
        try:
            start.wait()
            order = place_order(spec, idempotency_key="same-form-token")
            orders.append(order)
        finally:
            if connection.vendor != "sqlite" or not connection.is_in_memory_db():
                connection.close()

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(orders) == n
    assert len({o.pk for o in orders}) == 1
    assert sorted(o.replayed for o in orders) == [False] + [True] * (n - 1)
    assert SandboxOrder.objects.filter(account=box.sandbox).count() == 1
    assert Order.objects.get().events.filter(kind="exchange", method="POST").count() == 1


def test_a_placing_answer_that_arrives_after_the_poller_took_the_draft_is_still_applied(
    itrx, wsgi_app
):
    """A provider slower than DRAFT_GRACE: the poller has moved the draft to unknown while the
    request was out. The answer (id, cost) still lands, on the order's current status; nothing
    is sent twice."""
    from energydash.orders.polling import poll_pass
    from energydash.orders.tracking import DRAFT_GRACE
    from tests.orders.test_hostile_provider import Rewriting

    inner = httpx.WSGITransport(app=wsgi_app)

    class PollerMeanwhile(Rewriting):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                poll_pass(now=timezone.now() + DRAFT_GRACE * 2)  # takes the draft
                assert Order.objects.get().status != Status.DRAFT
            return self.inner.handle_request(request)

    before = itrx.balance()
    spec = OrderSpec(
        account=itrx.account, kind="energy", receive_address=RECEIVER, energy=65_000, period="1H"
    )
    with httpx.Client(transport=PollerMeanwhile(inner)) as client:
        order = place_order(spec, client=client)
    order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert order.provider_ref and order.cost_sun == before - itrx.balance()
    assert SandboxOrder.objects.count() == 1
    states = list(order.events.filter(kind="state").values_list("from_status", "to_status"))
    assert states[0] == (Status.DRAFT, Status.UNKNOWN)
    assert states[-1][1] == order.status


@pytest.mark.django_db(transaction=True)
def test_a_resubmitted_form_says_nothing_more_was_sent(live_sandbox, operator, plain_http_cookies):
    """The person who double-clicked is told the second click bought nothing."""
    box = make_box("itrx", base=live_sandbox)
    browser = logged_in(live_sandbox, "otto", "pw-otto")
    try:
        form = confirm_form(browser, str(box.account.code))
        first = browser.post(reverse("orders:place"), data=form, follow_redirects=True)
        again = browser.post(reverse("orders:place"), data=form, follow_redirects=True)
    finally:
        browser.close()
    assert "Order placed with" in first.text
    assert "already submitted" in again.text and "Nothing more was sent" in again.text
    assert SandboxOrder.objects.count() == 1 and Order.objects.count() == 1
