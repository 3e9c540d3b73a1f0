"""Kafka-specific behaviour of the Kafka event log, beyond the shared contract.

Other services read our topics with stock Kafka tooling, so the bytes must make sense to a
plain consumer; the dedup index must survive a restart; an unreachable broker must fail fast
and name itself.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from events.errors import LogUnavailable
from events.log import Entry, partition_for
from events.log.kafka import EVENT_ID_HEADER, KafkaEventLog, KafkaLogConfig

pytestmark = pytest.mark.kafka


def config(bootstrap: str, topic: str, tmp_path: Path, partitions: int = 4) -> KafkaLogConfig:
    return KafkaLogConfig(
        bootstrap,
        topic=topic,
        partitions=partitions,
        index_path=tmp_path / "index.db",
        poll_timeout_ms=250,
    )


def entries(key: str, n: int) -> list[Entry]:
    return [Entry(str(uuid.uuid4()), key, f"{key}:{i}".encode()) for i in range(n)]


def test_a_plain_kafka_consumer_decodes_the_records(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path)) as log:
        appended = log.append(entries("cust-plain", 3))
    partition = appended[0].partition
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=None, enable_auto_commit=False
    )
    try:
        tp = TopicPartition(kafka_topic_name, partition)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        records = consumer.poll(timeout_ms=3000).get(tp, [])
    finally:
        consumer.close()
    assert [r.offset for r in records] == [0, 1, 2]
    assert {r.key for r in records} == {b"cust-plain"}
    assert [r.value for r in records] == [b"cust-plain:0", b"cust-plain:1", b"cust-plain:2"]
    assert [dict(r.headers)[EVENT_ID_HEADER].decode() for r in records] == [
        a.event_id for a in appended
    ]


def test_a_restarted_log_still_recognises_duplicates(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    batch = entries("cust-restart", 5)
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path)) as log:
        first = log.append(batch)
        log.positions.commit("journey", {first[0].partition: 5})
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path)) as again:
        second = again.append([*batch, *entries("cust-restart", 1)])
        assert [a.duplicate for a in second] == [True] * 5 + [False]
        assert [(a.partition, a.position) for a in second[:5]] == [
            (a.partition, a.position) for a in first
        ]
        assert second[5].position == 5
        assert len(again.read(first[0].partition, 0, limit=100)) == 6
        assert again.positions.get("journey") == {first[0].partition: 5}


def test_the_index_can_be_rebuilt_from_the_topic(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    batch = entries("cust-a", 3) + entries("cust-b", 4)
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path)) as log:
        first = log.append(batch)
    (tmp_path / "index.db").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"index.db{suffix}").unlink(missing_ok=True)
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path)) as log:
        assert log.rebuild_index() == 7
        again = log.append(batch)
    assert all(a.duplicate for a in again)
    assert [(a.partition, a.position) for a in again] == [(a.partition, a.position) for a in first]


def test_a_dead_broker_is_reported_quickly_and_by_address(tmp_path: Path) -> None:
    dead = "127.0.0.1:1"
    log = KafkaEventLog(
        KafkaLogConfig(
            dead,
            topic="never",
            index_path=tmp_path / "index.db",
            connect_timeout_ms=1000,
            connect_attempts=2,
            retry_backoff_ms=100,
        )
    )
    assert not (tmp_path / "index.db").exists(), "nothing is opened before first use"
    started = time.monotonic()
    with pytest.raises(LogUnavailable, match=r"127\.0\.0\.1:1") as caught:
        log.append(entries("cust", 1))
    assert time.monotonic() - started < 10
    assert "2 attempt" in str(caught.value)
    log.close()


def test_a_new_topic_gets_the_configured_partition_count(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path, 5)) as log:
        assert log.partitions == 5
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
    try:
        assert consumer.partitions_for_topic(kafka_topic_name) == set(range(5))
    finally:
        consumer.close()


def test_an_existing_topic_keeps_its_own_partition_count(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path, 3)) as log:
        assert log.partitions == 3
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path, 8)) as log:
        assert log.partitions == 3
    assert "exists with 3 partitions, not the 8 configured" in caplog.text


def test_one_key_lands_in_the_murmur2_partition(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    keys = [f"customer-{i}" for i in range(20)]
    with KafkaEventLog(config(kafka_bootstrap, kafka_topic_name, tmp_path, 6)) as log:
        appended = log.append([e for key in keys for e in entries(key, 2)])
        by_partition = {
            record.event_id: partition
            for partition in range(6)
            for record in log.read_all(partition)
        }
    for a, key in zip(appended, [k for k in keys for _ in range(2)], strict=True):
        assert a.partition == partition_for(key, 6) == by_partition[a.event_id]
    assert len({a.partition for a in appended}) > 1, "20 customers should spread out"


def test_touchpoint_topic_carries_the_event_id_in_the_payload_not_a_header(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    from schemas.serde import TouchpointSerde, touchpoint_event_id
    from tests.factories import make_touchpoint

    serde = TouchpointSerde()
    tps = [make_touchpoint(customer_id=f"C{i % 3}", minutes=i) for i in range(6)]
    config = KafkaLogConfig(
        kafka_bootstrap,
        topic=kafka_topic_name,
        partitions=2,
        index_path=tmp_path / "idx.sqlite",
        event_id_of=touchpoint_event_id,
    )
    with KafkaEventLog(config) as log:
        appended = log.append([Entry(str(t.event_id), t.customer_id, serde.encode(t)) for t in tps])
        assert log.append([Entry(str(tps[0].event_id), "C0", b"x")])[0].duplicate
        read = [r for p in range(2) for r in log.read_all(p)]
    assert sorted(r.event_id for r in read) == sorted(a.event_id for a in appended)
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, consumer_timeout_ms=3000)
    consumer.assign([TopicPartition(kafka_topic_name, p) for p in range(2)])
    consumer.seek_to_beginning()
    raw = list(consumer)
    consumer.close()
    assert len(raw) == 6 and all(not r.headers for r in raw)
