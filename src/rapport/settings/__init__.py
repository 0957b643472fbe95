"""Django settings for Rapport, read from ``RAPPORT_*`` variables with embedded defaults.

Defaults give the embedded set-up: SQLite (WAL) under ``./var``, the database task queue, and
the local mail catcher as the SMTP server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from rapport.settings.env import (
    ConfigError,
    data_dir,
    email_provider,
    env_bool,
    env_int,
    env_json_object,
    env_list,
    env_str,
    imap_mailbox,
    smtp_limits,
    smtp_mailer,
)
from rapport.settings.env import secret_key as _secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()

SECRET_KEY = _secret_key(DATA_DIR)
DEBUG = env_bool("RAPPORT_DEBUG", False)
ALLOWED_HOSTS = env_list("RAPPORT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("RAPPORT_CSRF_TRUSTED_ORIGINS", [])
LISTEN = env_str("RAPPORT_LISTEN", "127.0.0.1:8000")
BASE_URL = env_str("RAPPORT_BASE_URL", f"http://{LISTEN}")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "anymail",
    "rapport.accounts",
    "rapport.crm",
    "rapport.delivery",
    "rapport.automation",
    "rapport.segments",
    "rapport.content",
    "rapport.campaigns",
    "rapport.tracking",
    "rapport.analytics",
    "rapport.api",
    "rapport.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rapport.accounts.middleware.UserLanguageActivationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "rapport.urls"
WSGI_APPLICATION = "rapport.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rapport.accounts.context_processors.permissions",
            ],
        },
    },
]


def _database(url: str) -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as error:
        raise ConfigError(f"RAPPORT_DATABASE_URL={url!r} cannot be used: {error}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        # WAL lets the web app read while the worker writes; IMMEDIATE transactions take the
        # write lock up front, so two writers queue instead of failing with "database is locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
            ),
        }
        config.setdefault("TEST", {})["NAME"] = str(DATA_DIR / "test.sqlite3")
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Segment counts hash sets of contact ids (NOT IN a grouped subquery); at a million
        # contacts those need more than the default 4 MB, or PostgreSQL re-scans per row.
        # JIT compiling spent 30-50 ms of a 300 ms purchase-window count at a million
        # contacts (bench/segments.py) and never paid back in our queries, which are short.
        options = config.setdefault("OPTIONS", {})
        work_mem = env_str("RAPPORT_PG_WORK_MEM", "64MB")
        options.setdefault("options", f"-c work_mem={work_mem} -c jit=off")
    return config


DATABASE_URL = env_str("RAPPORT_DATABASE_URL", f"sqlite:///{DATA_DIR / 'rapport.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work: the database queue by default (any number of workers share it on
# PostgreSQL); RAPPORT_TASK_BACKEND=immediate runs tasks inline (tests, one-off scripts).
TASK_BACKEND = env_str("RAPPORT_TASK_BACKEND", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
if TASK_BACKEND not in _TASK_BACKENDS:
    raise ConfigError(
        f"RAPPORT_TASK_BACKEND={TASK_BACKEND!r}: choose one of {', '.join(_TASK_BACKENDS)}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND], "QUEUES": []}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("RAPPORT_TIME_ZONE", "UTC")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
# WhiteNoise serves straight from the apps' static folders: no collectstatic step in the
# embedded set-up, and no CDN (the product works offline).
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "rapport.analytics.staticfiles.PlotlyFinder",  # vendor/plotly.min.js from the package
]
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = DATA_DIR / "files"
IMPORT_DIR = DATA_DIR / "imports"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SMTP_URL = env_str("RAPPORT_SMTP_URL", "smtp://127.0.0.1:1025")
# Staff mail (test sends, notifications) goes through Django's SMTP backend; campaigns use
# the delivery pipeline, which reads the same URL.
MAILERS = {"default": smtp_mailer(SMTP_URL)}
SMTP_LIMITS = smtp_limits(SMTP_URL)  # connections, per_domain, rate: checked at start-up
# Where bounces come back (VERP return paths, bounces+<delivery>@DOMAIN); empty: the domain of
# the From address. Its mailbox is read by the bounce processor.
BOUNCE_DOMAIN = env_str("RAPPORT_BOUNCE_DOMAIN", "")
# Campaigns through a provider's API (django-anymail) instead of SMTP: its name, and anymail's
# settings (API keys, webhook signing keys, WEBHOOK_SECRET "user:password") as JSON.
EMAIL_PROVIDER = email_provider("RAPPORT_EMAIL_PROVIDER")
ANYMAIL = env_json_object("RAPPORT_ANYMAIL")
# Rows a worker claims at a time: the chunk that two or more workers share a campaign by.
SEND_BATCH = env_int("RAPPORT_SEND_BATCH", 200)
# Journey entries the engine takes per transaction (automation.engine).
JOURNEY_BATCH = env_int("RAPPORT_JOURNEY_BATCH", 1000)
# The mailbox those bounces land in, read every five minutes; empty: not read.
BOUNCE_MAILBOX = imap_mailbox(env_str("RAPPORT_BOUNCE_IMAP_URL", ""))
MAILCATCHER_LISTEN = env_str("RAPPORT_MAILCATCHER_LISTEN", "127.0.0.1:1025")
IMPORT_BATCH_SIZE = env_int("RAPPORT_IMPORT_BATCH_SIZE", 2000)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("RAPPORT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("RAPPORT_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One INFO line per detector per message, and a traceback when one of them trips on
        # a broken message, which bounces.py already reports in a line.
        "flufl.bounce": {"level": "CRITICAL"},
        "mail.log": {"level": "WARNING"},  # aiosmtpd (the mail catcher): one per SMTP command
    },
}
