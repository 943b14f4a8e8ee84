from emulator.core.artifacts import Artifact
from emulator.core.runtime import Runtime


def test_public_url_overrides_the_request_origin() -> None:
    assert (
        Runtime.create(seed=1, public_url="https://e.example/").base_url("http://127.0.0.1:8000") == "https://e.example"
    )
    assert Runtime.create(seed=1).base_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"


def test_file_urls_name_the_artifact_and_its_extension() -> None:
    artifact = Artifact("abc", "image/png", "png", expires_at=0)
    assert Runtime.file_url("http://h", artifact) == "http://h/files/abc.png"


def test_plans_follow_the_timing_profile() -> None:
    plan = Runtime.create(seed=1, timing="realistic").plan(pixels=2048 * 2048, count=2)
    assert plan.queue_seconds == 0.5
    assert len(plan.output_offsets) == 2 and plan.output_offsets[0] < plan.output_offsets[1]


async def test_reset_forgets_everything_and_replays_ids() -> None:
    runtime = Runtime.create(seed=5)
    first = runtime.ids.uuid4()
    runtime.journal.open(0, "http", "GET", "/")
    runtime.reset()
    assert len(runtime.journal) == 0 and len(runtime.jobs) == 0
    assert runtime.ids.uuid4() == first
    await runtime.aclose()
