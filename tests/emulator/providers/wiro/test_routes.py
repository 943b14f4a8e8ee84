import pytest

from tests.support import contract_errors

from .conftest import Wiro, error_of

NOT_PARSED = (404, 0, "Error parsing url.")


@pytest.mark.parametrize(
    "path",
    [
        "/wiro/v1",
        "/wiro/v1/",
        "/wiro/v1/Task/List",
        "/wiro/v1/Tool/Detail",
        "/wiro/v1/task/detail",
        "/wiro/v1/Run/bytedance",
        "/wiro/v1/Run/bytedance/seedream-v4/extra",
        "/wiro/v2/Run/bytedance/seedream-v4",
        "/wiro/anything",
    ],
)
async def test_unknown_paths_are_error_parsing_url(wiro: Wiro, path: str) -> None:
    response = await wiro.client.post(path, json={"prompt": "x"})
    assert error_of(response) == NOT_PARSED
    assert contract_errors("wiro", "error", response.json()) == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_every_call_is_a_post(wiro: Wiro, method: str) -> None:
    response = await wiro.client.request(method, "/wiro/v1/Task/Detail", headers=wiro.headers())
    assert error_of(response) == NOT_PARSED


async def test_unknown_paths_need_no_auth_and_are_journaled(wiro: Wiro) -> None:
    await wiro.client.post("/wiro/v1/Nope")
    [entry] = wiro.runtime.journal.entries(surface="wiro")
    assert (entry.route, entry.status) == ("unknown", 404)


async def test_journal_records_task_ids(wiro: Wiro) -> None:
    reply = await wiro.create()
    await wiro.detail(taskid=reply["taskid"])
    entries = wiro.runtime.journal.entries(surface="wiro")
    assert [(entry.route, entry.ids) for entry in entries] == [
        ("POST /v1/Run/{owner}/{model}", [reply["taskid"]]),
        ("POST /v1/Task/Detail", [reply["taskid"]]),
    ]


async def test_an_internal_error_still_looks_like_wiro(wiro: Wiro, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(wiro.service.tasks, "detail", broken)
    response = await wiro.detail(taskid="1")
    assert response.status_code == 500 and response.json()["result"] is False
    [entry] = wiro.runtime.journal.entries(surface="wiro")
    assert entry.notes == ["emulator error: RuntimeError: bug"] and entry.warnings == []
