"""The event-log contract: every backend (memory, embedded SQLite, Kafka) must pass it all.

Subclass :class:`EventLogContract` and provide a ``log`` fixture yielding a fresh, empty log
with :attr:`EventLogContract.PARTITIONS` partitions.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest

from events.log import Entry, EventLog, partition_for


def entry(key: str, n: int = 0, event_id: str | None = None) -> Entry:
    return Entry(event_id or str(uuid.uuid4()), key, f"{key}:{n}".encode())


class EventLogContract:
    PARTITIONS = 3

    def test_partition_count_is_the_one_asked_for(self, log: EventLog) -> None:
        assert log.partitions == self.PARTITIONS

    def test_append_returns_one_position_per_entry_in_order(self, log: EventLog) -> None:
        entries = [entry("cust-a", i) for i in range(5)]
        appended = log.append(entries)
        assert [a.event_id for a in appended] == [e.event_id for e in entries]
        assert not any(a.duplicate for a in appended)
        assert [a.position for a in appended] == [0, 1, 2, 3, 4]
        assert {a.partition for a in appended} == {partition_for("cust-a", self.PARTITIONS)}

    def test_positions_are_contiguous_per_partition_from_zero(self, log: EventLog) -> None:
        appended = log.append([entry(f"cust-{i % 7}", i) for i in range(40)])
        by_partition: dict[int, list[int]] = defaultdict(list)
        for a in appended:
            by_partition[a.partition].append(a.position)
        for positions in by_partition.values():
            assert positions == list(range(len(positions)))

    def test_a_duplicate_event_id_is_reported_not_written(self, log: EventLog) -> None:
        first = log.append([entry("cust-a", 1, event_id="e-1")])[0]
        again = log.append([Entry("e-1", "cust-a", b"other bytes"), entry("cust-a", 2)])
        assert again[0].duplicate
        assert (again[0].partition, again[0].position) == (first.partition, first.position)
        assert not again[1].duplicate and again[1].position == first.position + 1
        records = list(log.read_all(first.partition))
        assert [r.event_id for r in records].count("e-1") == 1
        assert records[0].value == b"cust-a:1"

    def test_duplicates_within_one_batch_are_written_once(self, log: EventLog) -> None:
        appended = log.append([entry("k", 1, "same"), entry("k", 2, "same")])
        assert [a.duplicate for a in appended] == [False, True]
        assert appended[0].position == appended[1].position
        assert len(list(log.read_all(appended[0].partition))) == 1

    def test_read_returns_the_records_from_a_position(self, log: EventLog) -> None:
        appended = log.append([entry("cust-b", i) for i in range(10)])
        partition = appended[0].partition
        records = log.read(partition, 4, limit=3)
        assert [r.position for r in records] == [4, 5, 6]
        assert [r.value for r in records] == [b"cust-b:4", b"cust-b:5", b"cust-b:6"]
        assert all(r.key == "cust-b" and r.partition == partition for r in records)
        assert records[0].event_id == appended[4].event_id

    def test_reading_past_the_end_returns_nothing(self, log: EventLog) -> None:
        appended = log.append([entry("cust-c", i) for i in range(3)])
        assert log.read(appended[0].partition, 3) == []

    def test_one_customer_is_read_back_in_append_order(self, log: EventLog) -> None:
        keys = [f"cust-{i % 5}" for i in range(50)]
        log.append([entry(k, i) for i, k in enumerate(keys)])
        seen: dict[str, list[int]] = defaultdict(list)
        for partition in range(log.partitions):
            for record in log.read_all(partition):
                key, n = record.value.decode().split(":")
                seen[key].append(int(n))
        for key, ns in seen.items():
            assert ns == sorted(ns), key
        assert sum(len(v) for v in seen.values()) == 50

    def test_read_all_pages_through_a_partition(self, log: EventLog) -> None:
        appended = log.append([entry("cust-d", i) for i in range(25)])
        records = list(log.read_all(appended[0].partition, position=5, batch=7))
        assert [r.position for r in records] == list(range(5, 25))

    def test_positions_are_tracked_per_consumer_and_partition(self, log: EventLog) -> None:
        store = log.positions
        assert store.get("journey") == {}
        store.commit("journey", {0: 10, 1: 3})
        store.commit("scenes", {0: 1})
        assert store.get("journey") == {0: 10, 1: 3}
        assert store.get("scenes") == {0: 1}

    def test_a_position_never_moves_backwards(self, log: EventLog) -> None:
        store = log.positions
        store.commit("journey", {0: 10})
        store.commit("journey", {0: 4, 2: 7})
        assert store.get("journey") == {0: 10, 2: 7}

    def test_reset_forgets_a_consumer(self, log: EventLog) -> None:
        store = log.positions
        store.commit("journey", {0: 10})
        store.reset("journey")
        assert store.get("journey") == {}

    def test_appending_nothing_is_a_no_op(self, log: EventLog) -> None:
        assert log.append([]) == []

    @pytest.mark.parametrize("size", [1, 1200])
    def test_batches_of_any_size_round_trip(self, log: EventLog, size: int) -> None:
        appended = log.append([entry(f"c{i % 11}", i) for i in range(size)])
        total = sum(len(list(log.read_all(p))) for p in range(log.partitions))
        assert total == size == len({(a.partition, a.position) for a in appended})
