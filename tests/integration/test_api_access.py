"""Access control over the whole API: no endpoint but health answers without a token, and each
answers 403 to every role that lacks its capability (the table below must name every route
the app has, so a new endpoint without a decided capability fails here)."""

from __future__ import annotations

import pytest

from services.security import ROLE_CAPABILITIES, Capability, Role
from tests.integration.api_support import World, bearer, world

pytestmark = pytest.mark.usefixtures("world")
__all__ = ["world"]

C = Capability
#: (method, path as the app declares it) → the capability it needs, and a URL to call it with.
ENDPOINTS: dict[tuple[str, str], tuple[Capability, str]] = {
    ("POST", "/v1/touchpoints"): (C.TOUCHPOINTS_WRITE, "/v1/touchpoints"),
    ("GET", "/v1/customers/{customer_id}"): (C.CUSTOMERS_READ, "/v1/customers/nobody"),
    ("GET", "/v1/customers/{customer_id}/journey"): (
        C.CUSTOMERS_READ,
        "/v1/customers/nobody/journey",
    ),
    ("GET", "/v1/customers/{customer_id}/scenes"): (C.CUSTOMERS_READ, "/v1/customers/x/scenes"),
    ("GET", "/v1/customers/{customer_id}/risk"): (C.CUSTOMERS_READ, "/v1/customers/x/risk"),
    ("GET", "/v1/customers/{customer_id}/replay"): (C.HISTORY_READ, "/v1/customers/x/replay"),
    ("GET", "/v1/customers/{customer_id}/export"): (C.EXPORTS_CREATE, "/v1/customers/x/export"),
    ("GET", "/v1/scenes/{episode_id}"): (C.CUSTOMERS_READ, "/v1/scenes/nothing"),
    ("GET", "/v1/channels"): (C.ANALYTICS_READ, "/v1/channels"),
    ("GET", "/v1/compliance"): (C.ANALYTICS_READ, "/v1/compliance"),
    ("GET", "/v1/alerts"): (C.ALERTS_READ, "/v1/alerts"),
    ("GET", "/v1/alerts/stream"): (C.ALERTS_READ, "/v1/alerts/stream?timeout=0.3"),
    ("GET", "/v1/alerts/{alert_id}"): (C.ALERTS_READ, "/v1/alerts/ffffffff"),
    ("GET", "/v1/risk/sensitive"): (C.ALERTS_READ, "/v1/risk/sensitive"),
    ("POST", "/v1/alerts/{alert_id}/ack"): (C.ALERTS_ACT, "/v1/alerts/ffffffff/ack"),
    ("POST", "/v1/alerts/{alert_id}/resolve"): (C.ALERTS_ACT, "/v1/alerts/ffffffff/resolve"),
    ("POST", "/v1/alerts/{alert_id}/dismiss"): (C.ALERTS_ACT, "/v1/alerts/ffffffff/dismiss"),
    ("GET", "/v1/evaluations"): (C.EVALUATIONS_READ, "/v1/evaluations"),
    ("GET", "/v1/evaluations/{evaluation_id}"): (C.EVALUATIONS_READ, "/v1/evaluations/ffff"),
    ("POST", "/v1/evaluations"): (C.EVALUATIONS_WRITE, "/v1/evaluations"),
    ("GET", "/v1/evaluation-form"): (C.EVALUATIONS_READ, "/v1/evaluation-form"),
    ("GET", "/v1/reads"): (C.READS_READ, "/v1/reads"),
    ("GET", "/v1/tokens"): (C.TOKENS_MANAGE, "/v1/tokens"),
    ("POST", "/v1/tokens"): (C.TOKENS_MANAGE, "/v1/tokens"),
    ("DELETE", "/v1/tokens/{token_id}"): (C.TOKENS_MANAGE, "/v1/tokens/ffffffffffff"),
    ("GET", "/metrics"): (C.METRICS_READ, "/metrics"),
}
OPEN = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_the_table_names_every_operation_of_the_app(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if path not in OPEN
    }
    assert operations == set(ENDPOINTS)


@pytest.mark.parametrize(("method", "path"), sorted(ENDPOINTS))
def test_no_token_is_401_with_a_bearer_challenge(world: World, method: str, path: str) -> None:
    url = ENDPOINTS[method, path][1]
    answer = world.client.request(method, url)
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path"), sorted(ENDPOINTS))
def test_each_role_is_let_in_exactly_where_its_capabilities_allow(
    world: World, method: str, path: str
) -> None:
    capability, url = ENDPOINTS[method, path]
    for role in Role:
        answer = world.client.request(method, url, headers=world.as_(role))
        if capability in ROLE_CAPABILITIES[role]:
            assert answer.status_code not in (401, 403), (role, answer.text)
            assert answer.status_code < 500, (role, answer.text)
        else:
            assert answer.status_code == 403, (role, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "forbidden"
            assert error["details"] == {"required": capability.value, "roles": [role.value]}


@pytest.mark.parametrize(
    "token",
    ["garbage", "st_0123456789ab_notthesecret", "st_zz_short"],
)
def test_a_bad_token_is_401_invalid_token(world: World, token: str) -> None:
    answer = world.client.get("/v1/alerts", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert answer.json()["error"]["code"] == "invalid_token"


def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    issued = world.platform.tokens.create("leaver", ["supervisor"])
    assert world.client.get("/v1/alerts", headers=bearer(issued.secret)).status_code == 200
    revoked = world.client.delete(
        f"/v1/tokens/{issued.record.token_id}", headers=world.as_(Role.ADMIN)
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert world.client.get("/v1/alerts", headers=bearer(issued.secret)).status_code == 401


def test_health_answers_without_a_token_and_says_nothing_else(world: World) -> None:
    answer = world.client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "live": False}


def test_history_needs_its_own_capability_even_on_a_customer_read(world: World) -> None:
    customer = world.customer_with_alerts()
    url = f"/v1/customers/{customer}/journey?as_of=2026-01-20"
    assert world.get(Role.AGENT, url).status_code == 403
    assert world.get(Role.SUPERVISOR, url).status_code == 403
    assert world.get(Role.AUDITOR, url).status_code == 200
    episode = world.platform.scene_view.for_customer(customer)[0]["episode_id"]
    assert world.get(Role.AGENT, f"/v1/scenes/{episode}?as_of=2026-01-20").status_code == 403


def test_the_openapi_document_declares_bearer_auth(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"bearer"}
    journey = spec["paths"]["/v1/customers/{customer_id}/journey"]["get"]
    assert journey["security"], "each protected operation names the scheme"
    assert world.client.get("/docs").status_code == 200
