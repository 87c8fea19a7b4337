# tongban: the web app, the worker and the beat in one image (compose.yaml runs each from it).
# Build: docker build -t tongban .   Run: see compose.yaml and docs/operations.md ("Containers").

FROM python:3.11-slim AS build
WORKDIR /src
# the source as the wheel's build sees it (.dockerignore leaves out tests, benchmarks, local state)
COPY . .
# the wheel, without the dev extras (tests, linters, browsers)
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    TONGBAN_INSTANCE=/var/lib/tongban \
    TONGBAN_PROCESSES=/app/processes \
    TONGBAN_FORMS=/app/forms \
    PROMETHEUS_MULTIPROC_DIR=/tmp/tongban-metrics
RUN groupadd --system --gid 10001 tongban \
 && useradd --system --uid 10001 --gid tongban --home-dir /var/lib/tongban --shell /usr/sbin/nologin tongban \
 && install -d -o tongban -g tongban /var/lib/tongban
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
COPY processes /app/processes
COPY forms /app/forms
USER tongban
WORKDIR /var/lib/tongban
VOLUME /var/lib/tongban
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
CMD ["gunicorn", "-c", "python:api.gunicorn_conf", "-w", "4", "-b", "0.0.0.0:8000", "api:create_app()"]
