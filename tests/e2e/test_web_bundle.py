"""The evidence bundle's offline page (``index.html``, :mod:`replay.bundle_page`) opened from
disk in headless chromium: it renders the touchpoints it embeds, with no server and no
network (screenshot in ``test-artifacts/screenshots/``)."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_cli import as_json, run
from tests.e2e.web_support import launch, shot, watch_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exported bundle of the customer with the most alerts, unpacked."""
    home = tmp_path_factory.mktemp("bundle-home")
    data = home / "in.ndjson"
    run(home, "generate", "--customers", "12", "--days", "20", "--seed", "5", "--out", str(data))
    run(home, "ingest", str(data))
    run(home, "project")
    rows = as_json(run(home, "alerts", "--limit", "1000", "--json"))
    ((customer, _),) = Counter(row["customer_id"] for row in rows).most_common(1)
    out = home / "bundle.zip"
    run(home, "export", customer, "--out", str(out), "--by", "auditor-web")
    unpacked = home / "bundle"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
    return unpacked


def test_the_bundle_page_renders_its_touchpoints_from_disk(browser: Browser, bundle: Path) -> None:
    index = bundle / "index.html"
    embedded = index.read_text(encoding="utf-8")
    start = embedded.index('id="evidence">') + len('id="evidence">')
    data = json.loads(embedded[start : embedded.index("</script>", start)])
    touchpoints = data["touchpoints"]
    assert touchpoints, "the bundle holds the customer's touchpoints"

    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(index.as_uri())
    lanes = page.locator(".lanes .lane")
    lanes.first.wait_for()
    assert lanes.count() == len(data["channels"])
    assert page.locator(".lanes .lane i").count() == len(touchpoints)
    text = page.inner_text("body")
    assert f"{len(touchpoints)} touchpoint(s) in event-time order" in text
    for touchpoint in touchpoints:
        if touchpoint["words"]:
            assert touchpoint["words"] in text
    shot(page, "evidence-bundle")
    assert not errors
    context.close()
