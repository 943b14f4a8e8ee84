"""The official replicate 1.0.7 client against the emulator, changed only in its base URL."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import replicate
import standardwebhooks
from replicate.client import Client
from replicate.exceptions import ModelError, ReplicateError
from replicate.helpers import FileOutput
from replicate.pagination import paginate
from replicate.prediction import Prediction
from replicate.webhook import InvalidSignatureError

from contracts import counts
from contracts.replicate import rules
from emulator import read_metadata
from emulator.core.clock import ManualClock
from tests.sdk.replicate_live import ReplicateLive, WebhookSink
from tests.support import image_bytes, present

pytestmark = pytest.mark.sdk
TOKEN = "r8_emulator"
MODEL = "bytedance/seedream-4"
CREATE = "POST /v1/models/{owner}/{name}/predictions"
POLL = "GET /v1/predictions/{id}"


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_POLL_INTERVAL", "0.02")


@pytest.fixture(scope="module")
def live() -> Iterator[ReplicateLive]:
    with ReplicateLive(timing="instant") as server:
        yield server


@pytest.fixture
def client(live: ReplicateLive) -> Client:
    live.runtime.journal.reset()
    return Client(api_token=TOKEN, base_url=live.base)


@pytest.fixture
def manual() -> Iterator[ReplicateLive]:
    with ReplicateLive(timing="realistic", clock=ManualClock()) as server:
        yield server


def listed(output: object) -> list[Any]:
    """What `run` returned for this model's array output: replicate types it as maybe an iterator, but it is a list."""
    assert isinstance(output, list), output
    return output


def status(prediction: Prediction) -> str:
    """The status now: `wait()` and `cancel()` change it, which an earlier `==` would otherwise pin for mypy."""
    return prediction.status


def record(output: FileOutput) -> dict[str, Any]:
    return read_metadata(output.read())


def fetched(url: str) -> dict[str, Any]:
    """The evidence record of an `http:` output, which replicate 1.0.7 hands over as a plain str."""
    response = httpx.get(url)
    response.raise_for_status()
    return read_metadata(response.content)


def test_run_sync_path_returns_file_outputs_from_data_uris(client: Client, live: ReplicateLive) -> None:
    output = client.run(MODEL, input={"prompt": "a red fox in fresh snow", "size": "1K", "aspect_ratio": "16:9"})
    assert isinstance(output, list) and len(output) == 1
    [item] = output
    assert isinstance(item, FileOutput) and item.url.startswith("data:image/jpeg;base64,")
    meta = record(item)
    assert (meta["width"], meta["height"], meta["model"], meta["provider"]) == (1312, 736, MODEL, "replicate")
    assert live.routes() == [CREATE], "a finished sync reply needs no polling"
    [entry] = live.runtime.journal.entries(surface="replicate")
    assert entry.status == 201 and entry.valid


def test_module_level_run_with_environment_variables(live: ReplicateLive, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", live.base)
    monkeypatch.setattr(replicate, "default_client", Client())
    output = listed(replicate.run(MODEL, input={"prompt": "module level", "size": "1K"}))
    assert record(output[0])["width"] == 1024


def test_run_polling_path(client: Client, live: ReplicateLive) -> None:
    output = client.run(
        MODEL,
        input={
            "prompt": counts.ask("polled", 3),
            "size": "1K",
            "sequential_image_generation": "auto",
            "max_images": 5,
        },
        wait=False,
    )
    # Polled outputs are file URLs, as in production; over plain HTTP the client leaves http: URLs as str.
    assert all(isinstance(item, str) and item.startswith(f"{live.base}/files/tmp") for item in output)
    assert [fetched(item)["index"] for item in output] == [0, 1, 2], "the model made the 3 the prompt asked for"
    routes = live.routes()
    # With timing=instant a "Prefer: wait" create would have come back finished; polling proves it was not sent.
    assert routes[0] == CREATE and routes[1:] and set(routes[1:]) == {POLL}


def test_sync_window_ending_first_falls_back_to_polling(manual: ReplicateLive) -> None:
    client = Client(api_token=TOKEN, base_url=manual.base)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(client.run, MODEL, input={"prompt": "slow", "size": "4K", "aspect_ratio": "3:2"}, wait=1)
        manual.drive_until(future.done)
        output = listed(future.result())
    # The client polled, and polled outputs are file URLs: over plain HTTP it leaves them as str.
    assert isinstance(output[0], str)
    meta = fetched(output[0])
    assert (meta["width"], meta["height"]) == (4992, 3328)
    routes = manual.routes()
    assert routes[0] == CREATE and POLL in routes
    create = manual.runtime.journal.entries(route=CREATE)[0]
    assert create.status == 201


def test_predictions_create_then_wait(client: Client) -> None:
    prediction = client.predictions.create(model=MODEL, input={"prompt": "create and wait", "size": "1K"})
    assert prediction.status == "starting" and prediction.version == "hidden"
    assert present(prediction.urls)["get"].endswith(f"/v1/predictions/{prediction.id}")
    prediction.wait()
    assert status(prediction) == "succeeded"
    metrics = present(prediction.metrics)
    assert metrics["predict_time"] >= 0 and prediction.completed_at
    assert prediction.progress is not None and prediction.progress.percentage == 1.0
    assert "image_count" not in metrics
    [item] = listed(prediction.output)
    assert item.startswith("http://") and item.endswith(".jpg"), "GET hands out file URLs"
    assert fetched(item)["job_id"] == prediction.id


def test_versioned_runs_fetch_the_version(client: Client, live: ReplicateLive) -> None:
    version = rules.LATEST_VERSION["id"]
    output = listed(client.run(f"{MODEL}:{version}", input={"prompt": "pinned", "size": "1K"}))
    assert record(output[0])["width"] == 1024
    assert live.routes() == ["POST /v1/predictions", "GET /v1/models/{owner}/{name}/versions/{version_id}"]
    prediction = client.predictions.create(version=version, input={"prompt": "by id", "size": "1K"})
    prediction.wait()
    assert prediction.status == "succeeded"


def test_cancel(manual: ReplicateLive) -> None:
    client = Client(api_token=TOKEN, base_url=manual.base)
    prediction = client.predictions.create(model=MODEL, input={"prompt": "cancel me"})
    assert prediction.status == "starting"
    prediction.cancel()
    assert status(prediction) == "canceled"
    again = client.predictions.get(prediction.id)
    assert again.status == "canceled" and again.output is None and again.error is None
    other = client.predictions.create(model=MODEL, input={"prompt": "cancel me too"})
    manual.advance(0.6)
    canceled = client.predictions.cancel(other.id)
    assert canceled.status == "canceled" and canceled.started_at


async def test_async_run(live: ReplicateLive) -> None:
    client = Client(api_token=TOKEN, base_url=live.base)
    output = listed(await client.async_run(MODEL, input={"prompt": "async", "size": "1K", "aspect_ratio": "9:16"}))
    meta = read_metadata(await output[0].aread())
    assert (meta["width"], meta["height"]) == (736, 1312)
    polled = listed(await client.async_run(MODEL, input={"prompt": "async polled", "size": "1K"}, wait=False))
    async with httpx.AsyncClient() as http:
        assert read_metadata((await http.get(polled[0])).content)["width"] == 1024
    prediction = await client.predictions.async_create(model=MODEL, input={"prompt": "async create", "size": "1K"})
    await prediction.async_wait()
    assert prediction.status == "succeeded"


def test_local_file_as_image_input(client: Client, live: ReplicateLive, tmp_path: Path) -> None:
    picture = tmp_path / "portrait.png"
    picture.write_bytes(image_bytes(900, 1600))
    output = listed(client.run(MODEL, input={"prompt": "edit", "size": "2K", "image_input": [picture]}))
    meta = record(output[0])
    assert (meta["width"], meta["height"], meta["reference_count"]) == (1440, 2560, 1)
    assert live.routes()[0] == "POST /v1/files"
    [uploaded] = client.files.list()
    assert uploaded.name == "portrait.png" and uploaded.content_type == "image/png"
    inline = listed(
        client.run(
            MODEL,
            input={"prompt": "inline", "size": "1K", "image_input": [io.BytesIO(image_bytes(1600, 900))]},
            file_encoding_strategy="base64",
        )
    )
    assert (record(inline[0])["width"], record(inline[0])["height"]) == (1312, 736)


def test_files_api(client: Client) -> None:
    created = client.files.create(io.BytesIO(b"some bytes"), filename="notes.txt", metadata={"k": "v"})
    assert (created.name, created.size, created.metadata) == ("notes.txt", 10, {"k": "v"})
    assert created.checksums["md5"] == created.etag
    assert client.files.get(created.id).id == created.id
    assert created.id in {f.id for f in client.files.list()}
    assert client.files.delete(created.id) is True
    with pytest.raises(ReplicateError) as raised:
        client.files.get(created.id)
    assert raised.value.status == 404


def test_422_surfaces_as_replicate_error(client: Client) -> None:
    with pytest.raises(ReplicateError) as raised:
        client.run(MODEL, input={"size": "8K"})
    error = raised.value
    assert (error.status, error.title) == (422, "Input validation failed")
    assert present(error.detail).startswith(
        "- input: prompt is required\n- input.size: size must be one of the following:"
    )


def test_401_surfaces_as_replicate_error(live: ReplicateLive) -> None:
    with pytest.raises(ReplicateError) as raised:
        Client(api_token=None, base_url=live.base).run(MODEL, input={"prompt": "x"})
    assert (raised.value.status, raised.value.title) == (401, "Unauthenticated")


def test_run_time_limits_raise_model_error(client: Client) -> None:
    with pytest.raises(ModelError) as raised:
        client.run(MODEL, input={"prompt": "x", "image_input": ["https://example.com/a.png"] * 11})
    assert raised.value.prediction.status == "failed"
    assert str(raised.value) == "Too many input images: 11 were given, at most 10 are supported"


def test_waits_above_sixty_seconds_are_held_sixty_not_refused(client: Client, live: ReplicateLive) -> None:
    output = listed(client.run(MODEL, input={"prompt": "long wait", "size": "1K"}, wait=120))
    assert isinstance(output[0], FileOutput) and record(output[0])["width"] == 1024
    [entry] = live.runtime.journal.entries(surface="replicate")
    assert entry.status == 201 and any("held 60 s" in note for note in entry.notes)


def test_strict_mode_refuses_a_loopback_webhook_as_a_422(live: ReplicateLive) -> None:
    client = Client(api_token=TOKEN, base_url=live.base)
    live.runtime.targets.strict = True
    try:
        with pytest.raises(ReplicateError) as raised:
            client.predictions.create(model=MODEL, input={"prompt": "x"}, webhook="http://127.0.0.1:9/hook")
    finally:
        live.runtime.targets.strict = False
    assert raised.value.status == 422 and "webhook must be an HTTPS URL" in (raised.value.detail or "")


def test_use_file_output_false_returns_strings(client: Client) -> None:
    output = listed(client.run(MODEL, input={"prompt": "raw", "size": "1K"}, use_file_output=False))
    assert isinstance(output[0], str) and output[0].startswith("data:")


def test_models_versions_account_and_pagination(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    model = client.models.get(MODEL)
    assert model.latest_version is not None and model.latest_version.cog_version
    assert "Input" in model.latest_version.openapi_schema["components"]["schemas"]
    assert [v.id for v in model.versions.list()] == [v["id"] for v in rules.VERSIONS]
    account = client.accounts.current()
    assert account.name and account.username
    ids = [client.predictions.create(model=MODEL, input={"prompt": f"page {n}", "size": "1K"}).id for n in range(5)]
    monkeypatch.setitem(rules.RULES, "pageSize", 2)
    first = client.predictions.list()
    assert (
        len(first.results) == 2 and first.next and first.next.startswith(f"{client._base_url}/v1/predictions?cursor=")
    )
    seen = [p.id for page in paginate(client.predictions.list) for p in page]
    assert seen[:5] == ids[::-1]


def test_tls_mode_serves_https_outputs_that_file_output_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ReplicateLive(tls_dir=tmp_path / "tls", timing="instant") as server:
        assert server.base.startswith("https://") and server.tls is not None
        ca = server.tls.ca_cert
        assert ca == tmp_path / "tls" / "ca.pem" and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        client = Client(api_token=TOKEN, base_url=server.base)
        polled = listed(
            client.run(MODEL, input={"prompt": "over tls", "size": "1K", "aspect_ratio": "21:9"}, wait=False)
        )
        [item] = polled
        assert (
            isinstance(item, FileOutput)
            and item.url.startswith(f"{server.base}/files/tmp")
            and item.url.endswith(".jpg")
        )
        meta = record(item)
        assert (meta["width"], meta["height"], meta["prompt_sha256"]) == (1568, 672, _sha("over tls"))
        downloads = server.runtime.journal.entries(surface="files")
        assert downloads and downloads[-1].status == 200, "the Authorization header sent by FileOutput is tolerated"
        synced = listed(client.run(MODEL, input={"prompt": "sync over tls", "size": "1K"}))
        assert synced[0].url.startswith("data:image/jpeg;base64,"), "sync replies inline small files"
        streamed = b"".join(polled[0])
        assert read_metadata(streamed)["job_id"] == meta["job_id"]


def test_tls_url_mode_puts_urls_in_sync_replies_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ReplicateLive(tls_dir=tmp_path, timing="instant", replicate_file_output="url") as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(present(server.tls).ca_cert))
        output = listed(
            Client(api_token=TOKEN, base_url=server.base).run(MODEL, input={"prompt": "urls", "size": "1K"})
        )
        assert output[0].url.startswith("https://127.0.0.1:")
        assert record(output[0])["width"] == 1024


def test_tls_without_trusting_the_ca_fails_verification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with (
        ReplicateLive(tls_dir=tmp_path, timing="instant") as server,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        Client(api_token=TOKEN, base_url=server.base).accounts.current()


def test_received_webhooks_verify_with_the_client_and_standardwebhooks(live: ReplicateLive) -> None:
    client = Client(api_token=TOKEN, base_url=live.base)
    with WebhookSink() as sink:
        prediction = client.predictions.create(model=MODEL, input={"prompt": "hooked", "size": "1K"}, webhook=sink.url)
        prediction.wait()
        received = sink.wait_for(2)
    secret = client.webhooks.default.secret()
    assert secret.key.startswith("whsec_")
    verifier = standardwebhooks.Webhook(secret.key)
    statuses = []
    for hook in received:
        assert hook.path == "/hooks"
        client.webhooks.validate(
            headers=hook.headers, body=hook.body.decode(), secret=secret, tolerance=300
        )  # raises if invalid
        payload = verifier.verify(hook.body, hook.headers)
        assert payload["id"] == prediction.id and payload["version"] == "hidden"
        statuses.append(payload["status"])
    # "Webhooks may arrive out of order" (Replicate's docs): with instant timing both go out at one instant.
    assert sorted(statuses) == ["starting", "succeeded"]
    [last] = [hook for hook in received if json.loads(hook.body)["status"] == "succeeded"]
    completed = json.loads(last.body)
    assert completed["output"] == client.predictions.get(prediction.id).output
    assert completed["output"][0].startswith(f"{live.base}/files/tmp"), "webhooks carry file URLs"
    tampered = dict(last.headers, **{"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()})
    with pytest.raises(InvalidSignatureError):
        client.webhooks.validate(headers=tampered, body=last.body.decode(), secret=secret)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_429_on_create_surfaces_without_retries(client: Client, live: ReplicateLive) -> None:
    capacity, live.runtime.jobs.max_active = live.runtime.jobs.max_active, 0
    try:
        with pytest.raises(ReplicateError) as raised:
            client.run(MODEL, input={"prompt": "too many"})
    finally:
        live.runtime.jobs.max_active = capacity
    assert raised.value.status == 429 and "throttled" in (raised.value.detail or "")
    assert live.routes() == [CREATE], "replicate 1.0.7 never retries a POST"
