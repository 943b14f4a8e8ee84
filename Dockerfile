FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SEEDREAM_EMULATOR_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY contracts ./contracts
COPY conformance ./conformance
COPY clients ./clients
RUN pip install . && useradd --create-home --uid 10001 seedream

USER seedream
EXPOSE 8000
# The port comes from SEEDREAM_EMULATOR_PORT so the health check always probes the right one.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_emulator/health' % os.environ['SEEDREAM_EMULATOR_PORT'], timeout=2)"]
ENTRYPOINT ["seedream-emulator"]
CMD ["serve", "--host", "0.0.0.0"]
