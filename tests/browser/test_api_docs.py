"""/api/v1/docs renders Swagger UI from the project's own static files, within the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_api_docs_render_every_operation_from_local_files(
    logged_in, live_server, console_messages
):
    page = logged_in
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}", "/api/v1/quotes"):
        expect(
            page.locator(".opblock-summary-path", has_text=re.compile(f"^{re.escape(path)}$")).first
        ).to_be_visible()
    expect(page.locator(".opblock-summary-method", has_text="POST").first).to_be_visible()
    assert requested and all(url.startswith(live_server.url) for url in requested), requested
    problems = [m for m in console_messages if "Content Security Policy" in m or "error" in m]
    assert not problems, problems


def test_the_api_docs_need_a_login(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page).to_have_url(re.compile(r"/login/"))
