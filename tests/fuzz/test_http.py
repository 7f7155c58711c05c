"""A bounded fuzz pass over the console: every form, filter and query parameter a page offers,
and the itrx callback, get hostile values (NUL bytes, huge, negative and non-finite numbers, far
dates, duplicated parameters, markup, very long text). No answer may be a 5xx.

The targets are found by crawling, not listed by hand: each page is fetched as an admin and its
forms (fields, select options) and filter links (query keys) become targets, so a field added
tomorrow is fuzzed tomorrow. Provider accounts point at a closed local port: live quotes and
placing fail fast with the "provider unavailable" path, which must not 500 either.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import given
from hypothesis import strategies as st

from energydash.orders.models import Status
from energydash.providers.itrx import sign as itrx_sign
from energydash.providers.models import ProviderAccount
from tests.balances.factories import order as make_order
from tests.fuzz.conftest import fuzz
from tests.fuzz.strategies import HOSTILE, HOSTILE_STRINGS, JSON, mutated
from tests.providers import fixtures as fx
from tests.signin import sign_in

CLOSED_PORT = "http://127.0.0.1:9"  # discard port: connection refused at once
SKIP_PATHS = ("/logout/", "/admin/logout/", "/api/")  # the API has its own schema-driven tests
SKIP_POST = ("/delete/", "/password/", "/admin/password_change/")  # would end the session


@dataclass
class Target:
    method: str
    path: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> sample values


class _Forms(HTMLParser):
    """Collects forms (method, action, field names with their values/options) and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Target] = []
        self.links: list[str] = []
        self._form: Target | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Target(a.get("method", "get").upper(), a.get("action", ""))
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif self._form is not None and tag in ("input", "select", "textarea", "button"):
            name = a.get("name")
            if name:
                values = self._form.fields.setdefault(name, [])
                if a.get("value"):
                    values.append(a["value"])
                if tag == "select":
                    self._select = name
        elif tag == "option" and self._form is not None and self._select:
            self._form.fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _uuid_args(pattern: str, codes: list[str]) -> list[str]:
    """Fill <uuid:...> converters with every known code (and one unknown)."""
    return [pattern.replace("<uuid:code>", code) for code in [*codes, str(uuid.uuid4())]]


def seed_paths(codes: list[str]) -> list[str]:
    """Every console URL without admin's generic patterns, its arguments filled in."""
    paths: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith(("admin/", "api/")):
                    continue
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                if "<" not in route:
                    paths.append("/" + route)
                elif route.count("<") == 1 and "<uuid:code>" in route:
                    paths.extend("/" + r for r in _uuid_args(route, codes))
                elif "<slug:kind>" in route:
                    paths.extend("/" + route.replace("<slug:kind>", k) for k in ("cost", "price"))

    walk(get_resolver().url_patterns, "")
    return [p for p in paths if not p.startswith(SKIP_PATHS)]


def admin_paths() -> list[str]:
    from django.contrib import admin

    paths = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        paths.append(base)
        if model_admin.has_add_permission(_FakeRequest()):
            paths.append(base + "add/")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            paths.append(f"{base}{first.pk}/change/")
    return paths


class _FakeRequest:
    class user:  # noqa: N801  (a stand-in superuser for has_add_permission)
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(*args, **kwargs) -> bool:
            return True


def crawl(client: Client, paths: list[str]) -> list[Target]:
    """GET every path (none may 5xx), then gather its forms and filter links as targets."""
    targets: list[Target] = []
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if "html" not in response.get("Content-Type", ""):
            targets.append(Target("GET", path))
            continue
        parser = _Forms()
        parser.feed(response.content.decode(errors="replace"))
        query_keys: dict[str, list[str]] = {}
        for href in parser.links:
            parts = urlsplit(href)
            if parts.query and (not parts.path or parts.path == path):
                for key, value in parse_qsl(parts.query, keep_blank_values=True):
                    query_keys.setdefault(key, []).append(value)
        targets.append(Target("GET", path, query_keys))
        for form in parser.forms:
            action = urlsplit(urljoin(path, form.path or path)).path
            if form.method == "POST" and any(s in action for s in SKIP_POST):
                continue
            if action.startswith(SKIP_PATHS) or not action.startswith("/"):
                continue
            targets.append(Target(form.method, action, form.fields))
    return targets


def values_for(samples: list[str]) -> st.SearchStrategy[list[str]]:
    """One to three values: hostile or a real one from the page (so the other fields validate
    and the hostile one reaches deeper), sometimes the same parameter twice."""
    one = st.one_of(HOSTILE, st.sampled_from(samples)) if samples else HOSTILE
    return st.lists(one, min_size=1, max_size=3)


@pytest.fixture
def console(db, django_user_model, settings) -> tuple[Client, list[str]]:
    """A logged-in admin, three accounts at a closed port and orders in telling states; returns
    the client and every known account and order code."""
    settings.ENERGYDASH_SANDBOX = True
    settings.ENERGYDASH_QUOTE_TIMEOUT_SECONDS = 2
    user = django_user_model.objects.create_superuser("fuzz", "fuzz@example.com", "pw-fuzz-1")
    user.groups.add(Group.objects.get(name="admin"))
    accounts = [
        ProviderAccount.objects.create(
            name=f"fuzz {kind}",
            provider=kind,
            base_url=f"{CLOSED_PORT}/{kind}",
            api_key=key,
            api_secret=secret,
            egress_ip=fx.EGRESS_IP if kind == "netts" else None,
        )
        for kind, key, secret in [
            ("itrx", fx.ITRX_KEY, fx.ITRX_SECRET),
            ("tronzap", fx.TZ_TOKEN, fx.TZ_SECRET),
            ("netts", fx.NETTS_KEY, ""),
        ]
    ]
    orders = [
        make_order(accounts[0], status=Status.COMPLETED),
        make_order(accounts[2], status=Status.NEEDS_REVIEW, cost_sun=None, quoted_cost_sun=3_575),
        make_order(accounts[1], status=Status.UNKNOWN, cost_sun=None, quoted_cost_sun=3_400),
    ]
    client = sign_in(Client(), user)
    return client, [str(a.code) for a in accounts] + [str(o.code) for o in orders]


@pytest.fixture
def targets(console) -> list[Target]:
    """Crawled once per test (Hypothesis runs every example against the same fixtures)."""
    client, codes = console
    return crawl(client, seed_paths(codes) + admin_paths())


def send(client: Client, target: Target, params: dict[str, list[str]]):
    if target.method == "POST":
        return client.post(target.path, params)
    return client.get(target.path, params)


@fuzz(max_examples=6)
@given(data=st.data())
def test_no_form_filter_or_parameter_gets_a_5xx(console, targets, data):
    client, _ = console
    assert len(targets) > 20  # the crawl found the console's pages and forms
    for target in targets:
        names = list(target.fields)
        fuzzed = data.draw(st.sets(st.sampled_from(names)) if names else st.just(set()))
        params = {
            name: (data.draw(values_for(samples)) if name in fuzzed else samples[:1])
            for name, samples in target.fields.items()
        }
        if data.draw(st.booleans(), label="extra parameter"):
            params[data.draw(st.sampled_from(HOSTILE_STRINGS[:8] + ["page", "o", "q", "e"]))] = [
                data.draw(HOSTILE)
            ]
        response = send(client, target, params)
        assert response.status_code < 500, (target.method, target.path, params)


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("POST", "/balances/refresh/", {"account": "foo"}, 400),
        ("GET", "/orders/", {"date_to": "9999-12-31"}, 200),
        ("GET", "/exports/orders.csv", {"date_to": "9999-12-31"}, 400),
        ("GET", "/exports/daily-cost.csv", {"date_to": "9999-12-31"}, 400),
        ("GET", "/exports/orders.csv", {"date_from": "0001-01-01"}, 400),
        ("GET", "/admin/core/auditevent/", {"q": "\x00"}, 400),
        ("GET", "/admin/core/auditevent/", {"action": "a\x00b"}, 400),
        ("GET", "/orders/", {"q": "abcd\x00"}, 400),
    ],
)
def test_the_inputs_that_used_to_500_get_a_clear_4xx(console, method, path, params, status):
    client, _ = console
    response = send(client, Target(method, path), params)
    assert response.status_code == status


def test_a_huge_confirmed_cost_is_a_form_error_not_a_crash(console):
    client, _ = console
    account = ProviderAccount.objects.get(provider="itrx")
    form = {
        "account": str(account.code),
        "kind": "energy",
        "receive_address": fx.ADDRESS,
        "energy": "65000",
        "period": "1H",
        "confirmed_cost_sun": "9" * 40,
        "token": "t" * 32,
    }
    before = account.orders.count()
    response = client.post(reverse("orders:place"), form)
    assert response.status_code < 500
    assert account.orders.count() == before  # nothing placed


# itrx callbacks: no login, a body and two headers. Signed ones reach the order lookup.
@fuzz(max_examples=60)
@given(
    payload=st.one_of(mutated(fx.ITRX_CALLBACK), JSON),
    timestamp=st.one_of(st.none(), HOSTILE, st.just("now")),
    signature=st.one_of(st.none(), HOSTILE, st.just("valid")),
    code=st.sampled_from(["itrx", "netts", "unknown"]),
)
def test_no_itrx_callback_gets_a_5xx(console, payload, timestamp, signature, code):
    anonymous = Client()
    account = ProviderAccount.objects.get(provider="itrx" if code == "itrx" else "netts")
    account_code = str(uuid.uuid4()) if code == "unknown" else str(account.code)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    headers = {}
    if timestamp is not None:
        headers["TIMESTAMP"] = str(int(time.time())) if timestamp == "now" else timestamp
    if signature is not None:
        ts = headers.get("TIMESTAMP", "")
        valid = itrx_sign(fx.ITRX_SECRET, ts, body)
        headers["SIGNATURE"] = valid if signature == "valid" else signature
    headers = {k: v.replace("\n", " ").replace("\r", " ") for k, v in headers.items()}
    url = f"/callbacks/itrx/{account_code}/"
    response = anonymous.post(url, data=body, content_type="application/json", headers=headers)
    assert response.status_code < 500, (payload, headers)
