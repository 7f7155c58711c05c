from __future__ import annotations

import pytest

from energydash.sandbox.models import SandboxAccount, SandboxCallback, SandboxOrder
from tests.sandbox.helpers import ITRX, address, itrx_post


def test_the_sandbox_answers_404_when_switched_off(http, itrx_box, settings):
    settings.ENERGYDASH_SANDBOX = False
    assert (
        http.get(ITRX + "index-data", headers={"API-KEY": itrx_box.api_key.reveal()}).status_code
        == 404
    )


def test_sandbox_views_need_no_login_and_no_csrf_token(itrx_box, client):
    client_ = client.__class__(enforce_csrf_checks=True)
    response = client_.get(ITRX + "index-data", headers={"API-KEY": itrx_box.api_key.reveal()})
    assert response.status_code == 200
    assert response.json()["balance"] == itrx_box.balance_sun


@pytest.mark.parametrize("model", [SandboxAccount, SandboxOrder, SandboxCallback])
def test_the_admin_lists_sandbox_models(admin_client, http, itrx_box, model):
    itrx_post(
        http,
        itrx_box,
        "order",
        {
            "energy_amount": 65_000,
            "period": "1H",
            "receive_address": address("admin"),
            "callback_url": "https://example.com/cb",
        },
    )
    meta = model._meta
    response = admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
    assert response.status_code == 200


def test_the_admin_edits_fault_knobs(admin_client, itrx_box):
    response = admin_client.get(f"/admin/sandbox/sandboxaccount/{itrx_box.pk}/change/")
    assert response.status_code == 200
    assert b"lose_response_rate" in response.content
