"""The three settings: defaults, "not configured", and bad values refused at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from energydash.chain.outcomes import NOT_VERIFIED
from energydash.chain.reader import ChainReader
from tests.chain.conftest import address

ROOT = Path(__file__).resolve().parents[2]
ALICE = address("alice")
PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(repr((s.ENERGYDASH_TRON_API_URL, s.ENERGYDASH_TRON_API_QPS)))"
)


def settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ENERGYDASH_", "DJANGO_"))}
    base.update(env, DJANGO_SETTINGS_MODULE="energydash.settings")
    return subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_defaults_are_trongrid_at_10_a_second():
    result = settings_in_a_fresh_process()
    assert result.stdout.strip() == "('https://api.trongrid.io', 10)", result.stderr


def test_an_empty_url_means_not_configured_and_a_trailing_slash_goes():
    assert settings_in_a_fresh_process(ENERGYDASH_TRON_API_URL="").stdout.strip() == "('', 10)"
    result = settings_in_a_fresh_process(ENERGYDASH_TRON_API_URL="http://127.0.0.1:8090/")
    assert result.stdout.strip() == "('http://127.0.0.1:8090', 10)"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ENERGYDASH_TRON_API_URL": "api.trongrid.io"}, "ENERGYDASH_TRON_API_URL must be"),
        ({"ENERGYDASH_TRON_API_QPS": "0"}, "ENERGYDASH_TRON_API_QPS must be"),
        ({"ENERGYDASH_TRON_API_QPS": "ten"}, "ENERGYDASH_TRON_API_QPS must be an integer"),
    ],
)
def test_bad_values_stop_the_start(env, words):
    result = settings_in_a_fresh_process(**env)
    assert result.returncode != 0
    assert words in result.stderr


def test_a_key_in_the_environment_is_never_printed_in_a_settings_error():
    key = "e3b0c442-98fc-1c14-9afb-f4c8996fb924"
    result = settings_in_a_fresh_process(
        ENERGYDASH_TRON_API_KEY=key, ENERGYDASH_TRON_API_URL="ftp://node"
    )
    assert result.returncode != 0
    assert key not in result.stderr + result.stdout


def test_every_question_is_not_verified_when_not_configured(settings, node):
    settings.ENERGYDASH_TRON_API_URL = ""
    settings.ENERGYDASH_TRON_API_KEY = "a-key-that-is-never-used"
    reader = ChainReader.from_settings()
    assert not reader.configured
    readings = [
        reader.account_resource(ALICE),
        reader.account(ALICE),
        reader.delegation_index(ALICE),
        reader.delegated_resources(ALICE, ALICE),
        reader.transaction_info("00" * 32),
        reader.estimate_transfer(ALICE, ALICE, 1),
    ]
    assert {r.outcome for r in readings} == {NOT_VERIFIED}
    assert all("ENERGYDASH_TRON_API_URL is empty" in r.message for r in readings)
    assert not node.calls and reader.exchanges == []


def test_the_settings_make_the_reader(settings, node):
    settings.ENERGYDASH_TRON_API_URL = "http://127.0.0.1:8090"
    settings.ENERGYDASH_TRON_API_KEY = "k-123456"
    settings.ENERGYDASH_TRON_API_QPS = 7
    route = node.post("/wallet/getaccount").respond(json={})
    reader = ChainReader.from_settings()
    assert reader.node.budget.qps == 7
    assert reader.account(ALICE).ok
    assert route.calls.last.request.headers["TRON-PRO-API-KEY"] == "k-123456"
    assert "k-123456" not in repr(reader)
