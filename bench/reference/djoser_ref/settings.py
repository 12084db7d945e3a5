"""Settings of the reference Djoser project.

A deliberately minimal Django + DRF + Djoser setup with *default* Djoser
behaviour, used as the wire-behaviour and speed oracle for authgate.

Environment variables:
    REFERENCE_DB_PATH               SQLite file (default: bench/reference/ref.sqlite3)
    REFERENCE_SECRET_KEY            SECRET_KEY (default: an insecure dev key)
    REFERENCE_EMAIL_HOST            SMTP host (default 127.0.0.1)
    REFERENCE_EMAIL_PORT            SMTP port (default 1025)
    REFERENCE_SEND_ACTIVATION_EMAIL "1" turns Djoser's SEND_ACTIVATION_EMAIL on
    REFERENCE_DJOSER_JSON           JSON object merged over DJOSER (default: none)
    REFERENCE_SIMPLE_JWT_JSON       JSON object of SIMPLE_JWT overrides (default: none); with
                                    BLACKLIST_AFTER_ROTATION true, SimpleJWT's token_blacklist
                                    app is installed too (it is what blacklists); with
                                    JWK_URL, POST /jwks-refetch/ refills SimpleJWT's JWKS
                                    cache (djoser_ref/urls.py)
    REFERENCE_FAST_HASHER           "1" hashes passwords with Django's MD5PasswordHasher, as
                                    Django advises for tests where hashing is not the point
                                    (its default PBKDF2, a million rounds, costs 0.2 s of
                                    CPU a hash); unset (the benchmarks): Django's default
"""

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get(
    "REFERENCE_SECRET_KEY",
    "django-insecure-reference-djoser-dev-key-not-for-production-use-0123456789",
)
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "djoser",
    "bench_seed",
]

# Django's startproject middleware (minus messages, which is not installed),
# with LocaleMiddleware so Accept-Language: ru answers in Russian.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "djoser_ref.urls"
WSGI_APPLICATION = "djoser_ref.wsgi.application"

# Djoser renders its e-mails from templates shipped inside the djoser app.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("REFERENCE_DB_PATH", str(BASE_DIR / "ref.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if os.environ.get("REFERENCE_FAST_HASHER") == "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
LANGUAGES = [
    ("en", "English"),
    ("ru", "Russian"),
]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("REFERENCE_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("REFERENCE_EMAIL_PORT", "1025"))
EMAIL_USE_TLS = False
EMAIL_USE_SSL = False
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = "webmaster@localhost"

REST_FRAMEWORK = {
    # Token first, so an unauthenticated request gets 401 + WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": ("rest_framework.authentication.TokenAuthentication",),
}

DJOSER = {
    "PASSWORD_RESET_CONFIRM_URL": "password/reset/confirm/{uid}/{token}",
    "USERNAME_RESET_CONFIRM_URL": "username/reset/confirm/{uid}/{token}",
    "ACTIVATION_URL": "activate/{uid}/{token}",
    "SEND_ACTIVATION_EMAIL": os.environ.get("REFERENCE_SEND_ACTIVATION_EMAIL") == "1",
}
# Escape hatch for differential tests of non-default Djoser settings, e.g.
# REFERENCE_DJOSER_JSON='{"SET_USERNAME_RETYPE": true}'. Empty by default.
DJOSER.update(json.loads(os.environ.get("REFERENCE_DJOSER_JSON") or "{}"))

# SimpleJWT's defaults (SIGNING_KEY = SECRET_KEY) unless overridden, e.g.
# REFERENCE_SIMPLE_JWT_JSON='{"ROTATE_REFRESH_TOKENS": true, "BLACKLIST_AFTER_ROTATION": true}'.
# rest_framework_simplejwt itself stays out of INSTALLED_APPS (as in Djoser's docs), so its
# messages are not translated.
SIMPLE_JWT = json.loads(os.environ.get("REFERENCE_SIMPLE_JWT_JSON") or "{}")
if SIMPLE_JWT.get("BLACKLIST_AFTER_ROTATION"):
    INSTALLED_APPS.append("rest_framework_simplejwt.token_blacklist")

# Django's default logging prints nothing for 4xx when DEBUG is False; keep it
# that way (a benchmark must not pay for a log line per 401) but let 5xx
# tracebacks reach gunicorn's output.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "level": "ERROR"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
