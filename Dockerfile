# authgate in a container: `docker compose up` runs it with PostgreSQL and Redis
# (docker-compose.yml); alone, it serves a SQLite file in the /data volume. It runs in prod:
# give it AUTHGATE_SECRET_KEY (make one with
# python -c "import secrets; print(secrets.token_urlsafe(32))") and AUTHGATE_SMTP_HOST.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package is built from (.dockerignore keeps the rest out).
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install ".[postgres,redis]" \
    && useradd --system --uid 10001 --no-create-home authgate \
    && mkdir /data \
    && chown authgate /data

# Never root at run time. /data holds the SQLite file when no AUTHGATE_DATABASE_URL is given.
USER authgate
WORKDIR /data
# prod: the image refuses to start without a strong AUTHGATE_SECRET_KEY and an
# AUTHGATE_SMTP_HOST (dev would write live reset and activation links to the log).
ENV AUTHGATE_ENV=prod
ENV AUTHGATE_DATABASE_URL=sqlite:////data/authgate.sqlite3
VOLUME ["/data"]
EXPOSE 8000

# Ready: the database answers at this version's schema, and Redis when one is configured
# (/readyz answers 503 otherwise, and urlopen raises). Kubernetes ignores this and probes
# /healthz (liveness) and /readyz (readiness) itself: docs/health-and-logs.md.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]

# `serve` applies pending migrations before it listens.
CMD ["authgate", "serve", "--host", "0.0.0.0", "--port", "8000"]
