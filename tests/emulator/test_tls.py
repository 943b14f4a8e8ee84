"""--tls: a local CA kept in DIR/ca.pem, a fresh server certificate, https URLs at start-up."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

from cryptography import x509

from emulator import tls
from tests.support import present


def test_prepare_creates_a_ca_and_a_server_certificate(tmp_path: Path) -> None:
    files = tls.prepare(tmp_path / "dir", ("localhost", "127.0.0.1", "::1", "emulator.test"))
    assert files.ca_cert == tmp_path / "dir" / "ca.pem"
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "Seedream emulator" in ca.subject.rfc4514_string()
    leaf = x509.load_pem_x509_certificates(files.server_cert.read_bytes())[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "emulator.test"}
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert leaf.issuer == ca.subject
    for secret in (files.ca_key, files.server_key):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    context = ssl.create_default_context(cafile=str(files.ca_cert))
    context.load_cert_chain(str(files.server_cert), str(files.server_key))


def test_the_ca_is_kept_across_runs_so_clients_trust_it_once(tmp_path: Path) -> None:
    first = tls.prepare(tmp_path, ("localhost",))
    ca_before = first.ca_cert.read_bytes()
    leaf_before = first.server_cert.read_bytes()
    second = tls.prepare(tmp_path, ("localhost", "other.test"))
    assert second.ca_cert.read_bytes() == ca_before
    assert second.server_cert.read_bytes() != leaf_before


def test_a_broken_ca_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("garbage")
    (tmp_path / "ca-key.pem").write_text("garbage")
    files = tls.prepare(tmp_path, ("localhost",))
    x509.load_pem_x509_certificate(files.ca_cert.read_bytes())


def test_hostnames_cover_loopback_the_bind_host_and_the_public_url() -> None:
    assert tls.hostnames_for("127.0.0.1") == ("localhost", "127.0.0.1", "::1")
    assert tls.hostnames_for("10.1.2.3", "https://emu.example:8443") == (
        "localhost",
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "emu.example",
    )
    assert socket.gethostname() in tls.hostnames_for("0.0.0.0"), "wildcard binds add the machine's host name"


def test_default_directory_follows_xdg(monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert tls.default_directory() == Path("/somewhere/seedream-emulator/tls")


def test_serve_with_tls_prints_https_urls_and_how_to_trust_the_ca(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--port",
            "0",
            "--tls",
            "--tls-dir",
            str(directory),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        stdout, stderr = present(process.stdout), present(process.stderr)
        lines: list[str] = []
        while not any("SSL_CERT_FILE" in line for line in lines):
            line = stdout.readline()
            assert line, stderr.read()
            lines.append(line)
        text = "".join(lines)
        assert f"SSL_CERT_FILE={directory / 'ca.pem'}" in text
        assert "http://" not in text
        health_match = re.search(r"(https://\S+/_emulator/health)", text)
        replicate_match = re.search(r"Replicate\s+API\s+(https://\S+/replicate)", text)
        assert health_match and replicate_match, text
        health, replicate = health_match.group(1), replicate_match.group(1)
        context = ssl.create_default_context(cafile=str(directory / "ca.pem"))
        with urllib.request.urlopen(health, timeout=5, context=context) as response:
            assert json.load(response)["status"] == "ok"
        request = urllib.request.Request(f"{replicate}/v1/account", headers={"Authorization": "Bearer r8_x"})
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            assert json.load(response)["username"]
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_tls_directory_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--tls-dir", str(blocker / "tls")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot prepare TLS files" in result.stderr
