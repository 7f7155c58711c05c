"""API tokens: hashed at rest, revocable, audited, rate limited; viewer tokens only read."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command

from energydash.api.models import ApiToken
from energydash.core.models import AuditEvent
from energydash.orders.models import Order
from tests.api.conftest import bearer, issue

PROBLEM = "application/problem+json"


def test_the_command_prints_the_token_once_and_stores_only_its_hash(db, capsys, client):
    call_command("create_api_token", "--name", "exchange-1", "--role", "operator")
    out = capsys.readouterr().out
    raw = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("token: "))
    token = ApiToken.objects.get(name="exchange-1")
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix) and len(token.prefix) < len(raw)
    stored = [str(v) for v in ApiToken.objects.values().get()]
    assert not any(raw in value for value in stored)  # nowhere in clear, not even the secret
    audit = AuditEvent.objects.get(action="api_token.created")
    assert audit.actor_label == "command:create_api_token" and raw not in str(audit.details)
    assert client.get("/api/v1/balances", **bearer(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_command_refuses_bad_names_roles_and_urls(db):
    with pytest.raises(CommandError, match="webhook_url"):
        call_command(
            "create_api_token", "--name", "x", "--role", "viewer", "--webhook-url", "ftp://h/"
        )
    with pytest.raises(CommandError):
        call_command("create_api_token", "--name", "has space", "--role", "viewer")
    with pytest.raises(CommandError):
        call_command("create_api_token", "--name", "x", "--role", "admin")
    assert not ApiToken.objects.exists()


def test_missing_wrong_and_revoked_tokens_get_401_problems(db, client, operator_token):
    token, raw = operator_token
    missing = client.get("/api/v1/balances")
    assert missing.status_code == 401 and missing["Content-Type"] == PROBLEM
    assert missing.json()["code"] == "unauthenticated"
    assert client.get("/api/v1/balances", **bearer(raw + "x")).status_code == 401
    token.revoked_at = token.created
    token.save()
    revoked = client.get("/api/v1/balances", **bearer(raw))
    assert revoked.status_code == 401 and revoked.json()["code"] == "token_revoked"


def test_a_viewer_token_reads_but_cannot_place(db, client, viewer_token):
    _token, raw = viewer_token
    assert client.get("/api/v1/orders", **bearer(raw)).status_code == 200
    refused = client.post(
        "/api/v1/orders",
        {"address": "T" + "1" * 33, "energy": 65000},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="v-1",
        **bearer(raw),
    )
    assert refused.status_code == 403 and refused.json()["code"] == "viewer_token"
    assert not Order.objects.exists()


def test_each_token_is_rate_limited_per_minute(db, client, settings, operator_token, viewer_token):
    settings.ENERGYDASH_API_RATE_LIMIT_PER_MINUTE = 3
    from django.core.cache import cache

    cache.clear()
    _t, raw = operator_token
    codes = [client.get("/api/v1/balances", **bearer(raw)).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200]
    limited = client.get("/api/v1/balances", **bearer(raw))
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    _v, other = viewer_token
    assert client.get("/api/v1/balances", **bearer(other)).status_code == 200  # its own budget


def test_admin_creates_a_token_shown_once_and_revokes_it(admin_client_):
    page = admin_client_.post(
        "/admin/api/apitoken/add/",
        {
            "name": "wallet",
            "role": "viewer",
            "webhook_url": "https://hooks.example.com/ed",
            "scopes": ["read", "quote"],
            "daily_cap_sun": "12.5",
        },
    )
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    token = ApiToken.objects.get(name="wallet")
    assert token.scopes == "read,quote" and token.daily_cap_sun == 12_500_000
    raw = page.context["token"]
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw in page.content.decode()
    again = admin_client_.get(f"/admin/api/apitoken/{token.pk}/change/")
    assert raw not in again.content.decode() and token.prefix in again.content.decode()
    admin_client_.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert list(
        AuditEvent.objects.filter(object_code=token.prefix).values_list("action", flat=True)
    ) == ["api_token.revoked", "api_token.created"]


def test_openapi_is_public_and_the_docs_need_a_login(db, client, viewer):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and "/api/v1/orders" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 302
    client.force_login(viewer)
    assert client.get("/api/v1/docs").status_code == 200


def test_the_api_docs_need_a_role_like_every_console_page(db, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x" * 20))
    refused = client.get("/api/v1/docs")
    assert refused.status_code == 403
    assert "You have no role in this console" in refused.content.decode()
    assert client.get("/api/v1/openapi.json").status_code == 200  # the schema stays public


def test_issue_helper_tokens_work(db, client):
    _token, raw = issue("helper", "viewer")
    assert client.get("/api/v1/quotes?energy=65000&address=x", **bearer(raw)).status_code == 422


def test_a_path_the_api_does_not_have_gets_a_problem_document_not_the_html_page(
    db, client, operator_token
):
    _token, raw = operator_token
    for path in ("/api/v1/nope", "/api/v1/orders/12/cancel", "/api/v1/balances/"):
        response = client.get(path, **bearer(raw))
        assert response.status_code == 404, path
        assert response["Content-Type"] == PROBLEM
        assert response.json()["code"] == "no_such_endpoint"
    assert client.get("/api/v1/balances", **bearer(raw)).status_code == 200  # real routes win
    wrong_method = client.delete("/api/v1/balances", **bearer(raw))
    assert wrong_method.status_code == 405


def test_a_viewer_token_cannot_start_or_resume_a_batch_and_learns_nothing_first(
    db, client, viewer_token
):
    """Both batch operations refuse a viewer at authentication, before the path or the body is
    read: the same 403 whatever the batch id or body, and nothing is started."""
    from energydash.batches.models import Batch

    _token, raw = viewer_token
    started = client.post(
        "/api/v1/batches",
        {"lines": [{"address": "T" + "1" * 33}], "energy": 65000},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="v-batch-1",
        **bearer(raw),
    )
    assert started.status_code == 403 and started.json()["code"] == "viewer_token"
    for batch_id in ("00000000-0000-0000-0000-000000000000", "not-a-batch-id"):
        resumed = client.post(f"/api/v1/batches/{batch_id}/resume", **bearer(raw))
        assert resumed.status_code == 403, (batch_id, resumed.content)
        assert resumed.json()["code"] == "viewer_token"
    assert not Batch.objects.exists()
