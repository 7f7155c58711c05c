"""energydash settings, read from the environment (see README "Configuration")."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from energydash.lib.env import env_bool, env_int, env_list, env_str
from energydash.lib.tron import parse_trx

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ENERGYDASH_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# The fallback key is only good for local runs; check energydash.E002 refuses it when DEBUG is off.
INSECURE_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Comma-separated Fernet keys, newest first. Without it, a key file written by `make run`
# (var/field-keys) is used, and only while DEBUG is on (check energydash.E001).
FIELD_KEYS_FILE = Path(env_str("ENERGYDASH_FIELD_KEYS_FILE", str(VAR_DIR / "field-keys")))
ENERGYDASH_FIELD_KEYS = env_list("ENERGYDASH_FIELD_KEYS")
ENERGYDASH_FIELD_KEYS_SOURCE = "environment"
if not ENERGYDASH_FIELD_KEYS and FIELD_KEYS_FILE.exists():
    ENERGYDASH_FIELD_KEYS = [k.strip() for k in FIELD_KEYS_FILE.read_text().split() if k.strip()]
    ENERGYDASH_FIELD_KEYS_SOURCE = "file"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    # django-ninja's templates and static files: /api/v1/docs serves its pinned Swagger UI from
    # our own static files (no CDN, so the strict CSP holds).
    "ninja",
    "energydash.core",
    "energydash.providers",
    "energydash.chain",
    "energydash.sandbox",
    "energydash.orders",
    "energydash.balances",
    "energydash.api",
    "energydash.batches",
    "energydash.console",
    "energydash.demo",  # joins the sandbox to the product for demos; nothing imports it
    "axes",
    # Second factor (README "Users and roles"): TOTP devices and one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    # /livez, /readyz and /metrics (core/ops.py): before the host check, sessions and logins.
    "energydash.core.ops.OpsEndpointsMiddleware",
    # A request_id for every log line of the request and the tasks it queues (core/logcontext.py).
    "energydash.core.logcontext.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A NUL character anywhere in the path, query or form gets 400 (PostgreSQL refuses it: a 500).
    "energydash.core.nul_bytes.RejectNulBytesMiddleware",
    # Serves collected, hashed and compressed static files; before anything that touches the
    # session or the database, so a stylesheet costs no query.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language from the language cookie or Accept-Language (English when neither
    # names one of LANGUAGES); a signed-in user's own choice wins (UserLanguageMiddleware below).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The language a signed-in user chose (core.UserPreferences), on every request.
    "energydash.core.language.UserLanguageMiddleware",
    # Which second-factor device (if any) verified this session: request.user.is_verified().
    "django_otp.middleware.OTPMiddleware",
    # A logged-in user with none of the three roles gets a 403 page saying so
    # (exemptions: energydash.core.middleware.ROLE_EXEMPT_PATH_PREFIXES).
    "energydash.core.middleware.RoleRequiredMiddleware",
    # A user whose role needs a second factor and has none is sent to enrol; a session that
    # skipped the code step (a device exists, none verified) is logged out.
    "energydash.core.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-axes: last, as its docs require; turns a lockout into the login page's message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "energydash.urls"
WSGI_APPLICATION = "energydash.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "energydash.console.context_processors.account_notice",
                # The sandbox fault banner (reads nothing unless ENERGYDASH_SANDBOX is on).
                "energydash.demo.context_processors.sandbox_faults",
            ],
        },
    },
]

_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 0)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'energydash.sqlite3'}"),
        conn_max_age=_CONN_MAX_AGE,
        # A kept connection is checked before a request reuses it, so a database restart costs
        # one reconnect instead of one failed request per thread.
        conn_health_checks=_CONN_MAX_AGE > 0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the django-q2 worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too (not shared-cache memory, whose table locks ignore the busy timeout),
    # so threaded tests see the same locking as the web process and the worker do.
    # One file per test process, so parallel runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-energydash-{os.getpid()}.sqlite3")}
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out (username, address) before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# English unless the user chose otherwise (README "Languages") or the browser asks for one of
# LANGUAGES; names in their own language, as the switch in the top bar shows them.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
# One timestamp format (with the zone) in the console and in admin, per language:
# energydash/formats/<language>.
FORMAT_MODULE_PATH = ["energydash.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# With DEBUG off, `collectstatic` writes hashed, gzip/brotli-compressed copies and a manifest that
# WhiteNoise serves with far-future cache headers. With DEBUG on (make run) and in tests (see
# tests/conftest.py), plain storage: Django's docs advise against the manifest storage in tests,
# as it needs `collectstatic` first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Strict CSP: nothing inline, nothing from another origin. Django admin and htmx both comply
# (htmx's indicator styles are switched off through <meta name="htmx-config">).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
# The language chosen in the top bar, for the login page too (signed in, the user's own choice).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the body attribute, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# ENERGYDASH_PLAIN_HTTP=1 is for one thing only: a production-settings run on plain HTTP on
# localhost (the deployment smoke test). It turns off the HTTPS redirect, the secure-only cookies
# and HSTS; every other production setting stays. Never set it on a reachable server: behind a
# TLS proxy keep it off and let the proxy send X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER below).
ENERGYDASH_PLAIN_HTTP = env_bool("ENERGYDASH_PLAIN_HTTP", False)
if not DEBUG:
    _https = not ENERGYDASH_PLAIN_HTTP
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
    LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Mail: the console backend unless EMAIL_BACKEND=smtp (Django 6.1 MAILERS).
_EMAIL_BACKEND = env_str("EMAIL_BACKEND", "console")
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
MAILERS = {"default": {"BACKEND": _EMAIL_BACKENDS.get(_EMAIL_BACKEND, _EMAIL_BACKEND)}}
if _EMAIL_BACKEND == "smtp":
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": env_int("EMAIL_TIMEOUT", 20),
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "energydash <energydash@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# django-q2: the ORM broker by default, Redis when REDIS_URL is set. retry must exceed timeout
# so a slow task is not handed to a second worker while the first still runs.
REDIS_URL = env_str("REDIS_URL")
Q_CLUSTER = {
    # Distinct names keep two deployments (or the smoke test) apart on one Redis.
    "name": env_str("ENERGYDASH_Q_NAME", "energydash"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# The cache holds rate-limit counters (quotes per user per minute). With REDIS_URL it is shared
# by every web process; without, each process counts for itself (one process: the same thing).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "energydash",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Login throttling (django-axes): after this many failed logins for one username from one
# address, that combination is locked out for ENERGYDASH_LOGIN_LOCKOUT_MINUTES (a success
# before then resets the count). Admins unlock in admin ("Access attempts": delete the row) or
# with `python manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = env_int("ENERGYDASH_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ENERGYDASH_LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "energydash.core.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "energydash.core.lockout.client_ip"
# A wrong second-factor code counts as a failed login for the same (username, address), so the
# same limit locks both steps. The typed code is never written to django-axes's records.
AXES_SENSITIVE_PARAMETERS = ["password", "code"]
# Number of reverse proxies in front of gunicorn that append to X-Forwarded-For (0: none, the
# client address is REMOTE_ADDR). Only trust as many hops as you really run.
ENERGYDASH_PROXY_COUNT = env_int("ENERGYDASH_PROXY_COUNT", 0)
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("ENERGYDASH_LOGIN_FAILURE_LIMIT must be at least 1")

# Second factor (TOTP apps, recovery codes). Required for the admin role (and superusers);
# ENERGYDASH_MFA_REQUIRED_FOR_ALL_ROLES=1 requires it of viewers and operators too.
ENERGYDASH_MFA_REQUIRED_FOR_ALL_ROLES = env_bool("ENERGYDASH_MFA_REQUIRED_FOR_ALL_ROLES", False)
ENERGYDASH_MFA_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = env_str("ENERGYDASH_MFA_ISSUER", "energydash")
# Sudo mode: the most dangerous actions (provider credentials and limits, API tokens, webhook
# URLs, roles, exporting every order, a review decision against evidence) need a login or a
# re-authentication within this many minutes.
ENERGYDASH_SUDO_MINUTES = env_int("ENERGYDASH_SUDO_MINUTES", 15)
if not 1 <= ENERGYDASH_SUDO_MINUTES <= 24 * 60:
    raise ImproperlyConfigured("ENERGYDASH_SUDO_MINUTES must be between 1 and 1440")

# Live quotes call every enabled provider; each user may ask this many times per minute.
ENERGYDASH_QUOTE_RATE_PER_MINUTE = env_int("ENERGYDASH_QUOTE_RATE_PER_MINUTE", 30)
if ENERGYDASH_QUOTE_RATE_PER_MINUTE < 1:
    raise ImproperlyConfigured("ENERGYDASH_QUOTE_RATE_PER_MINUTE must be at least 1")

# Domain settings.
ENERGYDASH_BURN_SUN_PER_ENERGY = env_int("ENERGYDASH_BURN_SUN_PER_ENERGY", 100)
ENERGYDASH_PUBLIC_URL = env_str("ENERGYDASH_PUBLIC_URL").rstrip("/")
ENERGYDASH_SANDBOX = env_bool("ENERGYDASH_SANDBOX", False)
# With DEBUG off the sandbox refuses to start (energydash.E004) unless this is set too: for a
# staging or smoke-test run that means to serve simulated providers.
ENERGYDASH_SANDBOX_IN_PRODUCTION = env_bool("ENERGYDASH_SANDBOX_IN_PRODUCTION", False)
# Money view: balance refresh schedule, snapshot heartbeat, low-balance alert hysteresis.
ENERGYDASH_BALANCE_REFRESH_MINUTES = env_int("ENERGYDASH_BALANCE_REFRESH_MINUTES", 5)
ENERGYDASH_BALANCE_HEARTBEAT_MINUTES = env_int("ENERGYDASH_BALANCE_HEARTBEAT_MINUTES", 60)
ENERGYDASH_ALERT_MARGIN_PERCENT = env_int("ENERGYDASH_ALERT_MARGIN_PERCENT", 10)
ENERGYDASH_REFRESH_FAILING_ALERT_MINUTES = env_int("ENERGYDASH_REFRESH_FAILING_ALERT_MINUTES", 30)
# Alert channels (balances/channels.py): an alert nobody acknowledged is sent again this often.
ENERGYDASH_ALERT_RENOTIFY_MINUTES = env_int("ENERGYDASH_ALERT_RENOTIFY_MINUTES", 60)
for _name in (
    "ENERGYDASH_BALANCE_REFRESH_MINUTES",
    "ENERGYDASH_BALANCE_HEARTBEAT_MINUTES",
    "ENERGYDASH_REFRESH_FAILING_ALERT_MINUTES",
    "ENERGYDASH_ALERT_RENOTIFY_MINUTES",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1 (minutes)")
if not 0 <= ENERGYDASH_ALERT_MARGIN_PERCENT <= 1000:
    raise ImproperlyConfigured("ENERGYDASH_ALERT_MARGIN_PERCENT must be between 0 and 1000")
# The chain reader (README "The chain reader"): a TRON full node's HTTP API or TronGrid. An empty
# URL means not configured: chain readings then say "not verified", never an error. The key is sent
# as the TRON-PRO-API-KEY header and is never logged or recorded. QPS is the request budget shared
# by every process (counted in the cache).
ENERGYDASH_TRON_API_URL = env_str("ENERGYDASH_TRON_API_URL", "https://api.trongrid.io").strip()
ENERGYDASH_TRON_API_URL = ENERGYDASH_TRON_API_URL.rstrip("/")
ENERGYDASH_TRON_API_KEY = env_str("ENERGYDASH_TRON_API_KEY").strip()
ENERGYDASH_TRON_API_QPS = env_int("ENERGYDASH_TRON_API_QPS", 10)
# Of those, this share is kept in hand (a busy node counts a request late, maybe in the next
# second), and reconciliation's chain evidence may use at most this share of the rest.
ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT = env_int("ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT", 20)
ENERGYDASH_CHAIN_EVIDENCE_QPS_PERCENT = env_int("ENERGYDASH_CHAIN_EVIDENCE_QPS_PERCENT", 40)
if not 0 <= ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT <= 90:
    raise ImproperlyConfigured("ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT must be between 0 and 90")
if not 1 <= ENERGYDASH_CHAIN_EVIDENCE_QPS_PERCENT <= 100:
    raise ImproperlyConfigured("ENERGYDASH_CHAIN_EVIDENCE_QPS_PERCENT must be between 1 and 100")
if ENERGYDASH_TRON_API_URL and not ENERGYDASH_TRON_API_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        "ENERGYDASH_TRON_API_URL must be an http:// or https:// URL (or empty: not configured)"
    )
if not 1 <= ENERGYDASH_TRON_API_QPS <= 10_000:
    raise ImproperlyConfigured("ENERGYDASH_TRON_API_QPS must be between 1 and 10000")
# On-chain delivery checks (orders/delivery.py). An order's energy is verified when the chain
# shows at least (100 - tolerance)% of it; nothing within the provider's deadline after its
# "done" is missing (ENERGYDASH_DELIVERY_DEADLINE_SECONDS, per provider with _ITRX, _TRONZAP,
# _NETTS). A verified order is looked at again near the end of its period, and this share of
# them once mid-period too (reclaimed early). Concurrency: orders one pass reads at once.
ENERGYDASH_DELIVERY_TOLERANCE_PERCENT = env_int("ENERGYDASH_DELIVERY_TOLERANCE_PERCENT", 2)
_DELIVERY_DEADLINE = env_int("ENERGYDASH_DELIVERY_DEADLINE_SECONDS", 180)
ENERGYDASH_DELIVERY_DEADLINE_SECONDS = {
    _p: env_int(f"ENERGYDASH_DELIVERY_DEADLINE_SECONDS_{_p.upper()}", _DELIVERY_DEADLINE)
    for _p in ("itrx", "tronzap", "netts")
}
ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT = env_int("ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT", 20)
ENERGYDASH_DELIVERY_CONCURRENCY = env_int("ENERGYDASH_DELIVERY_CONCURRENCY", 4)
# Watch the chain for an energy order's delegation from 3 s after it was sent, before the
# provider's done is recorded (orders/delivery_look.py early looks); 0: only after done.
ENERGYDASH_DELIVERY_EARLY_LOOKS = env_bool("ENERGYDASH_DELIVERY_EARLY_LOOKS", True)
if not 0 <= ENERGYDASH_DELIVERY_TOLERANCE_PERCENT <= 50:
    raise ImproperlyConfigured("ENERGYDASH_DELIVERY_TOLERANCE_PERCENT must be between 0 and 50")
if not all(5 <= _s <= 86_400 for _s in ENERGYDASH_DELIVERY_DEADLINE_SECONDS.values()):
    raise ImproperlyConfigured(
        "ENERGYDASH_DELIVERY_DEADLINE_SECONDS(_<PROVIDER>) must be between 5 and 86400"
    )
if not 0 <= ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT <= 100:
    raise ImproperlyConfigured("ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT must be between 0 and 100")
if not 1 <= ENERGYDASH_DELIVERY_CONCURRENCY <= 32:
    raise ImproperlyConfigured("ENERGYDASH_DELIVERY_CONCURRENCY must be between 1 and 32")
# An open order older than this is flagged needs_review for a person.
ENERGYDASH_ORDER_STUCK_MINUTES = env_int("ENERGYDASH_ORDER_STUCK_MINUTES", 30)
# Orders one polling pass looks at in parallel (threads waiting on providers), per worker.
ENERGYDASH_POLL_CONCURRENCY = env_int("ENERGYDASH_POLL_CONCURRENCY", 8)
if not 1 <= ENERGYDASH_POLL_CONCURRENCY <= 64:
    raise ImproperlyConfigured("ENERGYDASH_POLL_CONCURRENCY must be between 1 and 64")
# The poller's adaptive schedule (orders/schedule.py): every BASE s while an order is younger
# than FAST s (or changed at its last look), then BASE + SLOWDOWN% of the age past FAST, capped
# at MAX s, times CALLBACK_FACTOR for providers that push callbacks (itrx).
ENERGYDASH_POLL_BASE_SECONDS = env_int("ENERGYDASH_POLL_BASE_SECONDS", 2)
ENERGYDASH_POLL_FAST_SECONDS = env_int("ENERGYDASH_POLL_FAST_SECONDS", 60)
ENERGYDASH_POLL_SLOWDOWN_PERCENT = env_int("ENERGYDASH_POLL_SLOWDOWN_PERCENT", 20)
ENERGYDASH_POLL_MAX_SECONDS = env_int("ENERGYDASH_POLL_MAX_SECONDS", 60)
ENERGYDASH_POLL_CALLBACK_FACTOR = env_int("ENERGYDASH_POLL_CALLBACK_FACTOR", 2)
if not 1 <= ENERGYDASH_POLL_BASE_SECONDS <= ENERGYDASH_POLL_MAX_SECONDS <= 3600:
    raise ImproperlyConfigured(
        "ENERGYDASH_POLL_BASE_SECONDS and ENERGYDASH_POLL_MAX_SECONDS: 1 <= base <= max <= 3600"
    )
_fast, _slowdown = ENERGYDASH_POLL_FAST_SECONDS, ENERGYDASH_POLL_SLOWDOWN_PERCENT
if not 0 <= _fast <= 3600 or not 0 <= _slowdown <= 1000:
    raise ImproperlyConfigured(
        "ENERGYDASH_POLL_FAST_SECONDS must be 0-3600, ENERGYDASH_POLL_SLOWDOWN_PERCENT 0-1000"
    )
if not 1 <= ENERGYDASH_POLL_CALLBACK_FACTOR <= 10:
    raise ImproperlyConfigured("ENERGYDASH_POLL_CALLBACK_FACTOR must be between 1 and 10")
# An unknown order the provider does not know after 3 lookups spread over this long was not placed.
ENERGYDASH_RECONCILE_NOT_FOUND_SECONDS = env_int("ENERGYDASH_RECONCILE_NOT_FOUND_SECONDS", 120)
# A provider may charge while the request is in flight and a little after energydash gave up
# waiting (it was still processing): the ledger looks for a charge from when the request left to
# this long after the timeout, and wants a balance reading after that before it concludes.
ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS = env_int("ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS", 60)
# While the evidence on an unknown order may still settle (another order's charge or refund not
# yet recorded, the energy not yet on chain), it stays unknown and is weighed again at each
# poll; after this long from when it was sent it goes to review with the facts.
ENERGYDASH_RECONCILE_PATIENCE_SECONDS = env_int("ENERGYDASH_RECONCILE_PATIENCE_SECONDS", 600)
# Chain evidence in reconciliation (orders/chain_evidence.py): on by default when a TRON node is
# configured; 0 turns it off (the soak's comparison run).
ENERGYDASH_CHAIN_EVIDENCE = env_bool("ENERGYDASH_CHAIN_EVIDENCE", True)
# A reading of a receive address is reused by every uncertain order to it for at least this long
# (one block), or a quarter of the order's age up to the most (orders/chain_evidence.py).
ENERGYDASH_CHAIN_EVIDENCE_REUSE_SECONDS = env_int("ENERGYDASH_CHAIN_EVIDENCE_REUSE_SECONDS", 3)
ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS = env_int(
    "ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS", 30
)
if not 0 <= ENERGYDASH_CHAIN_EVIDENCE_REUSE_SECONDS <= ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS:
    raise ImproperlyConfigured(
        "ENERGYDASH_CHAIN_EVIDENCE_REUSE_SECONDS must be between 0 and "
        "ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS"
    )
if ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS > 3600:
    raise ImproperlyConfigured("ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS must be at most 3600")
if not 0 <= ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS <= 3600:
    raise ImproperlyConfigured("ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS must be 0 to 3600")
if not 0 <= ENERGYDASH_RECONCILE_PATIENCE_SECONDS <= 86_400:
    raise ImproperlyConfigured("ENERGYDASH_RECONCILE_PATIENCE_SECONDS must be 0 to 86400")
# Late refunds (orders/late_refunds.py): how long after an order is final its provider is still
# asked whether it refunded, per provider (0: never), and the first/shortest gap between asks.
# itrx documents refunds (status 41, refund_amount) on orders of up to 30 days that can be
# reclaimed early: 72 h covers its 1H/1D/3D orders. TronZap rents for 1 hour, calls purchases
# non-refundable and leaves `failed` undocumented: 24 h covers a refund from its own handling.
# Netts documents no refund at all and order_check carries no refund figure: 0.
ENERGYDASH_LATE_REFUND_HOURS = {
    "itrx": env_int("ENERGYDASH_LATE_REFUND_HOURS_ITRX", 72),
    "tronzap": env_int("ENERGYDASH_LATE_REFUND_HOURS_TRONZAP", 24),
    "netts": env_int("ENERGYDASH_LATE_REFUND_HOURS_NETTS", 0),
}
ENERGYDASH_LATE_REFUND_CHECK_MINUTES = env_int("ENERGYDASH_LATE_REFUND_CHECK_MINUTES", 15)
# Timeout of each provider's quote on the new-order page (they are fetched in parallel).
ENERGYDASH_QUOTE_TIMEOUT_SECONDS = env_int("ENERGYDASH_QUOTE_TIMEOUT_SECONDS", 5)
# How long an account's order limits (itrx index data, TronZap services) are kept between quotes
# (providers/static_cache.py); prices are never kept.
ENERGYDASH_PROVIDER_LIMITS_SECONDS = env_int("ENERGYDASH_PROVIDER_LIMITS_SECONDS", 300)
# The providers page's price board (orders/prices.py): a scheduled task asks every enabled
# account for the common sizes every this many minutes (the page only reads what it stored), and
# the price history's spacing: at most one recorded price per account, size and period per
# ENERGYDASH_PRICE_SAMPLE_MINUTES.
ENERGYDASH_PRICE_BOARD_MINUTES = env_int("ENERGYDASH_PRICE_BOARD_MINUTES", 2)
ENERGYDASH_PRICE_SAMPLE_MINUTES = env_int("ENERGYDASH_PRICE_SAMPLE_MINUTES", 10)
# How long a quote routing or a batch took may be placed on without asking the provider again.
ENERGYDASH_QUOTE_VALID_SECONDS = env_int("ENERGYDASH_QUOTE_VALID_SECONDS", 30)
# Bulk orders (README "Bulk orders"): lines placed at once per account, the lease a worker holds
# on a running batch (renewed by a heartbeat every third of it), and how long a batch may go
# without a live worker before one alert is raised.
ENERGYDASH_BATCH_CONCURRENCY = env_int("ENERGYDASH_BATCH_CONCURRENCY", 8)
ENERGYDASH_BATCH_LEASE_SECONDS = env_int("ENERGYDASH_BATCH_LEASE_SECONDS", 30)
ENERGYDASH_BATCH_STALL_ALERT_MINUTES = env_int("ENERGYDASH_BATCH_STALL_ALERT_MINUTES", 10)
if not 1 <= ENERGYDASH_BATCH_CONCURRENCY <= 32:
    raise ImproperlyConfigured("ENERGYDASH_BATCH_CONCURRENCY must be between 1 and 32")
if ENERGYDASH_BATCH_LEASE_SECONDS < 3 or ENERGYDASH_QUOTE_VALID_SECONDS < 0:
    raise ImproperlyConfigured(
        "ENERGYDASH_BATCH_LEASE_SECONDS must be at least 3 and ENERGYDASH_QUOTE_VALID_SECONDS "
        "at least 0"
    )
# API, routing, webhooks (README "API", "Routing", "Webhooks").
ENERGYDASH_ROUTING_MAX_ATTEMPTS = env_int("ENERGYDASH_ROUTING_MAX_ATTEMPTS", 3)
ENERGYDASH_API_RATE_LIMIT_PER_MINUTE = env_int("ENERGYDASH_API_RATE_LIMIT_PER_MINUTE", 120)
ENERGYDASH_API_IDEMPOTENCY_WAIT_SECONDS = env_int("ENERGYDASH_API_IDEMPOTENCY_WAIT_SECONDS", 30)
# Ready to send (README "Ready to send"): headroom added to the transfer's energy estimate,
# the rental period bought for a deficit, the longest wait for on-chain proof, and the energy
# price (sun per energy) that prices the recommended fee_limit (mainnet's, 100 sun).
ENERGYDASH_READY_HEADROOM_PERCENT = env_int("ENERGYDASH_READY_HEADROOM_PERCENT", 5)
ENERGYDASH_READY_PERIOD = os.environ.get("ENERGYDASH_READY_PERIOD", "1H")
ENERGYDASH_READY_DEADLINE_SECONDS = env_int("ENERGYDASH_READY_DEADLINE_SECONDS", 60)
ENERGYDASH_READY_ENERGY_PRICE_SUN = env_int("ENERGYDASH_READY_ENERGY_PRICE_SUN", 100)
# Watch rules' read schedule (orders/watch.py next_read): an address that used nothing since its
# last read is read less often, up to this many times its rule's interval; one that uses energy
# fast is read sooner, but never more often than this.
ENERGYDASH_WATCH_IDLE_STRETCH = env_int("ENERGYDASH_WATCH_IDLE_STRETCH", 4)
ENERGYDASH_WATCH_MIN_READ_SECONDS = env_int("ENERGYDASH_WATCH_MIN_READ_SECONDS", 15)
# The share of the chain's request budget (ENERGYDASH_TRON_API_QPS) watch reads may use: each
# address is read at most every (watched addresses / that many requests a second) seconds.
ENERGYDASH_WATCH_QPS_PERCENT = env_int("ENERGYDASH_WATCH_QPS_PERCENT", 50)
if not 1 <= ENERGYDASH_WATCH_QPS_PERCENT <= 100:
    raise ImproperlyConfigured("ENERGYDASH_WATCH_QPS_PERCENT must be between 1 and 100")
if not 1 <= ENERGYDASH_WATCH_IDLE_STRETCH <= 100:
    raise ImproperlyConfigured("ENERGYDASH_WATCH_IDLE_STRETCH must be between 1 and 100")
if not 1 <= ENERGYDASH_WATCH_MIN_READ_SECONDS <= 3600:
    raise ImproperlyConfigured("ENERGYDASH_WATCH_MIN_READ_SECONDS must be between 1 and 3600")
# The claim of a request being routed lasts this long without a heartbeat (renewed every third
# of it while the request runs); a crashed request's Idempotency-Key is free again after it.
ENERGYDASH_ROUTE_LEASE_SECONDS = env_int("ENERGYDASH_ROUTE_LEASE_SECONDS", 15)
# 12 tries span 82.7 hours (api/webhooks.py BACKOFF); then the endpoint is disabled, alerted.
ENERGYDASH_WEBHOOK_MAX_ATTEMPTS = env_int("ENERGYDASH_WEBHOOK_MAX_ATTEMPTS", 12)
# After a secret rotation the replaced secret keeps signing beside the new one this long.
ENERGYDASH_WEBHOOK_SECRET_OVERLAP_HOURS = env_int("ENERGYDASH_WEBHOOK_SECRET_OVERLAP_HOURS", 24)
ENERGYDASH_WEBHOOK_TIMEOUT_SECONDS = env_int("ENERGYDASH_WEBHOOK_TIMEOUT_SECONDS", 10)
# Host names a webhook (or a provider base URL) may name although they resolve to a private or
# loopback address (core/outbound.py); every other outbound URL must be public.
ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = [
    h.strip().lower()
    for h in env_str("ENERGYDASH_WEBHOOK_ALLOWED_HOSTS", "").split(",")
    if h.strip()
]
# Maker-checker (README "Users and roles"): an order awaiting a second person's approval
# expires after this many hours; a batch whose planned total is above this many TRX waits for
# approval before any line is placed (empty: batches never wait; per-account thresholds are in
# admin).
ENERGYDASH_APPROVAL_EXPIRY_HOURS = env_int("ENERGYDASH_APPROVAL_EXPIRY_HOURS", 24)
if ENERGYDASH_APPROVAL_EXPIRY_HOURS < 1:
    raise ImproperlyConfigured("ENERGYDASH_APPROVAL_EXPIRY_HOURS must be at least 1")
_batch_approval = env_str("ENERGYDASH_BATCH_APPROVAL_ABOVE_TRX", "").strip()
try:
    ENERGYDASH_BATCH_APPROVAL_ABOVE_SUN = parse_trx(_batch_approval) if _batch_approval else None
except ValueError as exc:
    raise ImproperlyConfigured(f"ENERGYDASH_BATCH_APPROVAL_ABOVE_TRX: {exc}") from None
ENERGYDASH_HEALTH_WORKER_STALE_MINUTES = env_int("ENERGYDASH_HEALTH_WORKER_STALE_MINUTES", 10)
# Provider scorecards (orders/scorecards.py, README "Delivery on chain"): the window the providers
# page and the API show by default, and what best-price routing reads of them: an account whose
# verified-delivery rate over the last ROUTING_HEALTH_WINDOW_MINUTES is below the floor (once at
# least ROUTING_HEALTH_MIN_ORDERS of its orders there have a chain verdict) is not routed to.
ENERGYDASH_SCORECARD_WINDOW_HOURS = env_int("ENERGYDASH_SCORECARD_WINDOW_HOURS", 24)
ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES = env_int("ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES", 60)
ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT = env_int("ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT", 90)
ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS = env_int("ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS", 10)
if not 1 <= ENERGYDASH_SCORECARD_WINDOW_HOURS <= 24 * 366:
    raise ImproperlyConfigured("ENERGYDASH_SCORECARD_WINDOW_HOURS must be between 1 and 8784")
if not 1 <= ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES <= 60 * 24 * 31:
    raise ImproperlyConfigured(
        "ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES must be between 1 and 44640"
    )
if not 0 <= ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT <= 100:
    raise ImproperlyConfigured("ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT must be between 0 and 100")
if not 1 <= ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS <= 100_000:
    raise ImproperlyConfigured("ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS must be between 1 and 100000")
# /metrics (core/ops.py): served to this bearer token, or to clients inside these networks
# (comma-separated CIDRs, matched against REMOTE_ADDR). Neither set: closed to everyone.
ENERGYDASH_METRICS_TOKEN = env_str("ENERGYDASH_METRICS_TOKEN").strip()
try:
    ENERGYDASH_METRICS_NETWORKS = [
        ipaddress.ip_network(n, strict=False) for n in env_list("ENERGYDASH_METRICS_NETWORKS")
    ]
except ValueError as _exc:
    raise ImproperlyConfigured(f"ENERGYDASH_METRICS_NETWORKS: {_exc}") from None
if ENERGYDASH_METRICS_TOKEN and len(ENERGYDASH_METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("ENERGYDASH_METRICS_TOKEN must be at least 16 characters")
if ENERGYDASH_ROUTING_MAX_ATTEMPTS < 1 or ENERGYDASH_API_RATE_LIMIT_PER_MINUTE < 1:
    raise ImproperlyConfigured(
        "ENERGYDASH_ROUTING_MAX_ATTEMPTS and ENERGYDASH_API_RATE_LIMIT_PER_MINUTE "
        "must be at least 1"
    )

# LOG_FORMAT=json: one JSON object per line (python-json-logger) with the correlation fields of
# core/logcontext.py; otherwise plain text with the request id. Secrets are masked either way.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "energydash.core.logcontext.ContextFilter"},
        "redact": {"()": "energydash.core.logcontext.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": [
                "asctime",
                "levelname",
                "name",
                "message",
                "request_id",
                "order_code",
                "account",
                "provider",
                "provider_request_id",
                "task",
            ],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # httpx logs every request URL at INFO; keep it quiet so query strings stay out of logs.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # django-axes logs every login at INFO (and a banner per process); lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
