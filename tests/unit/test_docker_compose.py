"""Offline checks of the production deployment shape (docker-compose.yml + Dockerfile).

There is no container engine on the development and CI machines, so the compose file is
checked by parsing it: the services that must exist, Kafka in KRaft mode, pinned images,
healthchecks and start-up ordering, the servicetrace configuration, secrets only through
required ``${VAR:?...}`` references that ``deploy/.env.example`` documents, the topics
``kafka-init`` creates, named volumes for state, and a non-root image.

A ``docker compose config -q`` run is deliberately not part of this file: the docker CLI
on the development machines has no compose plugin (``docker: unknown command: docker
compose``), so such a check could never be seen to work here. Validate with it where
compose is installed (see the README, "Deploying (production shape)").
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy" / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

INFRA = ("kafka", "schema-registry", "clickhouse", "postgres")
SERVICETRACE = ("servicetrace-api", "servicetrace-projector", "servicetrace-relay")
ONE_SHOT = ("kafka-init",)
REQUIRED_SERVICES = (*INFRA, *ONE_SHOT, *SERVICETRACE)

EXPECTED_COMMANDS = {
    "servicetrace-api": ["servicetrace", "serve", "--host", "0.0.0.0", "--port", "8080"],
    "servicetrace-projector": ["servicetrace", "project", "--follow"],
    "servicetrace-relay": ["servicetrace", "relay", "--follow"],
}

TOPICS = (
    "servicetrace.touchpoints.v1",
    "servicetrace.deadletter.v1",
    "servicetrace.alerts.v1",
    "servicetrace.flags.v1",
)

# Where each stateful service keeps its data, inside the container.
STATE_DIRS = {
    "kafka": "/var/lib/kafka/data",
    "clickhouse": "/var/lib/clickhouse",
    "postgres": "/var/lib/postgresql/data",
    "servicetrace-api": "/data",
    "servicetrace-projector": "/data",
    "servicetrace-relay": "/data",
}

SECRET_KEY = re.compile(r"PASSWORD|PASSWD|SECRET|PEPPER|TOKEN|CREDENTIAL|API_KEY|PRIVATE_KEY")
SECRET_VARS = re.compile(r"PASSWORD|SECRET|PEPPER|TOKEN|CLUSTER_ID")

# Compose interpolation: `$$` is a literal dollar, `${NAME...}` and `$NAME` are references.
_REFERENCE = re.compile(
    r"\$(?:(?P<dollar>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
_REQUIRED_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$")


# --------------------------------------------------------------------------- helpers


def _parse_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"{path.name}: not NAME=value: {raw!r}"
        values[name.strip()] = value.strip()
    return values


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Resolve compose-style references the way `docker compose` does with an env file."""

    def replace(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        value = env.get(name)
        if op in (":-", "-"):
            unset = value is None or (op == ":-" and value == "")
            return arg if unset else str(value)
        if op in (":?", "?"):
            missing = value is None or (op == ":?" and value == "")
            assert not missing, f"required variable {name} is missing: {arg}"
        return "" if value is None else value

    return _REFERENCE.sub(replace, text)


def _strings(node: Any) -> Iterator[str]:
    """Every string value (not key) in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _references(text: str) -> Iterator[re.Match[str]]:
    for match in _REFERENCE.finditer(text):
        if not match["dollar"]:
            yield match


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {name: value for name, _, value in pairs}
    return {name: "" if value is None else str(value) for name, value in env.items()}


def _argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def _userinfo(url: str) -> tuple[str | None, str | None]:
    """(user, password) of a URL whose password may be an uninterpolated ``${...}``."""
    refs: list[str] = []

    def mask(match: re.Match[str]) -> str:
        refs.append(match[0])
        return f"REF{len(refs) - 1}X"

    parts = urlsplit(_REFERENCE.sub(mask, url))
    password = parts.password
    for index, ref in enumerate(refs):
        password = None if password is None else password.replace(f"REF{index}X", ref)
    return parts.username, password


def _image_tag(image: str) -> str | None:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def _volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of every volume mount (short or long syntax)."""
    mounts: dict[str, str] = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, str):
            source, _, rest = entry.partition(":")
            mounts[rest.split(":", 1)[0]] = source
        else:
            mounts[entry["target"]] = entry.get("source", "")
    return mounts


def _topic_commands(script: str) -> dict[str, dict[str, Any]]:
    """`kafka-topics --create` invocations in the kafka-init script, by topic."""
    topics: dict[str, dict[str, Any]] = {}
    for line in script.replace("\\\n", " ").splitlines():
        if "--create" not in line:
            continue
        argv = shlex.split(line, comments=True)
        spec: dict[str, Any] = {"configs": {}, "if_not_exists": "--if-not-exists" in argv}
        for flag, value in itertools.pairwise(argv):
            if flag == "--topic":
                spec["topic"] = value
            elif flag == "--partitions":
                spec["partitions"] = int(value)
            elif flag == "--replication-factor":
                spec["replication_factor"] = int(value)
            elif flag == "--config":
                key, _, val = value.partition("=")
                spec["configs"][key] = val
        assert "topic" in spec, f"kafka-init: --create without --topic: {line!r}"
        topics[spec["topic"]] = spec
    return topics


# -------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def compose_text() -> str:
    assert COMPOSE_FILE.is_file(), f"missing {COMPOSE_FILE}"
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    assert isinstance(data.get("services"), dict), "docker-compose.yml has no services"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    assert ENV_EXAMPLE.is_file(), f"missing {ENV_EXAMPLE}"
    return _parse_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def kafka_env(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    return _environment(services["kafka"])


@pytest.fixture(scope="module")
def dockerfile() -> str:
    assert DOCKERFILE.is_file(), f"missing {DOCKERFILE}"
    return DOCKERFILE.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- tests


def test_required_services_exist(services: dict[str, dict[str, Any]]) -> None:
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"services missing from docker-compose.yml: {missing}"


def test_kafka_runs_in_kraft_mode(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], kafka_env: dict[str, str]
) -> None:
    roles = {r.strip() for r in kafka_env.get("KAFKA_PROCESS_ROLES", "").split(",")}
    assert roles == {"broker", "controller"}, f"KAFKA_PROCESS_ROLES is {roles}"
    assert kafka_env.get("CLUSTER_ID"), "KRaft needs a fixed CLUSTER_ID"

    node_id = kafka_env.get("KAFKA_NODE_ID")
    assert node_id, "KAFKA_NODE_ID not set"
    voters = kafka_env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
    assert voters, "KAFKA_CONTROLLER_QUORUM_VOTERS not set"
    parsed = [re.fullmatch(r"(\d+)@([\w.-]+):(\d+)", v.strip()) for v in voters.split(",")]
    assert all(parsed), f"malformed KAFKA_CONTROLLER_QUORUM_VOTERS: {voters!r}"
    voter_ids = {m[1] for m in parsed if m}
    assert node_id in voter_ids, f"node {node_id} is not among the voters {voters!r}"

    controller_names = kafka_env.get("KAFKA_CONTROLLER_LISTENER_NAMES", "").split(",")
    assert "CONTROLLER" in controller_names, "KAFKA_CONTROLLER_LISTENER_NAMES lacks CONTROLLER"
    listeners = dict(
        item.split("://", 1) for item in kafka_env.get("KAFKA_LISTENERS", "").split(",") if item
    )
    assert "CONTROLLER" in listeners, f"no CONTROLLER listener in {listeners}"
    controller_port = listeners["CONTROLLER"].rsplit(":", 1)[1]
    assert {m[3] for m in parsed if m} == {controller_port}, (
        "voters must point at the CONTROLLER listener port"
    )
    protocol_map = kafka_env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "")
    mapped = {item.split(":", 1)[0] for item in protocol_map.split(",") if item}
    assert set(listeners) <= mapped, f"listeners without a security protocol: {protocol_map!r}"
    advertised = kafka_env.get("KAFKA_ADVERTISED_LISTENERS", "")
    assert "CONTROLLER://" not in advertised, "the CONTROLLER listener must not be advertised"
    assert "PLAINTEXT://kafka:9092" in advertised, "kafka:9092 must be advertised in-network"

    zookeeper = [name for name in services if "zookeeper" in name.lower()]
    assert not zookeeper, f"ZooKeeper services present: {zookeeper}"
    # Comments may explain why there is none; the configuration itself must not use it.
    configuration = yaml.safe_dump(compose).lower()
    assert "zookeeper" not in configuration, "ZooKeeper configured in the compose file"


def test_kafka_broker_defaults(kafka_env: dict[str, str]) -> None:
    assert kafka_env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "").lower() == "false"
    assert kafka_env.get("KAFKA_NUM_PARTITIONS") == "6"
    replication = int(kafka_env.get("KAFKA_DEFAULT_REPLICATION_FACTOR", "1"))
    min_isr = int(kafka_env.get("KAFKA_MIN_INSYNC_REPLICAS", "0"))
    assert min_isr == 1, "a single node can only ever have one in-sync replica"
    assert min_isr <= replication
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert kafka_env.get(key) == "1", f"{key} must be 1 on a single node"


def test_every_image_is_pinned_to_a_version(
    services: dict[str, dict[str, Any]], env_example: dict[str, str]
) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name}: no image (built services need a tagged image name too)"
        resolved = _interpolate(str(image), env_example)
        tag = _image_tag(resolved)
        assert tag, f"{name}: untagged image {resolved!r}"
        assert tag != "latest", f"{name}: image {resolved!r} uses latest"
        assert re.search(r"\d", tag), f"{name}: tag of {resolved!r} is not a version"
        # The default used when the .env does not set the tag must be a version too.
        assert _image_tag(_interpolate(str(image), {})) not in (None, "", "latest")


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert str(service.get("restart", "no")) == "no", f"{name} must not be restarted"
            continue
        check = service.get("healthcheck")
        assert check, f"{name}: long-running service without a healthcheck"
        assert not check.get("disable"), f"{name}: healthcheck disabled"
        test = check.get("test")
        assert test and test != ["NONE"], f"{name}: empty healthcheck test"
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), (
            f"{name}: long-running service without a restart policy"
        )


def test_depends_on_conditions(services: dict[str, dict[str, Any]]) -> None:
    expected_for_servicetrace = {
        "kafka": "service_healthy",
        "schema-registry": "service_healthy",
        "clickhouse": "service_healthy",
        "postgres": "service_healthy",
        "kafka-init": "service_completed_successfully",
    }
    for name in SERVICETRACE:
        deps = services[name].get("depends_on")
        assert isinstance(deps, dict), f"{name}: depends_on must use the long (condition) form"
        got = {dep: (spec or {}).get("condition") for dep, spec in deps.items()}
        for dep, condition in expected_for_servicetrace.items():
            assert got.get(dep) == condition, f"{name} -> {dep}: {got.get(dep)!r}"

    for name in ("kafka-init", "schema-registry"):
        deps = services[name].get("depends_on") or {}
        assert isinstance(deps, dict)
        assert (deps.get("kafka") or {}).get("condition") == "service_healthy", name

    # Consistency: waiting for "healthy" needs a healthcheck, "completed" a one-shot.
    for name, service in services.items():
        deps = service.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on must use the long (condition) form"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            wanted = (spec or {}).get("condition")
            assert wanted in ("service_healthy", "service_completed_successfully"), (
                f"{name} -> {dep}: condition {wanted!r}"
            )
            if wanted == "service_healthy":
                assert services[dep].get("healthcheck"), f"{dep} has no healthcheck"
            else:
                assert dep in ONE_SHOT, f"{dep} is not a one-shot service"


def test_servicetrace_services_configuration(
    services: dict[str, dict[str, Any]], env_example: dict[str, str]
) -> None:
    for name in SERVICETRACE:
        service = services[name]
        assert service.get("build"), f"{name}: must be built from the repository Dockerfile"
        build = service["build"]
        if isinstance(build, dict):
            assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
            assert build.get("context", ".") == "."
        assert _argv(service.get("command", [])) == EXPECTED_COMMANDS[name], name

        env = _environment(service)
        assert env.get("SERVICETRACE_LOG") == "kafka", name
        assert env.get("SERVICETRACE_KAFKA_BOOTSTRAP") == "kafka:9092", name
        assert env.get("SERVICETRACE_HOME") == "/data", name
        assert _REQUIRED_REF.match(env.get("SERVICETRACE_PEPPER", "")), (
            f"{name}: SERVICETRACE_PEPPER must be a required ${{VAR:?...}} reference"
        )

        clickhouse = urlsplit(_interpolate(env.get("SERVICETRACE_CLICKHOUSE_URL", ""), env_example))
        assert (clickhouse.scheme, clickhouse.hostname, clickhouse.port) == (
            "http",
            "clickhouse",
            8123,
        ), name
        assert clickhouse.path == "/servicetrace", name
        assert clickhouse.username and clickhouse.password, f"{name}: ClickHouse credentials"

        postgres = urlsplit(_interpolate(env.get("SERVICETRACE_POSTGRES_DSN", ""), env_example))
        assert postgres.scheme in ("postgresql", "postgres"), name
        assert (postgres.hostname, postgres.port, postgres.path) == (
            "postgres",
            5432,
            "/servicetrace",
        ), name
        assert postgres.username and postgres.password, f"{name}: PostgreSQL credentials"

    # The credentials in the URLs are the ones the servers are created with.
    clickhouse_env = _environment(services["clickhouse"])
    postgres_env = _environment(services["postgres"])
    api_env = _environment(services["servicetrace-api"])
    ch_user, ch_password = _userinfo(api_env["SERVICETRACE_CLICKHOUSE_URL"])
    pg_user, pg_password = _userinfo(api_env["SERVICETRACE_POSTGRES_DSN"])
    assert clickhouse_env.get("CLICKHOUSE_DB") == "servicetrace"
    assert postgres_env.get("POSTGRES_DB") == "servicetrace"
    assert ch_user == clickhouse_env.get("CLICKHOUSE_USER")
    assert pg_user == postgres_env.get("POSTGRES_USER")
    assert ch_password == clickhouse_env.get("CLICKHOUSE_PASSWORD"), "ClickHouse password"
    assert pg_password == postgres_env.get("POSTGRES_PASSWORD"), "PostgreSQL password"

    assert "schema-registry" in services
    registry_env = _environment(services["schema-registry"])
    bootstrap = registry_env.get("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "")
    assert "kafka:9092" in bootstrap, "schema registry must store its schemas in our Kafka"
    assert registry_env.get("SCHEMA_REGISTRY_LISTENERS", "").endswith(":8081")


def test_every_variable_is_documented_in_env_example(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    referenced = {
        match["braced"] or match["bare"]
        for text in _strings(compose)
        for match in _references(text)
    }
    assert referenced, "the compose file references no variables at all (secrets?)"
    undocumented = sorted(referenced - set(env_example))
    assert not undocumented, f"referenced but not in deploy/.env.example: {undocumented}"
    # And the example resolves every reference (required ones included).
    for text in _strings(compose):
        _interpolate(text, env_example)


def test_secret_variables_are_required(compose: dict[str, Any]) -> None:
    for text in _strings(compose):
        for match in _references(text):
            name = match["braced"] or match["bare"]
            if SECRET_VARS.search(name):
                assert match["op"] == ":?" and match["arg"], (
                    f"{name} must be referenced as ${{{name}:?message}}, got {match[0]!r}"
                )


def test_no_plaintext_passwords(
    compose_text: str, services: dict[str, dict[str, Any]], env_example: dict[str, str]
) -> None:
    for name, service in services.items():
        for key, value in _environment(service).items():
            if SECRET_KEY.search(key):
                assert _REQUIRED_REF.match(value), (
                    f"{name}: {key} must come from .env as ${{VAR:?...}}, not a literal"
                )
            if "://" in value and "@" in value:
                _, password = _userinfo(value)
                if password is not None:
                    assert _REQUIRED_REF.match(password), f"{name}: {key} embeds a literal password"
    for var, value in env_example.items():
        if SECRET_VARS.search(var) and value:
            assert value not in compose_text, f"the example value of {var} is in the compose file"


def test_dockerfile_installs_the_package_as_non_root(dockerfile: str) -> None:
    instructions = [
        line.strip()
        for line in dockerfile.replace("\\\n", " ").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    from_args = [
        [word for word in line.split()[1:] if not word.startswith("--")]
        for line in instructions
        if line.upper().startswith("FROM ")
    ]
    assert from_args, "Dockerfile has no FROM"
    stages = {args[2].lower() for args in from_args if len(args) == 3 and args[1].upper() == "AS"}
    froms = [args[0] for args in from_args]
    for image in froms:
        if image.lower() in stages or image == "scratch":
            continue
        tag = _image_tag(image)
        assert tag and tag != "latest", f"base image {image!r} is not pinned"
    assert any(image.startswith("python:3.11") for image in froms)

    last_from = max(i for i, line in enumerate(instructions) if line.upper().startswith("FROM "))
    users = [
        line.split()[1] for line in instructions[last_from:] if line.upper().startswith("USER ")
    ]
    assert users, "the final stage has no USER line: the processes would run as root"
    final_user = users[-1].split(":", 1)[0]
    assert final_user not in ("root", "0"), f"final USER is {users[-1]!r}"

    runs = [line for line in instructions if line.upper().startswith("RUN ")]
    assert any(re.search(r"pip install[^&;]*\s\.(\s|$)", line) for line in runs), (
        "the Dockerfile must `pip install .` the project"
    )


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    assert DOCKERIGNORE.is_file(), f"missing {DOCKERIGNORE}"
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".env", ".git", ".venv", ".servicetrace"):
        assert pattern in patterns, f".dockerignore does not exclude {pattern}"


def test_kafka_init_creates_the_topics(services: dict[str, dict[str, Any]]) -> None:
    init = services["kafka-init"]
    script = "\n".join(_argv(init.get("entrypoint") or []) + _argv(init.get("command") or []))
    topics = _topic_commands(_interpolate(script, {}))
    missing = [topic for topic in TOPICS if topic not in topics]
    assert not missing, f"kafka-init does not create {missing}"
    for topic, spec in topics.items():
        assert spec["if_not_exists"], f"{topic}: re-running kafka-init must be harmless"
        assert spec.get("replication_factor", 1) == 1, f"{topic}: single node, RF 1"

    touchpoints = topics["servicetrace.touchpoints.v1"]
    assert touchpoints.get("partitions") == 6
    configs = touchpoints["configs"]
    assert configs.get("cleanup.policy") == "delete"
    assert configs.get("retention.ms") == "-1", "the log is the system of record: keep forever"
    assert configs.get("retention.bytes", "-1") == "-1"
    assert configs.get("compression.type") == "lz4"


def test_stateful_services_use_named_volumes(compose: dict[str, Any]) -> None:
    declared = set((compose.get("volumes") or {}).keys())
    services = compose["services"]
    kafka_log_dirs = _environment(services["kafka"]).get("KAFKA_LOG_DIRS")
    assert kafka_log_dirs == STATE_DIRS["kafka"], "Kafka must write its log to the volume"
    for name, target in STATE_DIRS.items():
        mounts = _volume_mounts(services[name])
        source = mounts.get(target)
        assert source, f"{name}: nothing mounted on {target}"
        assert not source.startswith((".", "/", "~")), f"{name}: {source!r} is a bind mount"
        assert source in declared, f"{name}: volume {source!r} not declared at top level"
    # No two servicetrace processes share a data directory (local state is single-process).
    sources = [_volume_mounts(services[name])["/data"] for name in SERVICETRACE]
    assert len(set(sources)) == len(sources), f"servicetrace processes share /data: {sources}"


def test_servicetrace_environment_names_are_settings(
    services: dict[str, dict[str, Any]],
) -> None:
    # Settings ignores unknown SERVICETRACE_* variables (extra="ignore"): a misspelt or
    # invented name in the compose file would be dropped without a word.
    from services.settings import Settings

    known = {f"SERVICETRACE_{name.upper()}" for name in Settings.model_fields}
    for name in SERVICETRACE:
        env = _environment(services[name])
        unknown = sorted(key for key in env if key.startswith("SERVICETRACE_") and key not in known)
        assert not unknown, f"{name}: not settings of services/settings.py: {unknown}"
        # ... and each value is one the setting accepts.
        values = {key.removeprefix("SERVICETRACE_").lower(): value for key, value in env.items()}
        resolved = {
            k: _interpolate(
                v,
                {"CLICKHOUSE_PASSWORD": "x", "POSTGRES_PASSWORD": "y", "SERVICETRACE_PEPPER": "z"},
            )
            for k, v in values.items()
        }
        Settings(**resolved)  # type: ignore[arg-type]


def test_only_the_projector_and_relay_consume(services: dict[str, dict[str, Any]]) -> None:
    from services.settings import Settings

    api = _environment(services["servicetrace-api"])
    assert api.get("SERVICETRACE_SERVE_PROJECTOR", "").lower() == "false", (
        "serve would project beside the projector process"
    )
    assert Settings.model_fields["serve_projector"].default is True, "embedded default: serve all"
    for name in ("servicetrace-projector", "servicetrace-relay"):
        assert "SERVICETRACE_SERVE_PROJECTOR" not in _environment(services[name])
        assert "replicas" not in (services[name].get("deploy") or {}), (
            f"{name}: one per deployment (no partition assignment, one relay per outbox)"
        )


def test_api_healthcheck_asks_the_unauthenticated_health_endpoint(
    services: dict[str, dict[str, Any]],
) -> None:
    test = " ".join(_argv(services["servicetrace-api"]["healthcheck"]["test"]))
    assert re.search(r"http://127\.0\.0\.1:8080/health['\"]", test), test
    # Only /health answers without a token: /metrics or /v1/* would answer 401.
    assert "/metrics" not in test and "/v1/" not in test


def test_prometheus_example_scrapes_the_api_with_a_token() -> None:
    config = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["servicetrace-api"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    assert targets == ["servicetrace-api:8080"]
    authorization = job["authorization"]
    assert authorization.get("type", "Bearer") == "Bearer"
    assert authorization.get("credentials_file"), "the token comes from a file, never inline"
    assert "credentials" not in authorization
