"""The error hierarchy: what every error carries, how it prints, that it survives pickling."""

from __future__ import annotations

import pickle

import pytest

import clients
from clients import ClientError
from clients._errors import error_type

ALL = [
    clients.InvalidRequest,
    clients.AuthenticationError,
    clients.QuotaExceeded,
    clients.RateLimited,
    clients.ServerError,
    clients.ConnectionFailed,
    clients.GenerationFailed,
    clients.Canceled,
    clients.PollTimeout,
    clients.DownloadFailed,
    clients.InvalidSignature,
]


@pytest.mark.parametrize("cls", ALL)
def test_every_error_is_a_client_error_and_pickles_with_its_details(cls: type[ClientError]) -> None:
    error = cls("Too many requests", provider="wiro", code=96, status=200, retry_after=1.0, job_id="42", body={"a": 1})
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, cls) and isinstance(copy, ClientError)
    assert (copy.provider, copy.code, copy.message, copy.status, copy.retry_after, copy.job_id, copy.body) == (
        "wiro",
        96,
        "Too many requests",
        200,
        1.0,
        "42",
        {"a": 1},
    )
    assert str(copy) == "wiro 96 (HTTP 200) [job 42]: Too many requests"


def test_str_leaves_out_what_is_unknown() -> None:
    assert str(ClientError("boom", provider="replicate")) == "replicate: boom"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, clients.InvalidRequest),
        (404, clients.InvalidRequest),
        (422, clients.InvalidRequest),
        (401, clients.AuthenticationError),
        (403, clients.AuthenticationError),
        (402, clients.QuotaExceeded),
        (429, clients.RateLimited),
        (500, clients.ServerError),
        (504, clients.ServerError),
    ],
)
def test_http_statuses_map_to_error_classes(status: int, cls: type[ClientError]) -> None:
    assert error_type(status) is cls


def test_the_package_exports_the_hierarchy_and_image() -> None:
    for name in ("Image", "ClientError", *(cls.__name__ for cls in ALL)):
        assert name in clients.__all__ and hasattr(clients, name)
