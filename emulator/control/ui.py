"""The dashboard at /_emulator/ui: static files shipped in the package, and the little JSON only it needs.

Everything else it shows comes from the control API itself (journal, jobs, faults, limits, policy), so the
dashboard can do nothing a script could not. The page uses relative URLs only, so it works wherever the control
plane is reached: over `--tls`, behind `--public-url` (even under a path prefix) and with a single provider at the
root. A strict Content-Security-Policy backs up the page's own rule of putting client data in text nodes only: no
inline script, no other origin's script, no framing.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from emulator.core.artifacts import ArtifactStore
from emulator.instance import Emulator

from .snippets import Address, snippets

router = APIRouter(prefix="/ui", tags=["dashboard"])

MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}
# Images come from /files (this origin, or --public-url's); the rest only from this origin.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' http: https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
DEFAULT_KEY = "dev-key"
WIRO_DEV_PROJECT = ("wiro-dev-key", "wiro-dev-secret")


@cache
def _static() -> dict[str, bytes]:
    """The shipped files by name (read once: they never change while the emulator runs)."""
    folder = files("emulator.control") / "static"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.name.endswith(tuple(MEDIA_TYPES))}


def _file(name: str) -> Response:
    content = _static().get(name)
    if content is None:
        raise HTTPException(404, f"no dashboard file {name}")
    media_type = MEDIA_TYPES["." + name.rsplit(".", 1)[-1]]
    return Response(content, media_type=media_type, headers=HEADERS)


@router.get("", include_in_schema=False)
async def shell_redirect() -> Response:
    # Relative, so that it holds under any prefix a proxy adds.
    return RedirectResponse("ui/", status_code=307)


@router.get("/", include_in_schema=False)
async def shell() -> Response:
    return _file("index.html")


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    return _file(name)


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _base(request: Request) -> str:
    return _emulator(request).runtime.base_url(f"{request.url.scheme}://{request.url.netloc}")


@router.get("/api/start")
async def start(request: Request) -> dict[str, Any]:
    """Per surface: its URLs, and a curl and a client snippet filled in with this emulator's address and keys."""
    emulator = _emulator(request)
    settings, base = emulator.settings, _base(request)
    keys = emulator.policy()["api_keys"]
    wiro = settings.wiro_projects[0].split(":") if settings.wiro_projects else WIRO_DEV_PROJECT
    surfaces = []
    for surface in emulator.surfaces:
        root = base + settings.prefix(surface.name)
        address = Address(root, keys[0] if keys else DEFAULT_KEY, wiro[0], wiro[1] if len(wiro) > 1 else "")
        surfaces.append(
            {
                "name": surface.name,
                "title": surface.title,
                "base": root,
                "endpoints": [list(endpoint) for endpoint in surface.endpoints(root)],
                "snippets": [snippet.as_dict() for snippet in snippets(surface.name, address, base + "/_emulator")],
            }
        )
    return {
        "base": base,
        "control": base + "/_emulator",
        "tls": base.startswith("https:"),
        "any_key": not keys,
        "surfaces": surfaces,
    }


@router.get("/api/jobs/{job_id}")
async def job(request: Request, job_id: str) -> dict[str, Any]:
    """A job as `GET /jobs/{id}` shows it, with its images: where to fetch each and the evidence it carries."""
    emulator = _emulator(request)
    found = emulator.job(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id}")
    base = _base(request)
    images = [
        {
            "index": artifact.spec.index,
            "url": ArtifactStore.url(base, artifact.id, artifact.extension),
            "metadata": artifact.spec.metadata(),
        }
        for artifact in emulator.runtime.artifacts.generated_for(job_id)
        if artifact.spec is not None
    ]
    return {**found, "images": images}
