"""What the benchmarks drive servers with: wrk (Debian's package) and Stoplight Prism (npm, into .cache/prism), each
installed on first use; servers and the load generator pinned to their own cores; wrk's figures as numbers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
PRISM_VERSION = "5"
PRISM = CACHE / "prism" / "node_modules" / ".bin" / "prism"
SERVER_CORE, LOAD_CORE = 0, 1


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package) ...", file=sys.stderr, flush=True)
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(apt, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(apt, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def ensure_prism() -> Path:
    if PRISM.exists():
        return PRISM
    print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {PRISM.parents[2]} ...", file=sys.stderr, flush=True)
    PRISM.parents[2].mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(PRISM.parents[2]), "--no-audit", "--no-fund", "--silent"]
        + [f"@stoplight/prism-cli@{PRISM_VERSION}"],
        check=True,
    )
    return PRISM


def pinned(core: int, command: Sequence[str]) -> list[str]:
    """`command` on one core, when the machine has more than one and taskset exists."""
    if (os.cpu_count() or 1) > 1 and shutil.which("taskset"):
        return ["taskset", "-c", str(core), *command]
    return list(command)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (and the children it waited for) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and of every process under it, in MB: a server that renders in child processes
    is measured whole."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            threads = os.listdir(f"/proc/{current}/task")
        except OSError:  # gone meanwhile
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        for thread in threads:  # a child is listed under the thread that started it
            with contextlib.suppress(OSError):
                pending += [int(child) for child in Path(f"/proc/{current}/task/{thread}/children").read_text().split()]
    return total / 1024


@contextlib.contextmanager
def on_core(core: int) -> Iterator[None]:
    """This process, and the processes it starts meanwhile, on one core."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def idle_rss_mb(pid: int, timeout: float = 15.0) -> float:
    """`rss_mb` once it has stopped changing: a server answers its health probe before its render processes have
    finished starting, and what they still load is not growth caused by the load measured after."""
    last = rss_mb(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = rss_mb(pid)
        if abs(now - last) < 1.0:
            return now
        last = now
    return last


@contextlib.contextmanager
def server(
    command: Sequence[str], port: int, *, env: dict[str, str] | None = None, cwd: Path = ROOT, pin: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process (pinned to SERVER_CORE unless `pin` is false), stopped with SIGTERM on exit (so it can write
    what it recorded)."""
    process = subprocess.Popen(
        pinned(SERVER_CORE, command) if pin else list(command),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        try:
            wait_for_port(port, process)
        except RuntimeError:
            process.kill()
            _, err = process.communicate()
            raise RuntimeError(err.decode(errors="replace")[-2000:]) from None
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# One Runware imageInference per request, a fresh taskUUID each time; `done` prints the figures as one JSON line.
LUA = r"""
local counter = 0
local prefix, suffix = %(prefix)s, %(suffix)s
math.randomseed(%(seed)d)
local run = string.format("%%08x", math.random(0, 2147483647))
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench-key"}

request = function()
  counter = counter + 1
  local uuid = string.format("%%s-%%04x-4%%03x-8%%03x-%%012x", run, math.floor(counter / 65536) %% 65536,
    math.random(0, 4095), math.random(0, 4095), counter)
  return wrk.format("POST", %(path)s, headers, prefix .. uuid .. suffix)
end

response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. ": " .. string.sub(body, 1, 300) .. "\n")
  end
end

done = function(summary, latency, requests)
  local out = string.format('{"requests": %%d, "seconds": %%.6f, "errors": %%d, "non2xx": %%d',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status)
  out = out .. string.format(', "mean_ms": %%.4f, "max_ms": %%.4f', latency.mean / 1000, latency.max / 1000)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    out = out .. string.format(', "p%%s_ms": %%.4f', tostring(p), latency:percentile(p) / 1000)
  end
  io.write(out .. "}\n")
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    errors: int
    non2xx: int
    mean_ms: float
    max_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p99_9_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def fill(port: int, body: tuple[str, str], requests: int, *, connections: int = 16) -> tuple[int, float]:
    """At least `requests` requests, in runs of wrk sized by the rate so far; how many were made, and how long."""
    done, seconds, rate = 0, 0.0, 1000.0
    while done < requests:
        run = wrk(port, body, seconds=min(60.0, max(3.0, (requests - done) / rate)), connections=connections)
        done, seconds, rate = done + run.requests, seconds + run.seconds, max(100.0, run.rate)
    return done, seconds


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for this ASCII text


def wrk(
    port: int,
    body: tuple[str, str],
    *,
    seconds: float,
    connections: int = 16,
    path: str = "/runware/v1",
    seed: int | None = None,
) -> Load:
    """Drive `path` with POSTs of `body[0] + <fresh taskUUID> + body[1]` from LOAD_CORE; wrk's own figures."""
    script = LUA % {
        "prefix": lua_string(body[0]),
        "suffix": lua_string(body[1]),
        "seed": seed if seed is not None else int.from_bytes(os.urandom(4), "big") >> 1,
        "path": lua_string(path),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
        result = subprocess.run(
            pinned(LOAD_CORE, [*command, "-s", handle.name, f"http://127.0.0.1:{port}"]),
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    line = next(line for line in reversed(result.stdout.splitlines()) if line.startswith("{"))
    figures = json.loads(line)
    figures["p99_9_ms"] = figures.pop("p99.9_ms")
    if figures["non2xx"] or figures["errors"]:
        raise RuntimeError(
            f"wrk saw {figures['non2xx']} non-2xx replies and {figures['errors']} errors: {result.stderr[-600:]}"
        )
    return Load(**figures)
