"""What the browser tests share: Debian's chromium driven by Playwright, and screenshots kept
as test artefacts in ``test-artifacts/screenshots/`` (gitignored).

A machine without ``/usr/bin/chromium`` (or without the ``playwright`` package) is never
silent: the skip reason says so in capitals, and under ``CI=true`` it is a failure instead
(``make test`` installs chromium when it is missing), like the PostgreSQL fixture.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _absent(reason: str) -> NoReturn:
    message = f"BROWSER UNAVAILABLE: {reason}"
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"{message} (CI=true: a missing browser is a failure)", pytrace=False)
    pytest.skip(f"{message} (make test installs it: apt-get install chromium)")


def launch() -> Iterator[Browser]:
    """Headless chromium for a module's tests (a generator for a fixture to yield from)."""
    if not CHROMIUM.exists():
        _absent(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _absent("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot kept as an artefact of the run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def watch_errors(page: Page) -> list[str]:
    """Collect the page's uncaught script errors (a test asserts there were none)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
