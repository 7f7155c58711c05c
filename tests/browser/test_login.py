from __future__ import annotations

from playwright.sync_api import expect

from energydash.providers.models import ProviderAccount


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m or "Refused to" in m]


def test_an_operator_logs_in_and_sees_the_providers_page_without_csp_violations(
    logged_in, live_server, console_messages, transactional_db
):
    ProviderAccount.objects.create(
        name="Browser itrx", provider="itrx", api_key="K" * 32, api_secret="S" * 64
    )
    page = logged_in
    page.goto(f"{live_server.url}/providers/")
    expect(page.get_by_role("heading", name="Provider accounts")).to_be_visible()
    expect(page.get_by_role("cell", name="Browser itrx", exact=True)).to_be_visible()
    expect(page.get_by_text("not fetched yet")).to_be_visible()
    assert "S" * 64 not in page.content()
    assert page.evaluate("typeof window.htmx") == "object"
    assert csp_violations(console_messages) == []


def test_the_admin_vault_page_renders_under_the_strict_csp(
    logged_in, live_server, console_messages, transactional_db
):
    page = logged_in
    page.goto(f"{live_server.url}/admin/providers/provideraccount/add/")
    expect(page.get_by_label("API key")).to_have_attribute("type", "password")
    assert csp_violations(console_messages) == []
