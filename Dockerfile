FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY contracts ./contracts
COPY conformance ./conformance
RUN pip install . && useradd --create-home --uid 10001 seedream

USER seedream
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/_emulator/health', timeout=2)"]
ENTRYPOINT ["seedream-emulator"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
