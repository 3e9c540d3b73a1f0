"""The web pages for auditors and supervisors: static HTML and JavaScript modules shipped in
the package (``static/``), served by the API app under ``/ui`` with no build step.

The pages hold no data: they call the JSON API from the browser with the session cookie
(:mod:`services.api.routes.ui`), so every capability check, every masking of personal fields
and every record of a read stays where it is for any other caller. They are served without a
token for that reason (the sign-in page must be). A strict Content-Security-Policy allows
scripts, styles and requests to this origin only: no inline script, no CDN, no network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "mount_pages"]

STATIC_DIR = Path(__file__).parent / "static"

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


class _Pages(StaticFiles):
    """Static files with the security headers above on every answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(_HEADERS)
        return response


def mount_pages(app: FastAPI, path: str) -> None:
    """Serve the pages at ``path`` (``path/`` is the sign-in page)."""
    app.mount(path, _Pages(directory=STATIC_DIR, html=True), name="ui")
