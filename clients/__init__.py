"""Reference clients for ByteDance Seedream on Runware, Wiro, EvoLink and Replicate (sync and async, over httpx).

    from clients.runware import RunwareClient
    with RunwareClient("api-key") as client:
        images = client.generate({"model": "bytedance:5@0", "positivePrompt": "a lighthouse",
                                  "width": 2048, "height": 2048})
        data = images[0].content()

Every client raises the errors below; see docs/clients.md.
"""

from __future__ import annotations

from ._base import __version__
from ._errors import (
    AuthenticationError,
    Canceled,
    ClientError,
    ConnectionFailed,
    DownloadFailed,
    GenerationFailed,
    InvalidRequest,
    InvalidSignature,
    PollTimeout,
    QuotaExceeded,
    RateLimited,
    ServerError,
)
from ._image import Image

__all__ = [
    "AuthenticationError",
    "Canceled",
    "ClientError",
    "ConnectionFailed",
    "DownloadFailed",
    "GenerationFailed",
    "Image",
    "InvalidRequest",
    "InvalidSignature",
    "PollTimeout",
    "QuotaExceeded",
    "RateLimited",
    "ServerError",
    "__version__",
]
