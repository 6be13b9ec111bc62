# weeklybot: one image, the four packages installed together.
FROM python:3.11-slim AS build
WORKDIR /src
# The locked versions first (hashes checked), in their own layer: a code change
# does not reinstall them. `make lock` refreshes requirements.lock.
COPY requirements.lock ./
RUN python -m venv /opt/weeklybot \
 && /opt/weeklybot/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY publishers ./publishers
COPY data ./data
RUN /opt/weeklybot/bin/pip install --no-cache-dir --no-deps . \
 && /opt/weeklybot/bin/pip check

FROM python:3.11-slim
# git: the repository source fetches the newsletter into a local mirror.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 weeklybot \
 && mkdir -p /data \
 && chown weeklybot:weeklybot /data
COPY --from=build /opt/weeklybot /opt/weeklybot
ENV PATH="/opt/weeklybot/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    WEEKLYBOT_DATABASE_PATH=/data/weeklybot.db \
    WEEKLYBOT_SERVER__PORT=8080 \
    WEEKLYBOT_SERVER__LISTEN=0.0.0.0
# /healthz, /metrics and GitHub's /github push hook (README, "Webhook mode, health and metrics")
EXPOSE 8080
USER weeklybot
WORKDIR /home/weeklybot
VOLUME ["/data"]
# The database check and, with WEEKLYBOT_SERVER__PORT, the running bot's /healthz.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
  CMD ["weeklybot", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["weeklybot"]
CMD ["run"]
