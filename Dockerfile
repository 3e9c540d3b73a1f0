# syntax=docker/dockerfile:1
# servicetrace image: one image, three processes (serve / project --follow /
# relay --follow), chosen by the compose `command`.

# --- build stage: install the package and its wheels into a venv ---------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# .dockerignore keeps tests, .venv, .git, data dirs and .env out of the context.
COPY . .
RUN pip install . \
 && servicetrace --help > /dev/null

# --- runtime stage: no build context, no pip cache, non-root ------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICETRACE_HOME=/data

COPY --from=build /opt/venv /opt/venv

# Fixed uid/gid so volume ownership is predictable across rebuilds. /data is
# created and owned here, so a fresh named volume mounted on it inherits the owner.
RUN groupadd --system --gid 10001 servicetrace \
 && useradd --system --uid 10001 --gid servicetrace --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin servicetrace \
 && mkdir -p /data/health \
 && chown -R servicetrace:servicetrace /data

USER servicetrace
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

CMD ["servicetrace", "serve", "--host", "0.0.0.0", "--port", "8080"]
