"""GET /v1/predictions: cursor pages whose next/previous URLs point back at the emulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.replicate import rules
from tests.support import contract_errors

from .conftest import AUTH, Replicate, ReplicateFactory


async def create_many(replicate: Replicate, count: int) -> list[str]:
    return [(await replicate.create({"size": "1K"})).json()["id"] for _ in range(count)]


async def test_pages_follow_next_and_previous(
    make_replicate: ReplicateFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(rules.RULES, "pageSize", 3)
    replicate = await make_replicate(provider="all")
    ids = await create_many(replicate, 7)
    newest_first = ids[::-1]
    pages, url = [], "/replicate/v1/predictions"
    while url:
        body = (await replicate.get(url)).json()
        assert contract_errors("replicate", "predictionPage", body) == []
        pages.append(body)
        url = body["next"]
        if url:
            assert url.startswith("http://testserver/replicate/v1/predictions?cursor=")
    assert [[p["id"] for p in page["results"]] for page in pages] == [
        newest_first[0:3],
        newest_first[3:6],
        newest_first[6:7],
    ]
    assert pages[0]["previous"] is None
    back = (await replicate.get(pages[2]["previous"])).json()
    assert [p["id"] for p in back["results"]] == newest_first[3:6]
    assert back["previous"] is not None and back["next"] is not None
    first_again = (await replicate.get(back["previous"])).json()
    assert [p["id"] for p in first_again["results"]] == newest_first[0:3]
    assert first_again["previous"] is None


async def test_a_full_page_holds_one_hundred(replicate: Replicate) -> None:
    await create_many(replicate, rules.RULES["pageSize"] + 1)
    body = (await replicate.get("predictions")).json()
    assert len(body["results"]) == 100 and body["next"]
    rest = (await replicate.get(body["next"])).json()
    assert len(rest["results"]) == 1 and rest["next"] is None


async def test_results_carry_file_urls_not_data_uris(replicate: Replicate) -> None:
    done = await replicate.run({"size": "1K"})
    [listed] = (await replicate.get("predictions")).json()["results"]
    assert listed["id"] == done["id"] and listed["status"] == "succeeded"
    assert listed["output"][0].startswith("http://testserver/files/tmp")


async def test_created_after_and_before_filter(make_replicate: ReplicateFactory, clock) -> None:
    replicate = await make_replicate(clock=clock)
    early = await create_many(replicate, 2)
    clock.advance(60)
    middle = datetime.fromtimestamp(clock.now() - 30, UTC).isoformat()
    late = await create_many(replicate, 2)
    after = (await replicate.get("predictions", params={"created_after": middle})).json()
    assert [p["id"] for p in after["results"]] == late[::-1]
    before = (await replicate.get("predictions", params={"created_before": middle.replace("+00:00", "Z")})).json()
    assert [p["id"] for p in before["results"]] == early[::-1]
    naive = (await replicate.get("predictions", params={"created_after": middle.replace("+00:00", "")})).json()
    assert [p["id"] for p in naive["results"]] == late[::-1]


async def test_filters_survive_in_cursor_urls(
    make_replicate: ReplicateFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(rules.RULES, "pageSize", 1)
    replicate = await make_replicate()
    await create_many(replicate, 2)
    body = (await replicate.get("predictions", params={"created_after": "2000-01-01T00:00:00Z"})).json()
    assert "created_after=2000-01-01T00%3A00%3A00Z" in body["next"]


async def test_source_web_is_empty(replicate: Replicate) -> None:
    await create_many(replicate, 1)
    assert (await replicate.get("predictions", params={"source": "web"})).json()["results"] == []


@pytest.mark.parametrize("cursor", ["garbage!", "cD1hYmM", "eD0x", ""])
async def test_invalid_cursors_are_404(replicate: Replicate, cursor: str) -> None:
    response = await replicate.get("predictions", params={"cursor": cursor})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor", "status": 404}


async def test_invalid_dates_are_400(replicate: Replicate) -> None:
    response = await replicate.get("predictions", params={"created_after": "yesterday"})
    assert response.status_code == 400 and "created_after" in response.json()["detail"]


@pytest.fixture(scope="module")
def sync_client():
    from emulator import Settings, create_app
    from tests.support import SyncClient

    client = SyncClient(create_app(Settings(timing="instant", seed=4, provider="replicate")))
    client.post(
        "/v1/models/bytedance/seedream-4/predictions", json={"input": {"prompt": "x", "size": "1K"}}, headers=AUTH
    )
    yield client
    client.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["cursor", "created_after", "created_before", "source", "other"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=40),
        max_size=4,
    )
)
def test_any_query_is_answered_without_a_server_error(sync_client, params: dict[str, str]) -> None:
    for path in ("/v1/predictions", "/v1/files"):
        response = sync_client.get(path, params=params, headers=AUTH)
        assert response.status_code in (200, 400, 404), response.text
        if response.status_code == 200:
            assert (
                contract_errors("replicate", "predictionPage" if "predictions" in path else "filePage", response.json())
                == []
            )
