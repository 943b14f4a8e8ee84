"""Where the emulator may call back: the production rule for callback and webhook URLs, and who is exempt.

Every provider that documents callbacks refuses plain HTTP and internal addresses (EvoLink says so; Replicate
requires HTTPS). Offline, a developer's receiver is usually `http://127.0.0.1:…`, so by default such a URL is
served and leaves a journal warning; with `strict` it is refused as production refuses it. URLs under an
exempt prefix (the conformance harness's own receiver) are served silently in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from contracts.addresses import host_of, is_internal_host


@dataclass(frozen=True)
class TargetProblem:
    kind: str  # "scheme" | "internal" | "malformed"
    url: str
    detail: str

    @property
    def warning(self) -> str:
        return f"{self.detail}: production refuses it; served here because --strict is off"


@dataclass
class TargetPolicy:
    strict: bool = False
    exempt: list[str] = field(default_factory=list)

    def exempted(self, url: str) -> bool:
        return any(url.startswith(prefix) for prefix in self.exempt)

    def problems(self, url: str) -> list[TargetProblem]:
        """What production would object to in a callback target (exempt URLs have nothing wrong)."""
        if self.exempted(url):
            return []
        host = host_of(url)
        try:
            scheme = urlsplit(url.strip()).scheme.lower()
        except ValueError:
            scheme = ""
        if host is None:
            return [TargetProblem("malformed", url, f"callback URL {url!r} has no host")]
        found = []
        if scheme != "https":
            found.append(TargetProblem("scheme", url, f"callback URL {url} is not HTTPS"))
        if is_internal_host(host):
            found.append(TargetProblem("internal", url, f"callback URL {url} targets the internal host {host}"))
        return found

    def refused(self, url: str) -> list[TargetProblem]:
        """The problems that refuse the request: all of them under --strict, none otherwise."""
        return self.problems(url) if self.strict else []

    def warnings(self, url: str) -> list[str]:
        """Journal warnings for what is served only because --strict is off."""
        return [] if self.strict else [problem.warning for problem in self.problems(url)]
