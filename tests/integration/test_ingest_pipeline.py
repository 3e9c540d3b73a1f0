"""The ingest pipeline on the embedded backends: nothing lost, nothing doubled."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.deadletter.sqlite import SqliteDeadLetterStore
from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.log.sqlite import SqliteEventLog
from events.personal import PersonalVault
from schemas.serde import TouchpointSerde
from services.ingest.pipeline import IngestPipeline
from services.ingest.submission import Submission, read_ndjson

NOW = datetime(2026, 1, 6, tzinfo=UTC)


def good(n: int, customer: str = "C1", **extra: Any) -> dict[str, Any]:
    return {
        "occurred_at": f"2026-01-05T09:{n % 60:02d}:00+08:00",
        "source": {"system": "crm", "event_id": f"E-{n}"},
        "customer": {"id": customer, "phone": "+86 138 0013 8000"},
        "channel": "phone",
        "direction": "inbound",
        "actor": {"type": "customer"},
        "kind": "inquiry",
        "service_type": "billing",
        **extra,
    }


def ndjson(*lines: Any) -> str:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"


class Harness:
    def __init__(self, tmp: Path, batch_size: int = 3) -> None:
        self.log = SqliteEventLog(tmp / "log.sqlite", partitions=3)
        self.dead = SqliteDeadLetterStore(tmp / "dead.sqlite")
        intake = Intake(
            IdentifierHasher(b"0123456789abcdef"),
            PersonalVault(MemoryKeyStore()),
            clock=lambda: NOW,
        )
        self.pipeline = IngestPipeline(
            intake, TouchpointSerde(), self.log, self.dead, batch_size=batch_size, clock=lambda: NOW
        )

    def ingest(self, text: str, source: str = "in.ndjson") -> dict[str, Any]:
        summary = self.pipeline.run(read_ndjson(io.StringIO(text), source))
        assert summary.balanced
        return summary.to_json()

    def logged(self) -> int:
        return self.log.count()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.log.close()
    h.dead.close()


MIXED = ndjson(
    good(1),
    good(2, customer="C2"),
    "{not json",
    [1, 2],
    good(3, direction="outbound", kind="complaint"),
    good(1),  # the same event again, inside the same file
    good(4, score=9, kind="feedback"),
    good(5, customer="C3"),
)


def test_every_submission_is_accounted_for(harness: Harness) -> None:
    summary = harness.ingest(MIXED)
    assert summary["submitted"] == 8
    assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (3, 1, 4)
    assert summary["rejected_by_reason"] == {
        "customer_kind_outbound": 1,
        "invalid_json": 1,
        "not_an_object": 1,
        "score_out_of_range": 1,
    }
    assert harness.logged() == 3


def test_rejected_records_are_kept_verbatim_with_their_line(harness: Harness) -> None:
    harness.ingest(MIXED)
    letters = {letter.line: letter for letter in harness.dead.list()}
    assert sorted(letters) == [3, 4, 5, 7]
    assert letters[3].payload == "{not json"
    assert letters[5].reason == "customer_kind_outbound"
    assert "complaint cannot be outbound" in letters[5].errors[0].message
    assert json.loads(letters[7].payload)["score"] == 9
    assert letters[7].errors[0].field == "score"


def test_ingesting_the_same_file_twice_adds_nothing(harness: Harness) -> None:
    harness.ingest(MIXED)
    again = harness.ingest(MIXED)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 4, 4)
    assert again["touchpoints"]["appended"] == 0
    assert again["dead_letters_new"] == 0
    assert harness.logged() == 3
    assert harness.dead.count() == 4


def test_a_submission_is_all_or_nothing(harness: Harness) -> None:
    bad_second = Submission("api", 1, "{}", records=[good(10), good(11, wait_seconds=-1)])
    summary = harness.pipeline.run([bad_second])
    assert summary.rejected == 1 and summary.touchpoints_appended == 0
    assert harness.logged() == 0


def test_batches_do_not_change_the_outcome(tmp_path: Path) -> None:
    lines = [good(i, customer=f"C{i % 4}") for i in range(50)]
    small = Harness(tmp_path / "small", batch_size=1)
    large = Harness(tmp_path / "large", batch_size=1000)
    a = small.ingest(ndjson(*lines))
    b = large.ingest(ndjson(*lines))
    assert {k: v for k, v in a.items() if "second" not in k} == {
        k: v for k, v in b.items() if "second" not in k
    }
    for p in range(3):
        assert [r.event_id for r in small.log.read_all(p)] == [
            r.event_id for r in large.log.read_all(p)
        ]


junk = st.one_of(
    st.text(max_size=40),
    st.builds(
        json.dumps,
        st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4),
    ),
    st.builds(
        lambda n, d: json.dumps(good(n, **d)),
        st.integers(0, 200),
        st.fixed_dictionaries(
            {},
            optional={
                "score": st.integers(-3, 9),
                "kind": st.sampled_from(["feedback", "complaint", "x"]),
                "direction": st.sampled_from(["inbound", "outbound", "sideways"]),
                "wait_seconds": st.floats(-5, 5, allow_nan=False),
                "occurred_at": st.sampled_from(
                    ["2026-01-05T09:00:00", "yesterday", "2026-01-05T09:00:00Z"]
                ),
            },
        ),
    ),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(junk, max_size=25))
def test_submitted_always_equals_accepted_duplicates_and_rejected(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    h = Harness(tmp_path_factory.mktemp("h"))
    text = "\n".join(line.replace("\n", " ") for line in lines)
    summary = h.ingest(text)
    non_blank = sum(1 for line in text.split("\n") if line.strip())
    assert summary["submitted"] == non_blank
    assert summary["submitted"] == summary["accepted"] + summary["duplicates"] + summary["rejected"]
    assert h.dead.count() <= summary["rejected"]
    assert h.logged() == summary["touchpoints"]["appended"]
