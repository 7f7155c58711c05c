"""Production settings: static files, the plain-HTTP switch, gunicorn's config, admin input."""

from __future__ import annotations

from django.urls import reverse

from energydash.providers.models import ProviderAccount
from tests.core.test_admin_vault import form_data
from tests.core.test_settings import PRODUCTION, run_python

SHOW = (
    "import django; django.setup(); from django.conf import settings as s;"
    "print(s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[-1], s.SECURE_SSL_REDIRECT,"
    " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
    " s.SECURE_CONTENT_TYPE_NOSNIFF, 'whitenoise.middleware.WhiteNoiseMiddleware' in s.MIDDLEWARE)"
)


def settings_line(tmp_path, **env: str) -> list[str]:
    result = run_python(
        ["-c", SHOW],
        **(PRODUCTION | {"ENERGYDASH_VAR_DIR": str(tmp_path)} | env),
        DJANGO_SETTINGS_MODULE="energydash.settings",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_serves_hashed_compressed_static_files_over_https_only(tmp_path):
    assert settings_line(tmp_path) == [
        "CompressedManifestStaticFilesStorage",
        "True",
        "True",
        "True",
        "31536000",
        "True",
        "True",
    ]


def test_the_plain_http_switch_drops_only_the_https_settings(tmp_path):
    assert settings_line(tmp_path, ENERGYDASH_PLAIN_HTTP="1") == [
        "CompressedManifestStaticFilesStorage",
        "False",
        "False",
        "False",
        "0",
        "True",
        "True",
    ]


def test_debug_uses_plain_static_storage(tmp_path):
    assert settings_line(tmp_path, DEBUG="1")[0] == "StaticFilesStorage"


def test_gunicorn_config_comes_from_the_environment():
    code = (
        "import runpy; c = runpy.run_path('gunicorn.conf.py');"
        "print(c['workers'], c['threads'], c['worker_class'], c['timeout'], c['bind'],"
        " c['accesslog'], c['preload_app'])"
    )
    result = run_python(
        ["-c", code], WEB_WORKERS="3", WEB_THREADS="6", GUNICORN_BIND="127.0.0.1:9001"
    )
    assert result.stdout.split() == ["3", "6", "gthread", "300", "127.0.0.1:9001", "-", "True"]
    bad = run_python(["-c", code], WEB_WORKERS="many")
    assert bad.returncode != 0 and "WEB_WORKERS must be an integer" in bad.stderr


def test_pages_keep_their_security_headers(viewer_client):
    response = viewer_client.get("/")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_admin_refuses_an_alert_email_that_is_not_an_address(admin_client_, itrx_account):
    url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    evil = "<img src=x onerror=alert(2)>@example.test"
    response = admin_client_.post(
        url, form_data(itrx_account, alert_emails=f"ops@example.test\n{evil}")
    )
    assert response.status_code == 200  # the form again, with the error
    html = response.content.decode()
    assert "Not an e-mail address: &lt;img src=x onerror=alert(2)&gt;@example.test" in html
    assert "<img src=x" not in html
    assert ProviderAccount.objects.get(pk=itrx_account.pk).alert_emails == ""


def test_admin_stores_valid_alert_emails_one_per_line(admin_client_, itrx_account):
    url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    data = form_data(itrx_account, alert_emails=" ops@example.test, cfo@example.test ")
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert account.alert_emails == "ops@example.test\ncfo@example.test"
    assert account.alert_recipients == ["ops@example.test", "cfo@example.test"]
