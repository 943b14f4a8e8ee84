"""What every client shares: a provider's wire protocol (pure), and the sync and async shells doing I/O.

A provider module writes one `Provider` subclass: how to build each request (`Call`) and what each
reply means (images, a job id, or a typed error). `SyncClient` and `AsyncClient` run those calls
through the retry loop and the poll loop; they differ only in `send` and `sleep`.
"""

from __future__ import annotations

import functools
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, Self, TypeVar, cast

import httpx

from ._errors import ClientError, RateLimited, ServerError, error_type
from ._image import Image
from ._polling import Deadline, PollSchedule, apoll, poll
from ._retry import Attempts, Reply, RetryPolicy, Safety, asend, header_retry_after, send

__version__ = "0.1.0"
USER_AGENT = f"seedream-reference-client/{__version__} httpx/{httpx.__version__}"
REQUEST_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0

FilePart = tuple[str, tuple[str | None, bytes | str] | tuple[str, bytes, str]]


@dataclass(frozen=True)
class Call:
    """One HTTP request, described without sending it."""

    method: str
    url: str
    safety: Safety
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Sequence[FilePart] | None = None
    # The request itself lasts as long as the job (Runware's sync delivery): time it out with the job.
    holds_job: bool = False


@dataclass(frozen=True)
class Job:
    id: str
    expected: int | None = None
    # Images already delivered with the create reply (Runware's sync delivery).
    images: tuple[Image, ...] | None = None


class Provider(ABC):
    """One provider's requests and replies; no I/O."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]

    def __init__(self, api_key: str, base_url: str | None = None) -> None:
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        self.api_key = api_key
        self.base_url = (base_url or self.default_base_url).rstrip("/")

    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """Headers authenticating one attempt (called again for every retry)."""

    def build(self, call: Call, timeout: float) -> httpx.Request:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **self.auth_headers()}
        request = httpx.Request(
            call.method, call.url, json=call.json, data=call.data, files=call.files, headers=headers
        )
        request.extensions["timeout"] = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)).as_dict()
        return request

    def rate_limited(self, response: httpx.Response) -> bool:
        return response.status_code == 429

    def retry_after(self, response: httpx.Response) -> float | None:
        return header_retry_after(response)

    def error(self, response: httpx.Response, body: Any) -> ClientError | None:
        """The typed error this reply carries, or None. Providers refine the generic status mapping."""
        if response.is_success:
            return None
        return self.status_error(response, body, message=f"HTTP {response.status_code}")

    def check(self, reply: Reply) -> Any:
        """The decoded body of a reply that is not an error; raises the typed error otherwise."""
        body = decode(reply.response)
        error = self.error(reply.response, body)
        if error is not None:
            raise error
        return body

    def status_error(
        self,
        response: httpx.Response,
        body: Any,
        *,
        message: str,
        code: str | int | None = None,
        job_id: str | None = None,
        cls: type[ClientError] | None = None,
    ) -> ClientError:
        """A typed error for this reply: `cls`, or the class its HTTP status maps to."""
        cls = cls or error_type(response.status_code)
        return cls(
            message,
            provider=self.name,
            code=code,
            status=response.status_code,
            retry_after=self.retry_after(response) if cls is RateLimited else None,
            job_id=job_id,
            body=body,
        )

    @abstractmethod
    def create(self, request: Mapping[str, Any]) -> Call: ...

    @abstractmethod
    def accepted(self, reply: Reply, call: Call) -> Job: ...

    @abstractmethod
    def poll(self, job: Job) -> Call: ...

    @abstractmethod
    def progress(self, reply: Reply, job: Job) -> list[Image] | None:
        """The images once the job is terminal, None while it runs; raises when it failed or was canceled."""


ProviderT = TypeVar("ProviderT", bound=Provider)


def fallback_message(response: httpx.Response, body: Any) -> str:
    """What to report when a reply has no message of its own: its text, or its status."""
    return body[:500] if isinstance(body, str) and body.strip() else f"HTTP {response.status_code}"


def decode(response: httpx.Response) -> Any:
    """The JSON body, or the text when it is not JSON (a proxy's HTML error page, say)."""
    try:
        return response.json()
    except ValueError:
        return response.text


ReadError = (KeyError, IndexError, TypeError, ValueError, AttributeError)
Params = ParamSpec("Params")
R = TypeVar("R")


def parser(
    method: Callable[Concatenate[ProviderT, Reply, Params], R],
) -> Callable[Concatenate[ProviderT, Reply, Params], R]:
    """Turn a reply that does not have the documented shape into ServerError, never a KeyError."""

    @functools.wraps(method)
    def read(self: ProviderT, reply: Reply, *args: Params.args, **kwargs: Params.kwargs) -> R:
        try:
            return method(self, reply, *args, **kwargs)
        except ReadError as error:
            raise ServerError(
                f"unexpected reply ({type(error).__name__}: {error})",
                provider=self.name,
                status=reply.response.status_code,
                body=decode(reply.response),
            ) from error

    return cast(Callable[Concatenate[ProviderT, Reply, Params], R], read)


P = TypeVar("P", bound=Provider)


class _Core(Generic[P]):
    provider_type: ClassVar[type[Provider]]
    _provider: P

    def _configure(
        self, provider: P, timeout: float, max_retries: int, poll_interval: float, max_poll_interval: float
    ) -> None:
        if timeout <= 0 or poll_interval <= 0 or max_poll_interval < poll_interval or max_retries < 0:
            raise ValueError(
                "timeout and poll_interval must be positive, max_poll_interval >= poll_interval, max_retries >= 0"
            )
        self._provider = provider
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self._policy = RetryPolicy(max_retries=max_retries)
        self._rng = random.Random()

    @property
    def base_url(self) -> str:
        return self._provider.base_url

    def _new_provider(self, api_key: str, base_url: str | None) -> P:
        return cast(P, self.provider_type(api_key, base_url))

    def _attempts(self, call: Call, deadline: Deadline | None) -> Attempts:
        request_timeout = self.timeout if call.holds_job else min(REQUEST_TIMEOUT, self.timeout)
        return Attempts(self._policy, call.safety, self._provider, self._rng, request_timeout, deadline)

    def _deadline(self) -> Deadline:
        return Deadline.after(self.timeout, self._provider.name)

    def _schedule(self, deadline: Deadline) -> PollSchedule:
        return PollSchedule(self.poll_interval, self.max_poll_interval, deadline)


def _http_timeout() -> httpx.Timeout:
    return httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT)


class SyncClient(_Core[P]):
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 300.0,
        max_retries: int = 3,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        if http is not None and transport is not None:
            raise ValueError("pass either http or transport, not both")
        self._configure(self._new_provider(api_key, base_url), timeout, max_retries, poll_interval, max_poll_interval)
        self._owns_http = http is None
        self._http = http or httpx.Client(transport=transport, timeout=_http_timeout())

    def generate(self, request: Mapping[str, Any]) -> list[Image]:
        """Create the job and wait for its images (at most `timeout` seconds in all)."""
        deadline = self._deadline()
        job = self._start(request)
        if job.images is not None:
            return list(job.images)
        return self._wait(job, deadline)

    def start(self, request: Mapping[str, Any]) -> str:
        """Create the job and return its id without waiting for it."""
        return self._start(request).id

    def wait(self, job_id: str) -> list[Image]:
        """Poll a started job until it is terminal (at most `timeout` seconds)."""
        return self._wait(Job(job_id), self._deadline())

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _start(self, request: Mapping[str, Any]) -> Job:
        call = self._provider.create(request)
        return self._provider.accepted(self._send(call), call)

    def _wait(self, job: Job, deadline: Deadline) -> list[Image]:
        deadline = deadline.for_job(job.id)
        call = self._provider.poll(job)
        return poll(lambda: self._provider.progress(self._send(call, deadline), job), self._schedule(deadline))

    def _send(self, call: Call, deadline: Deadline | None = None) -> Reply:
        return send(self._http, functools.partial(self._provider.build, call), self._attempts(call, deadline))


class AsyncClient(_Core[P]):
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 300.0,
        max_retries: int = 3,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if http is not None and transport is not None:
            raise ValueError("pass either http or transport, not both")
        self._configure(self._new_provider(api_key, base_url), timeout, max_retries, poll_interval, max_poll_interval)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(transport=transport, timeout=_http_timeout())

    async def generate(self, request: Mapping[str, Any]) -> list[Image]:
        deadline = self._deadline()
        job = await self._start(request)
        if job.images is not None:
            return list(job.images)
        return await self._wait(job, deadline)

    async def start(self, request: Mapping[str, Any]) -> str:
        return (await self._start(request)).id

    async def wait(self, job_id: str) -> list[Image]:
        return await self._wait(Job(job_id), self._deadline())

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _start(self, request: Mapping[str, Any]) -> Job:
        call = self._provider.create(request)
        return self._provider.accepted(await self._send(call), call)

    async def _wait(self, job: Job, deadline: Deadline) -> list[Image]:
        deadline = deadline.for_job(job.id)
        call = self._provider.poll(job)

        async def check() -> list[Image] | None:
            return self._provider.progress(await self._send(call, deadline), job)

        return await apoll(check, self._schedule(deadline))

    async def _send(self, call: Call, deadline: Deadline | None = None) -> Reply:
        return await asend(self._http, functools.partial(self._provider.build, call), self._attempts(call, deadline))
