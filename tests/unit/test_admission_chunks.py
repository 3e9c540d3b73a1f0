"""A chunk's outcomes survive the trip between processes and regroup per submission."""

from __future__ import annotations

from events.errors import FieldError
from events.log import Entry
from services.ingest.admission import Admitted, AdmittedChunk, _from_wire, _to_wire
from services.ingest.submission import Submission


def _outcomes() -> tuple[list[Submission], list[Admitted]]:
    submissions = [Submission("s", n, f"line {n}") for n in range(1, 6)]
    outcomes = [
        Admitted((Entry("e1", "c1", b"\x00one"),)),
        Admitted(reason="invalid", errors=(FieldError("kind", "enum", "not a kind"),)),
        Admitted(),  # a submission that maps to no touchpoint at all
        Admitted((Entry("e2", "c2", b"two"), Entry("e3", "c2", b"three"))),
        Admitted(reason="invalid_json", errors=(FieldError("record", "invalid_json", "cut"),)),
    ]
    return submissions, outcomes


def test_a_chunk_regroups_into_the_same_outcomes() -> None:
    submissions, outcomes = _outcomes()
    chunk = AdmittedChunk.of(submissions, outcomes)
    assert chunk.counts == [1, -1, 0, 2, -1]
    assert [e.event_id for e in chunk.entries] == ["e1", "e2", "e3"]
    assert sorted(chunk.rejections) == [1, 4]
    assert list(chunk.outcomes()) == list(zip(submissions, outcomes, strict=True))


def test_the_wire_form_gives_the_same_chunk() -> None:
    submissions, outcomes = _outcomes()
    back = _from_wire(submissions, _to_wire(outcomes))
    assert back == AdmittedChunk.of(submissions, outcomes)
    assert all(type(entry) is Entry for entry in back.entries)
    assert all(type(e) is FieldError for a in back.rejections.values() for e in a.errors)
