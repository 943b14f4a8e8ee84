"""The exceptions every reference client raises.

ClientError                  provider, the provider's own code and message, HTTP status, Retry-After
├── InvalidRequest           a 4xx the caller has to fix, or a request refused before it was sent
├── AuthenticationError      401 / 403; Wiro's project authorization errors
├── QuotaExceeded            402; Wiro code 97 ("Insufficient balance")
├── RateLimited              429 (Wiro: code 96) still refused after the retries
├── ServerError              5xx still failing after the retries, or on a create that is never retried
├── ConnectionFailed         transport errors (refused, reset, timed out) still failing after the retries
├── GenerationFailed         the job ran and failed
├── Canceled                 the job was canceled
├── PollTimeout              the job did not finish within the client's `timeout`
├── DownloadFailed           an image URL could not be fetched
└── InvalidSignature         a webhook delivery failed verification
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "Canceled",
    "ClientError",
    "ConnectionFailed",
    "DownloadFailed",
    "GenerationFailed",
    "InvalidRequest",
    "InvalidSignature",
    "PollTimeout",
    "QuotaExceeded",
    "RateLimited",
    "ServerError",
]


class ClientError(Exception):
    """Base of every error a client raises; `body` is the provider's decoded error body, if any."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        code: str | int | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        job_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.job_id = job_id
        self.body = body

    def __str__(self) -> str:
        head = [self.provider]
        if self.code is not None and self.code != "":
            head.append(str(self.code))
        if self.status is not None:
            head.append(f"(HTTP {self.status})")
        if self.job_id is not None:
            head.append(f"[job {self.job_id}]")
        return f"{' '.join(head)}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments would be lost by Exception's default pickling.
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[ClientError], message: str, state: dict[str, Any]) -> ClientError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class InvalidRequest(ClientError):
    pass


class AuthenticationError(ClientError):
    pass


class QuotaExceeded(ClientError):
    pass


class RateLimited(ClientError):
    pass


class ServerError(ClientError):
    pass


class ConnectionFailed(ClientError):
    pass


class GenerationFailed(ClientError):
    pass


class Canceled(ClientError):
    pass


class PollTimeout(ClientError):
    pass


class DownloadFailed(ClientError):
    pass


class InvalidSignature(ClientError):
    pass


def error_type(status: int) -> type[ClientError]:
    """The error class an HTTP error status maps to, before any provider-specific refinement."""
    if status in (401, 403):
        return AuthenticationError
    if status == 402:
        return QuotaExceeded
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    return InvalidRequest
