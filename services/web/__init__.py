"""The web pages for auditors and supervisors: static HTML and JavaScript modules shipped in
the package (``static/``), served by the API app under ``/ui`` with no build step.

The pages hold no data: they call the JSON API from the browser with the session cookie
(:mod:`services.api.routes.ui`), so every capability check, every masking of personal fields
and every record of a read stays where it is for any other caller. Still, only the sign-in
page and what it loads answer without a valid token (nothing but ``/health`` answers the
API without one): any other page redirects to sign-in, any other file answers 401. A strict
Content-Security-Policy allows scripts, styles and requests to this origin only: no inline
script, no CDN, no network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "mount_pages"]

STATIC_DIR = Path(__file__).parent / "static"
_UI = "/ui"

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


#: What the sign-in page needs, served to anyone.
PUBLIC = frozenset({"", ".", "index.html", "signin.js", "common.js", "style.css"})


class _Pages(StaticFiles):
    """Static files with the security headers above on every answer; every file but the
    sign-in page's needs a valid session cookie (or bearer token)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in PUBLIC and not _signed_in(Request(scope)):
            response: Response = (
                RedirectResponse("./", status_code=303)  # the sign-in page, wherever mounted
                if path.endswith(".html")
                else PlainTextResponse("sign in first", status_code=401)
            )
        else:
            response = await super().get_response(path, scope)
        response.headers.update(_HEADERS)
        return response


def _signed_in(request: Request) -> bool:
    from services.api.auth import SESSION_COOKIE, platform_of

    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or request.cookies.get(SESSION_COOKIE)
    return token is not None and platform_of(request).tokens.authenticate(token) is not None


def mount_pages(app: FastAPI, path: str) -> None:
    """Serve the pages at ``path`` (``path/`` is the sign-in page)."""
    if path != _UI:
        raise ValueError(f"the pages link to each other under {_UI}, not {path}")
    app.mount(path, _Pages(directory=STATIC_DIR, html=True), name="ui")
