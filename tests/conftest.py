from __future__ import annotations

import contextlib
import os

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group
from django.core.cache import cache

from energydash.providers.models import ProviderAccount
from tests.signin import sign_in

TEST_FIELD_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _no_kept_limits():
    """Provider limits kept by one test's quotes (static_cache.py) never reach the next test."""
    from energydash.providers import static_cache

    static_cache.forget()
    yield
    static_cache.forget()


@pytest.fixture(autouse=True)
def _field_keys(settings):
    """Every test encrypts with a throwaway key, never the developer's var/field-keys."""
    settings.ENERGYDASH_FIELD_KEYS = [TEST_FIELD_KEY]
    settings.ENERGYDASH_FIELD_KEYS_SOURCE = "environment"
    # Tests speak plain HTTP to the test client; production keeps the HTTPS redirect.
    settings.SECURE_SSL_REDIRECT = False
    # The hashed-manifest storage needs `collectstatic` first; tests use the plain one.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    # The chain reader's default node is TronGrid; no test may reach it (a test aims it at a mock
    # or the sandbox chain itself).
    settings.ENERGYDASH_TRON_API_URL = ""
    settings.ENERGYDASH_TRON_API_KEY = ""


def _user(django_user_model, username: str, role: str | None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password="pw-" + username, **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def viewer(db, django_user_model):
    return _user(django_user_model, "vera", "viewer")


@pytest.fixture
def operator(db, django_user_model):
    return _user(django_user_model, "otto", "operator")


@pytest.fixture
def admin_user(db, django_user_model):
    return _user(django_user_model, "ada", "admin", is_staff=True)


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    """An admin signed in with both factors (tests/signin.py), just now (sudo mode is on)."""
    return sign_in(client, admin_user)


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, signed in with both factors like admin_client_."""
    return sign_in(client, admin_user)


@pytest.fixture
def itrx_account(db):
    return ProviderAccount.objects.create(
        name="itrx main",
        provider="itrx",
        api_key="B433BFF1CDE7450AA38A56BEAC690DD4",
        api_secret="0285A2741D0E76E2E187260EB23E51851D48403A756333E7D0CF845406ABF3E8",
    )


@pytest.fixture
def tronzap_account(db):
    return ProviderAccount.objects.create(
        name="tronzap main",
        provider="tronzap",
        api_key="tz-token-0001",
        api_secret="tz-secret-0001",
    )


@pytest.fixture
def netts_account(db):
    return ProviderAccount.objects.create(
        name="netts main", provider="netts", api_key="a" * 32, egress_ip="203.0.113.7"
    )


def pytest_sessionfinish(session, exitstatus):
    """Django deletes the file-based SQLite test database but not its WAL side files."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(name + suffix)
