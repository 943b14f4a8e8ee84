import asyncio
import tracemalloc

import pytest

from contracts.fixtures import fixture_id
from emulator.core.artifacts import ArtifactStore, RenderCache, StorageFull
from emulator.core.clock import ManualClock
from emulator.core.images import inspect
from emulator.core.render import GenerationSpec


def spec(index: int = 0, width: int = 64, height: int = 64) -> GenerationSpec:
    return GenerationSpec.create(
        prompt="p",
        provider="test",
        model="m",
        job_id="j",
        index=index,
        seed=1,
        width=width,
        height=height,
        format="jpeg",
        quality=90,
        reference_count=0,
    )


async def test_generated_artifacts_render_lazily_and_once(clock: ManualClock) -> None:
    store = ArtifactStore(clock)
    artifact = store.add_generated("a1", spec(), ttl=60)
    assert store.cache.renders == 0
    results = await asyncio.gather(*(store.content(artifact) for _ in range(10)))
    assert store.cache.renders == 1
    assert len(set(results)) == 1
    await store.content(artifact)
    assert store.cache.renders == 1


async def test_render_cache_stays_within_its_byte_budget() -> None:
    cache = RenderCache(max_bytes=20_000)
    for index in range(30):
        await cache.get(spec(index, 128, 128))
    assert 0 < cache.size_bytes <= 20_000
    assert len(cache) < 30


async def test_artifacts_expire_after_their_ttl(clock: ManualClock) -> None:
    store = ArtifactStore(clock)
    store.add_generated("a1", spec(), ttl=60)
    clock.advance(59.9)
    assert store.get("a1") is not None
    clock.advance(0.1)
    assert store.get("a1") is None
    assert len(store) == 0


def test_uploads_are_held_within_their_byte_budget(clock: ManualClock) -> None:
    store = ArtifactStore(clock, upload_bytes=1000)
    store.add_blob("u1", b"x" * 600, "image/png", "png", ttl=10)
    with pytest.raises(StorageFull):
        store.add_blob("u2", b"x" * 600, "image/png", "png", ttl=10)
    clock.advance(10)
    store.add_blob("u2", b"x" * 600, "image/png", "png", ttl=10)
    assert store.blob_bytes == 600


def test_ten_thousand_finished_2k_jobs_hold_no_images(clock: ManualClock) -> None:
    store = ArtifactStore(clock)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index in range(10_000):
        store.add_generated(f"a{index}", spec(index, 2048, 2048), ttl=3600)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(store) == 10_000
    assert store.cache.size_bytes == 0
    assert grown < 20 * 2**20, f"{grown / 2**20:.1f} MiB for 10,000 artifact records"


def test_store_keeps_at_most_max_artifacts(clock: ManualClock) -> None:
    store = ArtifactStore(clock, max_artifacts=5)
    for index in range(8):
        store.add_generated(f"a{index}", spec(index), ttl=60)
    assert len(store) == 5
    assert store.get("a0") is None and store.get("a7") is not None


async def test_remote_artifacts_have_no_bytes(clock: ManualClock) -> None:
    store = ArtifactStore(clock)
    artifact = store.add_remote("r1", "https://example.com/a.png", ttl=60)
    with pytest.raises(LookupError):
        await store.content(artifact)


@pytest.mark.parametrize(
    ("width", "height", "extension", "media"),
    [(64, 48, "png", "image/png"), (90, 160, "jpg", "image/jpeg"), (300, 20, "webp", "image/webp")],
)
def test_reference_fixtures_exist_on_demand_at_their_size(
    clock: ManualClock, width: int, height: int, extension: str, media: str
) -> None:
    store = ArtifactStore(clock)
    artifact = store.get(fixture_id(width, height, extension))
    assert artifact is not None and artifact.blob is not None and artifact.media_type == media
    info = inspect(artifact.blob)
    assert (info.width, info.height, info.media_type) == (width, height, media)
    assert store.get(fixture_id(width, height, extension)) is artifact


@pytest.mark.parametrize("name", ["fixture-0x10-png", "fixture-10x10-gif", "fixture-7000x7000-png", "fixture-01x5-png"])
def test_other_fixture_names_are_unknown(clock: ManualClock, name: str) -> None:
    assert ArtifactStore(clock).get(name) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000/files/abc.png", "abc"),
        ("http://127.0.0.1:8000/files/abc", None),
        ("http://127.0.0.1:9999/files/abc.png", None),
        ("http://127.0.0.1:8000/other/abc.png", None),
        ("http://[::1/files/abc.png", None),
    ],
)
def test_own_urls_are_recognised_by_host_and_path(url: str, expected: str | None) -> None:
    assert ArtifactStore.own(url, "http://127.0.0.1:8000") == expected
    assert ArtifactStore.url("http://127.0.0.1:8000/", "abc", "png") == "http://127.0.0.1:8000/files/abc.png"


async def test_a_fixture_can_be_rendered_off_the_event_loop_before_it_is_read(clock: ManualClock) -> None:
    store = ArtifactStore(clock)
    name = fixture_id(64, 48, "png")
    await store.prepare(name)
    assert len(store) == 1
    artifact = store.get(name)
    assert artifact is not None and artifact.blob is not None
    assert inspect(artifact.blob).width == 64
    await store.prepare(name)  # held already: nothing more
    await store.prepare("not-a-fixture")
    assert len(store) == 1 and store.get(name) is artifact
