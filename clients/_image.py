"""Image: one generated image, inline bytes or a URL the provider serves it from."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ._errors import ConnectionFailed, DownloadFailed

DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True, repr=False)
class Image:
    url: str | None
    data: bytes | None
    seed: int | None = None
    id: str | None = None
    provider: str | None = None

    def content(self, http: httpx.Client | None = None) -> bytes:
        """The image's bytes: `data` when inline, otherwise one GET of `url` (no credentials are sent)."""
        if self.data is not None:
            return self.data
        url = self._url()
        try:
            if http is not None:
                return self._bytes(http.get(url, follow_redirects=True, timeout=DOWNLOAD_TIMEOUT))
            with httpx.Client(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as own:
                return self._bytes(own.get(url))
        except httpx.RequestError as error:
            raise self._connection_failed(error) from error

    async def acontent(self, http: httpx.AsyncClient | None = None) -> bytes:
        if self.data is not None:
            return self.data
        url = self._url()
        try:
            if http is not None:
                return self._bytes(await http.get(url, follow_redirects=True, timeout=DOWNLOAD_TIMEOUT))
            async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as own:
                return self._bytes(await own.get(url))
        except httpx.RequestError as error:
            raise self._connection_failed(error) from error

    def __repr__(self) -> str:
        data = "None" if self.data is None else f"<{len(self.data)} bytes>"
        return f"Image(url={self.url!r}, data={data}, seed={self.seed!r}, id={self.id!r}, provider={self.provider!r})"

    def _url(self) -> str:
        if self.url is None:
            raise DownloadFailed("the image has neither data nor a URL", provider=self.provider or "unknown")
        return self.url

    def _bytes(self, response: httpx.Response) -> bytes:
        if response.is_success:
            return response.content
        raise DownloadFailed(
            f"GET {self.url} answered HTTP {response.status_code}",
            provider=self.provider or "unknown",
            status=response.status_code,
            job_id=None,
        )

    def _connection_failed(self, error: httpx.RequestError) -> ConnectionFailed:
        return ConnectionFailed(f"GET {self.url} failed: {error!r}", provider=self.provider or "unknown")
