import copy
from typing import Any

import pytest

from contracts import load
from contracts.wiro import rules
from tests.support import contract_errors

CONTRACT = load("wiro")
SEED_TASK: dict[str, Any] = {
    "id": "534574",
    "uuid": "15bce51f-442f-4f44-a71d-13c6374a62bd",
    "name": "",
    "socketaccesstoken": "eDcCm5yyUfIvMFspTwww49OUfgXkQt",
    "parameters": {"inputImage": "https://api.wiro.ai/v1/File/mCmUXgZLG1FNjjjwmbtPFr2LVJA112/inputImage-6060136.png"},
    "debugoutput": "",
    "debugerror": "",
    "starttime": "1734513809",
    "endtime": "1734513813",
    "elapsedseconds": "6.0000",
    "status": "task_postprocess_end",
    "cps": "0.000585000000",
    "totalcost": "0.003510000000",
    "guestid": None,
    "projectid": "699",
    "modelid": "598",
    "description": "",
    "basemodelid": "0",
    "runtype": "model",
    "modelfolderid": "",
    "modelfileid": "",
    "callbackurl": "",
    "marketplaceid": None,
    "createtime": "1734513807",
    "canceltime": "0",
    "assigntime": "1734513807",
    "accepttime": "1734513807",
    "preprocessstarttime": "1734513807",
    "preprocessendtime": "1734513807",
    "postprocessstarttime": "1734513813",
    "postprocessendtime": "1734513814",
    "pexit": "0",
    "categories": '["tool","image-to-image","quick-showcase","compare-landscape"]',
    "outputs": [
        {
            "id": "6bc392c93856dfce3a7d1b4261e15af3",
            "name": "0.png",
            "contenttype": "image/png",
            "parentid": "6c1833f39da71e6175bf292b18779baf",
            "uuid": "15bce51f-442f-4f44-a71d-13c6374a62bd",
            "size": "202472",
            "addedtime": "1734513812",
            "modifiedtime": "1734513812",
            "accesskey": "dFKlMApaSgMeHKsJyaDeKrefcHahUK",
            "foldercount": "0",
            "filecount": "0",
            "ispublic": 0,
            "expiretime": None,
            "url": "https://cdn1.wiro.ai/6a6af820-c5050aee-40bd7b83-a2e186c6-7f61f7da-3894e49c-fc0eeb66-9b500fe2/0.png",
        }
    ],
    "size": "202472",
}


def test_the_seed_examples_meet_the_reply_contracts() -> None:
    assert (
        contract_errors(
            "wiro",
            "runResult",
            {"errors": [], "taskid": "2221", "socketaccesstoken": "eDcCm5yyUfIvMFspTwww49OUfgXkQt", "result": True},
        )
        == []
    )
    assert (
        contract_errors(
            "wiro", "taskDetailResult", {"total": "1", "errors": [], "tasklist": [SEED_TASK], "result": True}
        )
        == []
    )
    killed = {**SEED_TASK, "status": "task_cancel", "socketaccesstoken": "ZpYote30on42O4jjHXNiKmrWAZqbRE"}
    assert contract_errors("wiro", "taskActionResult", {"errors": [], "tasklist": [killed], "result": True}) == []
    error = {
        "result": False,
        "errors": [{"code": 0, "message": "Request parameter [maxImages] must be between 1 and 15"}],
    }
    assert contract_errors("wiro", "error", error) == []


@pytest.mark.parametrize(
    "field, value", [("starttime", 1734513809), ("size", 202472), ("status", "done"), ("categories", ["tool"])]
)
def test_the_task_contract_rejects_unstringed_numbers_and_unknown_statuses(field: str, value: object) -> None:
    task = copy.deepcopy(SEED_TASK)
    task[field] = value
    assert contract_errors("wiro", "task", task) != []


def test_successful_status_order_is_the_documented_one() -> None:
    assert rules.statuses() == [
        "task_queue",
        "task_accept",
        "task_preprocess_start",
        "task_preprocess_end",
        "task_assign",
        "task_start",
        "task_output",
        "task_output_full",
        "task_end",
        "task_postprocess_start",
        "task_postprocess_end",
    ]


def test_lifecycle_names_only_known_statuses() -> None:
    known = set(CONTRACT.schema("common")["$defs"]["status"]["enum"])
    lifecycle = rules.LIFECYCLE
    for phase in (
        "queued",
        "running",
        "output",
        "succeeded",
        "failed",
        "postprocessed",
        "canceled",
        "terminal",
        "cancellable",
        "killable",
    ):
        assert set(lifecycle[phase]) <= known, phase
    assert set(lifecycle["timestamps"]) <= known
    assert not set(lifecycle["cancellable"]) & set(lifecycle["killable"])
    assert not set(lifecycle["terminal"]) & (set(lifecycle["cancellable"]) | set(lifecycle["killable"]))
    assert lifecycle["failed"][-1] == lifecycle["succeeded"][-1] == "task_postprocess_start"


def test_socket_error_messages_match_their_contract() -> None:
    assert sorted(rules.RULES["socket"]["errors"].values()) == sorted(
        CONTRACT.schema("socketError")["properties"]["message"]["enum"]
    )


@pytest.mark.parametrize(
    "size, expected", [("2048x2048", (2048, 2048)), ("3024x1296", (3024, 1296)), ("1440x2560", (1440, 2560))]
)
def test_dimensions(size: str, expected: tuple) -> None:
    assert rules.dimensions(size) == expected


def test_every_size_is_2k_class() -> None:
    assert len(rules.SIZES) == 8
    assert all(3_500_000 < w * h < 4_300_000 for w, h in map(rules.dimensions, rules.SIZES))


@pytest.mark.parametrize(
    "references, count, ok", [(0, 15, True), (14, 1, True), (10, 5, True), (10, 6, False), (14, 2, False)]
)
def test_references_plus_images(references: int, count: int, ok: bool) -> None:
    found = rules.check({"prompt": "x", "inputImage": ["u"] * references, "maxImages": count})
    assert (found == []) is ok
    if not ok:
        assert (
            found[0].annotation["message"] == f"Request parameter [maxImages] must be between 1 and {15 - references}"
        )


def test_model_slug_matching() -> None:
    assert rules.is_model("ByteDance", "Seedream-V4") and not rules.is_model("bytedance", "seedream-v4-5")


def test_describe_lists_lifecycle_errors_and_callback_policy() -> None:
    text = "\n".join(rules.describe())
    assert "| running | `task_accept`, `task_preprocess_start`" in text
    assert "| urlNotParsed | 404 | 0 | `Error parsing url.` |" in text
    assert "Callback (4 attempts, 10 s timeout each)" in text
    assert "104,857,600 bytes" in text


def _x_error_messages(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        annotation = node.get("x-error")
        if isinstance(annotation, dict):
            found += [annotation["message"], *annotation.get("messages", {}).values()]
        for value in node.values():
            found += _x_error_messages(value)
    elif isinstance(node, list):
        for value in node:
            found += _x_error_messages(value)
    return found


def test_schema_messages_follow_wiros_documented_templates() -> None:
    import re

    templates = [error["message"] for error in rules.ERRORS.values()]
    patterns = [re.compile("^" + re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)) + "$") for template in templates]
    for name in CONTRACT.names():
        for message in _x_error_messages(CONTRACT.schema(name)):
            assert any(p.match(message) for p in patterns), f"{name}: {message!r} is not one of Wiro's messages"
