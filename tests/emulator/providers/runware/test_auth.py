from tests.support import inference

from .conftest import Runware, RunwareFactory


async def test_bearer_header_authenticates(runware: Runware) -> None:
    response = await runware.create(inference(), key="anything")
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_authentication_task_authenticates_and_yields_no_item(runware: Runware) -> None:
    task = inference()
    response = await runware.create({"taskType": "authentication", "apiKey": "k"}, task, key=None)
    assert response.status_code == 200
    assert [item["taskUUID"] for item in response.json()["data"]] == [task["taskUUID"]]


async def test_missing_key_is_401_missing_api_key(runware: Runware) -> None:
    response = await runware.create(inference(), key=None)
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["code"] == "missingApiKey"
    assert error["taskType"] == "authentication"
    assert "data" not in response.json()


async def test_empty_bearer_token_counts_as_missing(runware: Runware) -> None:
    response = await runware.client.post("/runware/v1", json=[inference()], headers={"Authorization": "Bearer "})
    assert response.json()["errors"][0]["code"] == "missingApiKey"


async def test_configured_keys_reject_others_with_invalid_api_key(make_runware: RunwareFactory) -> None:
    runware = await make_runware(api_keys=("good-key",))
    assert (await runware.create(inference(), key="good-key")).status_code == 200
    response = await runware.create(inference(), key="bad-key")
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error == {
        "code": "invalidApiKey",
        "message": "Invalid API key. Get one at https://my.runware.ai/signup",
        "parameter": "apiKey",
        "type": "string",
        "taskType": "authentication",
    }


async def test_authentication_task_key_wins_over_the_header(make_runware: RunwareFactory) -> None:
    runware = await make_runware(api_keys=("good-key",))
    response = await runware.create({"taskType": "authentication", "apiKey": "bad-key"}, inference(), key="good-key")
    assert response.json()["errors"][0]["code"] == "invalidApiKey"


async def test_non_string_api_key_is_invalid(runware: Runware) -> None:
    response = await runware.create({"taskType": "authentication", "apiKey": 42}, inference(), key=None)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalidApiKey"
