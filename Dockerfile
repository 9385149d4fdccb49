# syntax=docker/dockerfile:1
# caseledger service image.
#
#   docker build -t caseledger .
#   docker run -p 8000:8000 \
#     -e DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB caseledger
#
# Configuration comes from environment variables: DATABASE_URL and the
# CASELEDGER_* settings of app/settings.py. Without DATABASE_URL the service runs
# its embedded PostgreSQL with its data in the volume /app/.data
# (CASELEDGER_DATA_DIR, default /app/.data/postgres). The first start prints an
# admin API key once: read it with `docker logs`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# tini as PID 1: forwards SIGTERM to the service (which then stops the embedded
# PostgreSQL cleanly) and reaps the postmaster that pg_ctl detaches.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

# Dependencies in their own layer, rebuilt only when the lock changes. The lock
# is the one of `python3 dev.py`, dev tools included: one lock, hash-checked.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

# The project, editable like in development: the service finds its files beside
# the package (alembic/, openapi.yaml) in /app. Owned by root, read-only to the service.
WORKDIR /app
COPY . .
RUN pip install --no-deps -e . \
    && python -m compileall -q app

RUN useradd --system --create-home --user-group --uid 10001 caseledger \
    && mkdir -p /app/.data \
    && chown caseledger:caseledger /app/.data
USER caseledger
VOLUME ["/app/.data"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["tini", "--"]
CMD ["caseledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
