"""`--tls`: serve HTTPS with a certificate from a locally generated certificate authority.

The CA lives in one directory (`--tls-dir DIR`, default `~/.cache/seedream-emulator/tls`) and is
kept across runs, so a client trusts it once: `SSL_CERT_FILE=DIR/ca.pem`. A fresh server
certificate for the loopback names (plus the bind host and the public URL's host) is issued at
every start.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trustme

CA_NAME = "Seedream emulator local CA"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class TlsFiles:
    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    hostnames: tuple[str, ...]

    def trust_hint(self) -> str:
        return f"SSL_CERT_FILE={self.ca_cert}"


def default_directory() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "seedream-emulator" / "tls"


def hostnames_for(host: str, public_url: str | None = None) -> tuple[str, ...]:
    """Names the server certificate must cover: loopback, the bind host, the public URL's host."""
    names = list(LOOPBACK_NAMES)
    if host in WILDCARD_HOSTS:
        names.append(socket.gethostname())
    else:
        names.append(host)
    if public_url:
        public_host = urlsplit(public_url).hostname
        if public_host:
            names.append(public_host)
    return tuple(dict.fromkeys(name for name in names if name))


def prepare(directory: str | Path | None, hostnames: Iterable[str]) -> TlsFiles:
    """Load or create the CA in `directory` and issue a server certificate for `hostnames`."""
    root = Path(directory) if directory is not None else default_directory()
    root.mkdir(parents=True, exist_ok=True)
    names = tuple(hostnames)
    files = TlsFiles(
        directory=root,
        ca_cert=root / "ca.pem",
        ca_key=root / "ca-key.pem",
        server_cert=root / "server.pem",
        server_key=root / "server-key.pem",
        hostnames=names,
    )
    # Several emulators may start at once with one directory (test suites): one writer at a time.
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ca = _load_ca(files) or _create_ca(files)
        leaf = ca.issue_cert(*names, common_name=names[0])
        _write(files.server_cert, b"".join(blob.bytes() for blob in leaf.cert_chain_pems), 0o644)
        _write(files.server_key, leaf.private_key_pem.bytes(), 0o600)
    return files


def _load_ca(files: TlsFiles) -> trustme.CA | None:
    try:
        return trustme.CA.from_pem(files.ca_cert.read_bytes(), files.ca_key.read_bytes())
    except (OSError, ValueError, TypeError):
        return None


def _create_ca(files: TlsFiles) -> trustme.CA:
    ca = trustme.CA(organization_name="Seedream emulator", organization_unit_name=CA_NAME)
    _write(files.ca_key, ca.private_key_pem.bytes(), 0o600)
    _write(files.ca_cert, ca.cert_pem.bytes(), 0o644)
    return ca


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, mode)
    os.replace(temporary, path)
