"""The harness's grip on an emulator: in-process (full traffic recording) or remote (control API only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx

from emulator.settings import Settings

from .recorder import Exchange
from .server import EmulatorServer

CONTROL_TOKEN = "SEEDREAM_EMULATOR_CONTROL_TOKEN"


class EmulatorHandle(Protocol):
    base: str
    records_traffic: bool
    # The CA of an emulator served over TLS by the harness itself; None for plain HTTP, or a remote emulator
    # (whose CA the user trusts through SSL_CERT_FILE).
    ca_file: Path | None

    def url(self, surface: str) -> str: ...

    def reset(self) -> None: ...

    def add_fault(self, rule: Mapping[str, Any]) -> None: ...

    def set_policy(self, **policy: Any) -> dict[str, Any]: ...

    def journal(self) -> list[dict[str, Any]]: ...

    def jobs(self, surface: str | None = None) -> list[dict[str, Any]]: ...

    def job(self, job_id: str) -> dict[str, Any] | None: ...

    def advance(self, job_id: str) -> None: ...

    def exchanges(self, after: int = 0) -> list[Exchange]: ...

    def mark(self) -> int: ...

    def close(self) -> None: ...


class InProcess:
    """An emulator on a real port in this process; every request and frame it sees is recorded.

    This is also what the `seedream_emulator` pytest fixture gives a test. Calls run on the
    server's event loop, where the emulator's state lives.
    """

    records_traffic = True

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.base = server.base
        self.ca_file = server.tls.ca_cert if server.tls else None

    @classmethod
    def start(cls, **settings: Any) -> InProcess:
        return cls(EmulatorServer(**settings).start())

    def url(self, surface: str) -> str:
        return self.server.url(surface)

    def reset(self) -> None:
        self.server.run(self.server.emulator.reset)

    def add_fault(self, rule: Mapping[str, Any] | None = None, **fields: Any) -> None:
        self.server.run(lambda: self.server.emulator.add_fault(dict(rule or fields)))

    def set_policy(self, **policy: Any) -> dict[str, Any]:
        return self.server.run(lambda: self.server.emulator.set_policy(**policy))

    def set_limit(
        self, surface: str, *, requests_per_minute: int | None = None, concurrency: int | None = None
    ) -> None:
        self.server.run(
            lambda: self.server.emulator.set_limit(
                surface, requests_per_minute=requests_per_minute, concurrency=concurrency
            )
        )

    def journal(self) -> list[dict[str, Any]]:
        return self.server.run(lambda: [entry.as_dict() for entry in self.server.runtime.journal])

    def jobs(self, surface: str | None = None) -> list[dict[str, Any]]:
        return self.server.run(lambda: self.server.emulator.jobs(surface=surface))

    def job(self, job_id: str) -> dict[str, Any] | None:
        return self.server.run(lambda: self.server.emulator.job(job_id))

    def advance(self, job_id: str) -> None:
        self.server.run(lambda: self.server.emulator.advance(job_id))

    def exchanges(self, after: int = 0) -> list[Exchange]:
        return self.server.recorder.since(after)

    def mark(self) -> int:
        return self.server.recorder.last_seq

    def close(self) -> None:
        self.server.stop()


class Remote:
    """An emulator someone else started (`--emulator URL`): driven through /_emulator, traffic unseen."""

    records_traffic = False
    ca_file: Path | None = None

    def __init__(self, base: str, control_token: str | None = None) -> None:
        """`control_token` (default: $SEEDREAM_EMULATOR_CONTROL_TOKEN) for an emulator started with one."""
        self.base = base.rstrip("/")
        token = control_token or os.environ.get(CONTROL_TOKEN)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base, timeout=30, headers=headers)
        surfaces = self.http.get("/_emulator/health").raise_for_status().json()["surfaces"]
        # A single-provider emulator serves its surface at the root; `--provider all` under /<name>.
        self.settings = Settings(provider="all" if len(surfaces) > 1 else next(iter(surfaces)))

    def url(self, surface: str) -> str:
        return self.base + self.settings.prefix(surface)

    def reset(self) -> None:
        self.http.post("/_emulator/reset").raise_for_status()

    def add_fault(self, rule: Mapping[str, Any]) -> None:
        self.http.post("/_emulator/faults", json=dict(rule)).raise_for_status()

    def set_policy(self, **policy: Any) -> dict[str, Any]:
        response = self.http.put("/_emulator/policy", json=policy)
        if response.status_code == 404:
            raise RuntimeError(
                f"{self.base} has no /_emulator/policy: the harness needs an emulator that can apply production rules"
            )
        return dict(response.raise_for_status().json())

    def journal(self) -> list[dict[str, Any]]:
        return list(self.http.get("/_emulator/journal", params={"limit": 10_000}).json()["entries"])

    def jobs(self, surface: str | None = None) -> list[dict[str, Any]]:
        params = {"surface": surface} if surface else {}
        return list(self.http.get("/_emulator/jobs", params=params).json()["jobs"])

    def job(self, job_id: str) -> dict[str, Any] | None:
        response = self.http.get(f"/_emulator/jobs/{job_id}")
        return response.json() if response.status_code == 200 else None

    def advance(self, job_id: str) -> None:
        self.http.post(f"/_emulator/jobs/{job_id}/advance")

    def exchanges(self, after: int = 0) -> list[Exchange]:
        return []

    def mark(self) -> int:
        return 0

    def close(self) -> None:
        self.http.close()
