"""The web pages as a person uses them: a real ``servicetrace serve`` on a free 127.0.0.1 port
over generated data, headless chromium driven by Playwright, and assertions on what the page
shows (screenshots in ``test-artifacts/screenshots/``).

One customer's touchpoints are held back from the data loaded before the server starts; the
alerts test posts them through the API while the supervisor's page is open, and watches the
alert they raise arrive over Server-Sent Events.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from tests.e2e.test_cli import as_json, run
from tests.e2e.test_serve import Server, auth, start, stop
from tests.e2e.web_support import launch, shot, watch_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: Rules that decide on the touchpoint that triggers them (no wait for a deadline).
_PROMPT_RULES = ("dnd_violation", "channel_hopping", "repeat_request")
_GENERATE = ("--customers", "30", "--days", "30", "--seed", "8")


@dataclass
class Site:
    server: Server
    tokens: dict[str, str]
    held_back: bytes
    live_customer: str

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str, role: str = "admin", **params: Any) -> Any:
        answer = httpx.get(f"{self.url}{path}", params=params, headers=auth(self.tokens[role]))
        assert answer.status_code == 200, answer.text
        return answer.json()


def _customer_of(line: bytes) -> str:
    return str(orjson.loads(line)["customer"]["id"])


def _held_back_customer(tmp: Path, data: Path) -> str:
    """The customer whose touchpoints raise an alert on their own (found on a scratch home
    with everything loaded): the one with the fewest touchpoints among those with a prompt
    alert."""
    scratch = tmp / "scratch"
    scratch.mkdir()
    run(scratch, "ingest", str(data))
    run(scratch, "project")
    alerts = as_json(run(scratch, "alerts", "--limit", "1000", "--json"))
    candidates = {row["customer_id"] for row in alerts if row["rule_id"] in _PROMPT_RULES}
    assert candidates, "the generated data raised no prompt alert"
    lines = data.read_bytes().splitlines()
    return min(candidates, key=lambda c: (sum(_customer_of(x) == c for x in lines), c))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    home = tmp / "home"
    home.mkdir()
    data = tmp / "all.ndjson"
    run(home, "generate", *_GENERATE, "--out", str(data))
    held = _held_back_customer(tmp, data)
    lines = data.read_bytes().splitlines(keepends=True)
    loaded = tmp / "loaded.ndjson"
    loaded.write_bytes(b"".join(x for x in lines if _customer_of(x) != held))
    run(home, "ingest", str(loaded))
    run(home, "project")
    tokens: dict[str, str] = {}
    for role in ("admin", "auditor", "supervisor", "ingest"):
        made = run(home, "token", "create", "--name", f"{role}-web", "--role", role, "--json")
        tokens[role] = as_json(made)["token"]
    server = start(home)
    try:
        held_back = b"".join(x for x in lines if _customer_of(x) == held)
        yield Site(server, tokens, held_back, held)
    finally:
        if server.process.poll() is None:
            stop(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


def signed_in(browser: Browser, site: Site, role: str) -> BrowserContext:
    """A fresh browser context signed in through the sign-in page as ``role``."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.goto(f"{site.url}/ui/")
    page.fill("#token", site.tokens[role])
    page.click("#signin-button")
    page.wait_for_selector("#signed-in:not([hidden])")
    page.close()
    return context


@pytest.fixture(scope="module")
def subject(site: Site) -> dict[str, Any]:
    """A loaded customer whose replay has a late arrival and a step that raised an alert,
    with their replay steps and the late step."""
    customers = sorted({row["customer_id"] for row in site.get("/v1/alerts", limit=1000)})
    for customer in customers:
        if customer == site.live_customer:
            continue
        steps = site.get(f"/v1/customers/{customer}/replay", role="auditor")["steps"]
        late = [s for s in steps if s["late"] is not None]
        if late and steps[0]["risk"]["alerts_so_far"] == 0:
            return {"customer": customer, "steps": steps, "late": late[0]}
    raise AssertionError("no customer with a late arrival and an alert in the generated data")


def open_journey(context: BrowserContext, site: Site, customer: str) -> Page:
    page = context.new_page()
    page.goto(f"{site.url}/ui/journey.html?customer={customer}")
    page.wait_for_selector("#timeline .marker")
    return page


def test_signing_in_sets_a_strict_httponly_cookie_and_a_bad_token_is_refused(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{site.url}/ui/")
    page.fill("#token", "st_000000000000_not-a-token")
    page.click("#signin-button")
    assert "malformed, unknown or revoked" in page.inner_text("#status [role=alert]")
    assert context.cookies() == []
    page.fill("#token", site.tokens["auditor"])
    page.click("#signin-button")
    page.wait_for_selector("#signed-in:not([hidden])")
    assert "auditor-web" in page.inner_text("#signed-in-as")
    assert "auditor-web (auditor)" in page.inner_text("#who")
    (cookie,) = context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == "", "page scripts cannot read the session"
    shot(page, "signin")
    page.click("#logout")
    page.wait_for_url(f"{site.url}/ui/")
    assert context.cookies() == []
    assert not errors
    context.close()


def test_a_cookie_authenticated_change_needs_the_custom_header(site: Site) -> None:
    (alert, *_) = site.get("/v1/alerts", status="open", limit=1)
    path = f"/v1/alerts/{alert['alert_id']}/dismiss"
    body = {"reason": "checked by the web test"}
    with httpx.Client(base_url=site.url) as client:
        client.cookies.set("servicetrace_session", site.tokens["supervisor"])
        forged = client.post(path, json=body)
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "csrf_header_missing"
        assert site.get(f"/v1/alerts/{alert['alert_id']}")["status"] == "open"
        assert client.get("/v1/alerts", params={"limit": 1}).status_code == 200, "reads pass"
        assert client.get("/v1/tokens").status_code == 403, "roles hold"
    signin = httpx.post(f"{site.url}/ui/session", json={"token": site.tokens["supervisor"]})
    assert signin.status_code == 403, "a cross-site form cannot sign anyone in"


def test_the_journey_timeline_has_one_marker_per_touchpoint_on_its_channel_lane(
    browser: Browser, site: Site, subject: dict[str, Any]
) -> None:
    customer = subject["customer"]
    journey = site.get(f"/v1/customers/{customer}/journey", role="auditor")
    context = signed_in(browser, site, "auditor")
    page = open_journey(context, site, customer)
    markers = page.locator("#timeline .marker")
    assert markers.count() == len(journey["touchpoints"])
    channels = {tp["channel"] for tp in journey["touchpoints"]}
    assert set(page.locator("#timeline .lane-name").all_text_contents()) == channels
    for channel in channels:
        on_lane = page.locator(f'#timeline .marker[data-channel="{channel}"]').count()
        assert on_lane == sum(tp["channel"] == channel for tp in journey["touchpoints"])
    late = subject["late"]["touchpoint"]["event_id"]
    assert "late" in (page.get_attribute(f'.marker[data-event-id="{late}"]', "class") or "")
    assert "masked" in page.inner_text("#identity"), "an auditor sees personal fields masked"
    shot(page, "journey")
    context.close()


def test_the_slider_and_buttons_move_through_the_steps_and_the_risk_panel_follows(
    browser: Browser, site: Site, subject: dict[str, Any]
) -> None:
    steps = subject["steps"]
    target = next(s for s in steps if s["risk"]["alerts_so_far"] > 0)
    context = signed_in(browser, site, "auditor")
    page = open_journey(context, site, subject["customer"])
    errors = watch_errors(page)
    total = len(steps)
    assert page.inner_text("#step-label").startswith(f"step 1 of {total}")
    assert page.inner_text("#alerts-so-far") == "Alerts so far: 0"
    page.fill("#slider", str(target["step"]))
    assert page.inner_text("#step-label").startswith(f"step {target['step']} of {total}")
    shown = page.inner_text("#alerts-so-far")
    assert shown.startswith(f"Alerts so far: {target['risk']['alerts_so_far']} (")
    for rule in target["risk"]["alerts_by_rule"]:
        assert rule in shown
    assert target["touchpoint"]["kind"] in page.inner_text("#step")
    selected = page.locator("#timeline .marker.selected")
    assert selected.get_attribute("data-step") == str(target["step"])
    page.click("#back")
    assert page.inner_text("#step-label").startswith(f"step {target['step'] - 1} of {total}")
    assert page.inner_text("#alerts-so-far").startswith(
        f"Alerts so far: {steps[target['step'] - 2]['risk']['alerts_so_far']}"
    )
    page.click("#next")
    assert page.inner_text("#step-label").startswith(f"step {target['step']} of {total}")
    shot(page, "journey-step")
    assert not errors
    context.close()


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_as_of_view_shows_late_arrivals_apart(
    browser: Browser, site: Site, subject: dict[str, Any]
) -> None:
    late = subject["late"]["touchpoint"]
    occurred, recorded = _iso(late["occurred_at"]), _iso(late["recorded_at"])
    moment = (occurred + (recorded - occurred) / 2).isoformat()
    context = signed_in(browser, site, "auditor")
    page = open_journey(context, site, subject["customer"])
    page.fill("#asof-input", moment)
    page.click("#asof-button")
    page.wait_for_selector("#asof-summary")
    expected = site.get(
        f"/v1/customers/{subject['customer']}/journey", role="auditor", as_of=moment
    )
    apart = page.locator("#late-arrivals tr.late-arrival")
    assert apart.count() == len(expected["late_arrivals"]) >= 1
    assert late["event_id"] in [
        apart.nth(i).get_attribute("data-event-id") for i in range(apart.count())
    ]
    summary = page.inner_text("#asof-summary")
    assert f"{len(expected['known']['touchpoints'])} touchpoint(s) known" in summary
    assert f"{len(expected['late_arrivals'])} recorded late" in summary
    marker = page.get_attribute(f'.marker[data-event-id="{late["event_id"]}"]', "class") or ""
    assert "unknown-then" in marker
    after = page.locator("#timeline .marker.after-asof").count()
    assert after == sum(
        _iso(s["touchpoint"]["occurred_at"]) > _iso(moment) for s in subject["steps"]
    )
    shot(page, "journey-as-of")
    context.close()


def test_the_scene_link_opens_the_scene_with_its_evaluation(
    browser: Browser, site: Site, subject: dict[str, Any]
) -> None:
    episode = subject["steps"][0]["episode"]
    form = site.get("/v1/evaluation-form", role="auditor")
    answers = {q["id"]: 3 if q["answer"] == "scale" else "yes" for q in form["questions"]}
    made = httpx.post(
        f"{site.url}/v1/evaluations",
        json={"episode_id": episode["episode_id"], "answers": answers, "comment": "web test"},
        headers=auth(site.tokens["auditor"]),
    )
    assert made.status_code == 201, made.text
    context = signed_in(browser, site, "auditor")
    page = open_journey(context, site, subject["customer"])
    assert "auditor-web" in page.inner_text("#step-evaluations")
    page.click("#scene-link")
    page.wait_for_selector("#summary dl")
    assert episode["episode_id"] in page.inner_text("#title")
    stored = site.get(f"/v1/scenes/{episode['episode_id']}", role="auditor")
    assert page.locator("#touchpoints tr.touchpoint").count() == stored["touchpoints"] >= 1
    card = page.locator(f'[data-evaluation-id="{made.json()["evaluation_id"]}"]')
    assert "auditor-web" in card.inner_text()
    shot(page, "scene")
    context.close()


def test_an_alert_arrives_live_its_age_ticks_and_ack_moves_it(browser: Browser, site: Site) -> None:
    context = signed_in(browser, site, "supervisor")
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{site.url}/ui/alerts.html")
    page.wait_for_selector("#live-state.live")
    link = page.get_by_role("link", name=site.live_customer, exact=True)
    assert page.locator("tr[data-alert-id]").filter(has=link).count() == 0
    posted = httpx.post(
        f"{site.url}/v1/touchpoints",
        content=site.held_back,
        headers={**auth(site.tokens["ingest"]), "Content-Type": "application/x-ndjson"},
        timeout=60,
    )
    assert posted.status_code == 202, posted.text
    arrived = page.locator("#open tr[data-alert-id]").filter(has=link).first
    arrived.wait_for(timeout=60_000)
    alert_id = arrived.get_attribute("data-alert-id")
    assert alert_id is not None
    assert site.get(f"/v1/alerts/{alert_id}")["customer_id"] == site.live_customer
    row = page.locator(f'#open tr[data-alert-id="{alert_id}"]')
    first = row.locator("td.age").inner_text()
    page.wait_for_function(
        "([id, before]) => document.querySelector(`tr[data-alert-id='${id}'] td.age`)"
        ".textContent !== before",
        arg=[alert_id, first],
        timeout=5_000,
    )
    shot(page, "alerts-live")
    row.locator("button.ack").click()
    moved = page.locator(f'#acknowledged tr[data-alert-id="{alert_id}"]')
    moved.wait_for(timeout=10_000)
    assert page.locator(f'#open tr[data-alert-id="{alert_id}"]').count() == 0
    assert "supervisor-web" in moved.locator("td.status").inner_text()
    stored = site.get(f"/v1/alerts/{alert_id}")
    assert stored["status"] == "acknowledged"
    assert stored["history"][-1]["by"] == "supervisor-web"
    assert _sensitive_shown_as_listed(page, site)
    shot(page, "alerts-acknowledged")
    assert not errors
    context.close()


def _sensitive_shown_as_listed(page: Page, site: Site) -> bool:
    """The page's sensitive customers are the API's (polled: the live pipeline may still be
    changing flags; the page reloads the list on every alert event and every 30 s)."""
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        listed = site.get("/v1/risk/sensitive", role="supervisor")
        wanted = [row["customer_id"] for row in listed["customers"]]
        items = page.locator("#sensitive li[data-customer-id]")
        shown = [items.nth(i).get_attribute("data-customer-id") for i in range(items.count())]
        if shown == wanted and f"({listed['count']})" in page.inner_text("#sensitive-count"):
            return True
        time.sleep(0.5)
    return False


def test_the_channels_page_draws_one_bar_per_channel(browser: Browser, site: Site) -> None:
    channels = [row["channel"] for row in site.get("/v1/channels", role="supervisor")["channels"]]
    context = signed_in(browser, site, "supervisor")
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{site.url}/ui/channels.html")
    page.wait_for_selector("#volume-chart .bar")
    for chart in ("volume", "fcr", "cost"):
        bars = page.locator(f"#{chart}-chart .bar")
        assert [bars.nth(i).get_attribute("data-channel") for i in range(bars.count())] == channels
    assert page.locator("#daily-chart polyline.series").count() == len(channels)
    assert page.locator("#figures-table tbody tr").count() == len(channels)
    shot(page, "channels")
    assert not errors
    context.close()


def test_a_role_without_replay_is_told_so_on_the_journey_page(
    browser: Browser, site: Site, subject: dict[str, Any]
) -> None:
    context = signed_in(browser, site, "supervisor")
    page = context.new_page()
    page.goto(f"{site.url}/ui/journey.html?customer={subject['customer']}")
    message = page.locator("#status [role=alert]")
    message.wait_for()
    assert "cannot replay" in message.inner_text() and "history:read" in message.inner_text()
    assert page.locator("#timeline .marker").count() == 0
    context.close()
