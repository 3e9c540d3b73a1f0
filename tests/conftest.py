"""Test-session wiring: fixtures for the real components live in ``tests/fixtures/``.

Real servers are started by the session (tansu for Kafka) or found on the machine
(PostgreSQL at 127.0.0.1:5432). When one is absent a test says so loudly; under ``CI=true``
an absent broker or database is a failure, never a silent skip.
"""

from __future__ import annotations

import pytest

# The contract suites live in modules not named test_*.py: have pytest explain their asserts.
pytest.register_assert_rewrite("tests.contract")

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.clickhouse", "tests.fixtures.postgres"]
