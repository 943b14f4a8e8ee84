"""Wiro projects and their authentication: `x-api-key`, plus `x-nonce` and `x-signature` in signature mode.

signature = lowercase hex HMAC-SHA256(key = API key, message = API secret + nonce)

The nonce is "unix time or any random integer value" (the seed): anything else is refused like a wrong
signature. Signature mode promises "Replay protection: Yes (via nonce)" (authentication.md), so a nonce the
project already used is refused too; with `reject_reused_nonce` off it is served with a journal warning.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from contracts import Violation
from contracts.wiro import rules
from emulator.core.retained import Retained
from emulator.settings import SettingsError

from . import errors

DEV_PROJECT = "wiro-dev-key:wiro-dev-secret"
KEY_ONLY = "keyonly"
# Nonces remembered per project when reuse is rejected; the oldest are forgotten first.
NONCE_MEMORY = 100_000


@dataclass(frozen=True)
class Project:
    key: str
    secret: str
    signature: bool
    id: str


@dataclass(frozen=True)
class Authenticated:
    """The project a request authenticated as, and what was served only because the emulator is lenient."""

    project: Project
    warnings: list[str] = field(default_factory=list)


def parse_projects(values: Sequence[str]) -> tuple[Project, ...]:
    """`KEY:SECRET[:keyonly]` strings (the `--wiro-project` flag); the dev project when there are none."""
    projects: list[Project] = []
    first_id = int(rules.RULES["firstProjectId"])
    for value in values or (DEV_PROJECT,):
        parts = value.split(":")
        mode = parts[2] if len(parts) == 3 else None
        if len(parts) not in (2, 3) or (mode is not None and mode != KEY_ONLY):
            raise SettingsError(f"--wiro-project {value!r}: expected KEY:SECRET or KEY:SECRET:keyonly")
        key, secret = parts[0], parts[1]
        if not key or key != key.strip():
            raise SettingsError(f"--wiro-project {value!r}: the API key must be non-empty, without surrounding spaces")
        if mode is None and not secret:
            raise SettingsError(f"--wiro-project {value!r}: a signature project needs a non-empty secret")
        if any(project.key == key for project in projects):
            raise SettingsError(f"--wiro-project {value!r}: the API key {key!r} is configured twice")
        projects.append(Project(key, secret, mode is None, str(first_id + len(projects))))
    return tuple(projects)


def signature(api_key: str, secret: str, nonce: str) -> str:
    return hmac.new(api_key.encode(), (secret + nonce).encode(), hashlib.sha256).hexdigest()


class Authenticator:
    def __init__(
        self, projects: Sequence[Project], *, reject_reused_nonce: bool = True, tolerant_signature: bool = False
    ) -> None:
        self.projects = {project.key: project for project in projects}
        self.reject_reused_nonce = reject_reused_nonce
        self.tolerant_signature = tolerant_signature
        self._nonces: dict[str, Retained[str, None]] = {}

    def check(self, headers: Mapping[str, str]) -> Authenticated:
        project = self.projects.get(headers.get("x-api-key", ""))
        if project is None:
            raise errors.named("projectNotFound")
        if not project.signature:
            return Authenticated(project)
        nonce, sent = headers.get("x-nonce"), headers.get("x-signature")
        if not nonce or not sent:
            raise errors.named("signatureRequired")
        problem = rules.nonce_problem(nonce)
        if problem is not None:
            raise _invalid(problem)
        expected = signature(project.key, project.secret, nonce)
        if not hmac.compare_digest(self._digest(sent).encode(), expected.encode()):
            raise errors.named("signatureInvalid")
        if not self._use(project, nonce):
            if self.reject_reused_nonce:
                raise _invalid(errors.note("reusedNonce", nonce=nonce))
            return Authenticated(project, [rules.warning("reusedNonce", nonce=nonce)])
        return Authenticated(project)

    def reset(self) -> None:
        self._nonces.clear()

    def _digest(self, sent: str) -> str:
        # `openssl dgst -hmac` (the model page's bash sample) prints "SHA2-256(stdin)= <hex>"; tolerated on request.
        value = sent.split()[-1] if self.tolerant_signature and sent.split() else sent.strip()
        return value.lower()

    def _use(self, project: Project, nonce: str) -> bool:
        """Remember a nonce of a valid signature; False when the project had already used it."""
        seen = self._nonces.setdefault(project.key, Retained(NONCE_MEMORY))
        if nonce in seen:
            return False
        seen.put(nonce, None)
        return True


def _invalid(detail: str) -> errors.WiroError:
    """Wiro's invalid-signature error; `detail` (which rule was broken) goes to the journal only."""
    error = errors.named("signatureInvalid")
    error.violations = [Violation("/headers/x-nonce", detail, "x-nonce")]
    return error
