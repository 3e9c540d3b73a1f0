"""The web pages' side of the API: static pages under ``/ui`` with a strict CSP, browser
sign-in into an HttpOnly ``SameSite=Strict`` cookie that every endpoint accepts like a bearer
token (roles still checked), the custom header that a cookie-authenticated change needs, and
``GET /v1/risk/sensitive`` for the supervisors' board."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.api.auth import CSRF_HEADER, SESSION_COOKIE
from services.security import Role
from tests.integration.api_support import World, bearer, world

__all__ = ["world"]

CSRF = {CSRF_HEADER: "1"}


def browser(world: World) -> TestClient:
    """A client of its own: a cookie jar no other test shares."""
    return TestClient(world.client.app)


def signed_in(world: World, role: Role) -> TestClient:
    client = browser(world)
    answer = client.post("/ui/session", json={"token": world.secrets[role]}, headers=CSRF)
    assert answer.status_code == 200, answer.text
    return client


def test_the_pages_are_served_with_a_strict_content_security_policy(world: World) -> None:
    page = world.client.get("/ui/")
    assert page.status_code == 200 and 'id="signin"' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for asset in ("signin.js", "common.js", "style.css"):
        assert world.client.get(f"/ui/{asset}").status_code == 200, "the sign-in page loads it"
    reader = signed_in(world, Role.AUDITOR)
    for name in ("journey.html", "scene.html", "alerts.html", "channels.html"):
        served = reader.get(f"/ui/{name}")
        assert served.status_code == 200 and '<script type="module"' in served.text, name
        assert served.headers["Content-Security-Policy"] == policy
    script = reader.get("/ui/journey.js")
    assert "javascript" in script.headers["content-type"]
    assert "http://" not in script.text and "https://" not in script.text, "no CDN, no network"
    assert reader.get("/ui/nothing.html").status_code == 404


def test_only_the_sign_in_page_answers_without_a_valid_token(world: World) -> None:
    anonymous = browser(world)
    page = anonymous.get("/ui/journey.html?customer=C1", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "./", "to the sign-in page"
    assert anonymous.get("/ui/journey.js").status_code == 401
    forged = browser(world)
    forged.cookies.set(SESSION_COOKIE, "st_0123456789ab_forged")
    assert forged.get("/ui/alerts.html", follow_redirects=False).status_code == 303
    with_bearer = world.client.get("/ui/alerts.js", headers=bearer(world.secrets[Role.AGENT]))
    assert with_bearer.status_code == 200


def test_signing_in_sets_an_httponly_strict_cookie_holding_a_valid_token(world: World) -> None:
    client = browser(world)
    token = world.secrets[Role.SUPERVISOR]
    no_header = client.post("/ui/session", json={"token": token})
    assert no_header.status_code == 403
    assert no_header.json()["error"]["code"] == "csrf_header_missing"
    bad = client.post("/ui/session", json={"token": "st_0123456789ab_nope"}, headers=CSRF)
    assert bad.status_code == 401 and SESSION_COOKIE not in client.cookies
    good = client.post("/ui/session", json={"token": token}, headers=CSRF)
    assert good.status_code == 200
    assert good.json()["roles"] == ["supervisor"]
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie, "plain http (127.0.0.1) would never send a Secure cookie"
    who = client.get("/ui/session").json()
    assert who["name"] == world.names[Role.SUPERVISOR] and "alerts:act" in who["capabilities"]


def test_the_cookie_authenticates_like_the_token_and_roles_still_hold(world: World) -> None:
    client = signed_in(world, Role.SUPERVISOR)
    assert client.get("/v1/alerts?limit=1").status_code == 200
    assert client.get("/v1/tokens").status_code == 403
    assert client.get("/v1/customers/x/replay").status_code == 403
    agent = client.get("/v1/tokens", headers=bearer(world.secrets[Role.AGENT]))
    assert agent.status_code == 403, "a bearer header wins over the cookie"
    stranger = browser(world)
    stranger.cookies.set(SESSION_COOKIE, "st_0123456789ab_x")
    assert stranger.get("/v1/tokens").status_code == 401


def test_a_change_made_with_the_cookie_needs_the_custom_header(world: World) -> None:
    client = signed_in(world, Role.SUPERVISOR)
    customer = world.customer_with_alerts()
    (row, *_) = world.platform.decisions.alerts(status="open", customer_id=customer)
    forged = client.post(f"/v1/alerts/{row.alert_id}/ack")
    assert forged.status_code == 403
    assert forged.json()["error"]["details"] == {"header": CSRF_HEADER}
    assert world.platform.decisions.alert(row.alert_id).status == "open"
    done = client.post(f"/v1/alerts/{row.alert_id}/ack", headers=CSRF)
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    assert done.json()["history"][-1]["by"] == world.names[Role.SUPERVISOR]
    with_bearer = browser(world).post(
        f"/v1/alerts/{row.alert_id}/resolve",
        json={"note": "called back"},
        headers=world.as_(Role.SUPERVISOR),
    )
    assert with_bearer.status_code == 200, "a bearer caller needs no extra header"


def test_signing_out_clears_the_cookie(world: World) -> None:
    client = signed_in(world, Role.AUDITOR)
    assert client.post("/ui/logout").status_code == 403
    assert client.post("/ui/logout", headers=CSRF).status_code == 200
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/ui/session").status_code == 401


def test_the_sensitive_list_is_every_customer_whose_flag_stands(world: World) -> None:
    answer = world.get(Role.SUPERVISOR, "/v1/risk/sensitive")
    assert answer.status_code == 200
    listed = [row["customer_id"] for row in answer.json()["customers"]]
    customers = {record["customer"]["id"] for record in world.records}
    decisions = world.platform.decisions
    flagged = {c for c in customers if (risk := decisions.risk_of(c)) and risk.sensitive}
    assert set(listed) == flagged and answer.json()["count"] == len(flagged)
    assert len(listed) == len(set(listed))
    ats = [row["at"] for row in answer.json()["customers"]]
    assert ats == sorted(ats, reverse=True)
    assert world.get(Role.AGENT, "/v1/risk/sensitive").status_code == 403
