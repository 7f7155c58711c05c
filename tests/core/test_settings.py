from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run_python(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ENERGYDASH_", "DJANGO_"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "production-like-secret-key-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "energy.example.com",
    "EMAIL_BACKEND": "smtp",
}


def test_check_deploy_reports_no_errors_with_production_settings(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        **PRODUCTION,
        ENERGYDASH_VAR_DIR=str(tmp_path),
        ENERGYDASH_FIELD_KEYS=Fernet.generate_key().decode(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_field_keys(tmp_path):
    result = run_python(
        ["-c", "import energydash.wsgi"],
        **PRODUCTION,
        ENERGYDASH_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="energydash.settings",
    )
    assert result.returncode != 0
    assert "energydash.E001" in result.stderr
    assert "ENERGYDASH_FIELD_KEYS" in result.stderr


def test_a_malformed_boolean_setting_fails_with_its_name():
    result = run_python(["manage.py", "check"], DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_redis_url_switches_the_task_broker_to_redis():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.Q_CLUSTER.get('redis'), s.Q_CLUSTER.get('orm'),"
        " s.Q_CLUSTER['retry'] > s.Q_CLUSTER['timeout'], s.Q_CLUSTER['catch_up'])"
    )
    with_redis = run_python(
        ["-c", code],
        REDIS_URL="redis://127.0.0.1:6379/5",
        DJANGO_SETTINGS_MODULE="energydash.settings",
    )
    without = run_python(["-c", code], DJANGO_SETTINGS_MODULE="energydash.settings")
    assert with_redis.stdout.split() == ["redis://127.0.0.1:6379/5", "None", "True", "False"]
    assert without.stdout.split() == ["None", "default", "True", "False"]
