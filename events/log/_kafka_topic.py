"""One Kafka topic's kafka-python clients, opened lazily, with errors mapped at the boundary.

Private plumbing shared by :mod:`events.log.kafka` and :mod:`events.deadletter.kafka`: nothing
is opened until first use, connection attempts are bounded and retried with backoff, and every
``kafka.errors`` exception is translated into :class:`~events.errors.LogUnavailable` (the broker
cannot be reached) or :class:`~events.errors.LogError` (it answered, but the operation failed),
naming the bootstrap address so an operator knows which broker to look at.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import kafka.errors as kafka_errors
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from events.errors import LogError, LogUnavailable

if TYPE_CHECKING:
    from events.log.kafka import KafkaLogConfig

__all__ = ["KafkaTopic"]

#: Logged under the public adapter's name, where operators look for it.
log = logging.getLogger("events.log.kafka")

T = TypeVar("T")

#: kafka-python failures that mean "the broker cannot be reached (now)": retriable errors
#: (timeouts, no leader, node not ready...) and connection errors. Looked up by name because
#: kafka-python 2.x and 3.x do not define the same set (3.x has no ``NoBrokersAvailable``).
_UNAVAILABLE: tuple[type[BaseException], ...] = tuple(
    cls
    for name in (
        "NoBrokersAvailable",
        "KafkaConnectionError",
        "KafkaTimeoutError",
        "NodeNotReadyError",
        "BrokerNotAvailableError",
        "RequestTimedOutError",
        "RetriableError",
    )
    if isinstance(cls := getattr(kafka_errors, name, None), type)
)


class KafkaTopic:
    """One topic's clients, opened lazily, with kafka-python errors translated.

    Shared by :class:`~events.log.kafka.KafkaEventLog` and the Kafka dead-letter store: it
    creates the topic if missing, produces with explicit partitions and waits for every
    acknowledgement, and reads a partition from a position with a group-less consumer.
    """

    def __init__(self, config: KafkaLogConfig) -> None:
        self.config = config
        self._partitions: int | None = None
        self._producer: Any = None
        self._consumer: Any = None
        #: (partition, next offset) the consumer stands at, to skip redundant seeks.
        self._cursor: tuple[int, int] | None = None
        self._lock = threading.RLock()

    # -- errors and connections --------------------------------------------------------------

    @contextmanager
    def boundary(self, action: str) -> Iterator[None]:
        """Translate kafka-python exceptions raised while doing ``action``."""
        try:
            yield
        except _UNAVAILABLE as exc:
            raise LogUnavailable(
                f"Kafka at {self.config.bootstrap} is unavailable while {action} "
                f"(topic {self.config.topic!r}): {type(exc).__name__}: {exc}"
            ) from exc
        except kafka_errors.KafkaError as exc:
            raise LogError(
                f"Kafka at {self.config.bootstrap} failed while {action} "
                f"(topic {self.config.topic!r}): {type(exc).__name__}: {exc}"
            ) from exc

    def _connect(self, what: str, factory: Callable[[], T]) -> T:
        """Build a client, retrying connection failures a bounded number of times."""
        attempts = self.config.connect_attempts
        for attempt in range(1, attempts + 1):
            try:
                with self.boundary(f"connecting the {what}"):
                    return factory()
            except LogUnavailable as exc:
                if attempt == attempts:
                    raise LogUnavailable(
                        f"cannot reach Kafka at {self.config.bootstrap} "
                        f"after {attempts} attempt(s) ({what}): {exc.__cause__}"
                    ) from exc.__cause__
                delay = self.config.retry_backoff_ms * 2 ** (attempt - 1) / 1000
                log.warning(
                    "Kafka at %s not reachable (%s), attempt %d/%d, retrying in %.2fs",
                    self.config.bootstrap,
                    what,
                    attempt,
                    attempts,
                    delay,
                )
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _common(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.config.bootstrap,
            "client_id": self.config.client_id,
            "bootstrap_timeout_ms": self.config.connect_timeout_ms,
            "request_timeout_ms": self.config.request_timeout_ms,
        }

    @property
    def partitions(self) -> int:
        """The topic's real partition count (creating the topic on first use if missing)."""
        with self._lock:
            if self._partitions is None:
                self._partitions = self._ensure_topic()
            return self._partitions

    def _ensure_topic(self) -> int:
        cfg = self.config
        admin = self._connect("admin client", lambda: KafkaAdminClient(**self._common()))
        try:
            with self.boundary("creating the topic"):
                try:
                    admin.create_topics([NewTopic(cfg.topic, cfg.partitions, cfg.replication)])
                    log.info("created topic %s with %d partitions", cfg.topic, cfg.partitions)
                except kafka_errors.TopicAlreadyExistsError:
                    pass
            with self.boundary("describing the topic"):
                (described,) = admin.describe_topics([cfg.topic])
            if described.get("error_code") or not described.get("partitions"):
                raise LogError(
                    f"Kafka at {cfg.bootstrap} cannot describe topic {cfg.topic!r}: {described}"
                )
            actual = len(described["partitions"])
        finally:
            with self.boundary("closing the admin client"):
                admin.close()
        if actual != cfg.partitions:
            log.warning(
                "topic %s exists with %d partitions, not the %d configured: using %d "
                "(a partition count is fixed for the life of a topic)",
                cfg.topic,
                actual,
                cfg.partitions,
                actual,
            )
        return actual

    def producer(self) -> Any:
        """The idempotent producer (acks=all), created on first use."""
        with self._lock:
            if self._producer is None:
                cfg = self.config
                self._producer = self._connect(
                    "producer",
                    lambda: KafkaProducer(
                        **self._common(),
                        acks="all",
                        enable_idempotence=True,
                        compression_type=cfg.compression,
                        linger_ms=cfg.linger_ms,
                        batch_size=cfg.batch_size,
                        delivery_timeout_ms=cfg.delivery_timeout_ms,
                        max_block_ms=cfg.delivery_timeout_ms,
                    ),
                )
            return self._producer

    def consumer(self) -> Any:
        """The group-less reading consumer, created on first use."""
        with self._lock:
            if self._consumer is None:
                cfg = self.config
                self._consumer = self._connect(
                    "consumer",
                    lambda: KafkaConsumer(
                        **self._common(),
                        group_id=None,
                        enable_auto_commit=False,
                        # A seek past the end is answered with nothing (see ``read``); never
                        # jump back to the start and hand out records before the position.
                        auto_offset_reset="latest",
                        fetch_max_wait_ms=cfg.fetch_max_wait_ms,
                        max_poll_records=5000,
                    ),
                )
            return self._consumer

    # -- produce -----------------------------------------------------------------------------

    def produce(
        self, rows: Sequence[tuple[int, bytes, bytes, list[tuple[str, bytes]] | None]]
    ) -> tuple[list[int | None], BaseException | None]:
        """Send ``(partition, key, value, headers)`` rows and wait for every acknowledgement.

        Returns the offset of each row (``None`` where it failed) and the first failure, so the
        caller can record what did reach the log before raising.
        """
        producer = self.producer()
        topic = self.config.topic
        futures: list[Any] = []
        error: BaseException | None = None
        try:
            send = producer.send
            for partition, key, value, headers in rows:
                futures.append(
                    send(topic, value=value, key=key, partition=partition, headers=headers)
                )
        except kafka_errors.KafkaError as exc:
            error = exc
        try:
            producer.flush(timeout=self.config.delivery_timeout_ms / 1000)
        except kafka_errors.KafkaError as exc:
            error = error or exc
        offsets: list[int | None] = []
        for future in futures:
            if future.is_done and future.exception is None:
                offsets.append(future.value.offset)
            else:
                offsets.append(None)
                if error is None:
                    error = future.exception or kafka_errors.KafkaTimeoutError(
                        "record not acknowledged in time"
                    )
        offsets.extend([None] * (len(rows) - len(futures)))
        return offsets, error

    def flush(self) -> None:
        with self._lock:
            if self._producer is not None:
                with self.boundary("flushing"):
                    self._producer.flush(timeout=self.config.delivery_timeout_ms / 1000)

    # -- consume -----------------------------------------------------------------------------

    def read(self, partition: int, position: int, limit: int) -> list[Any]:
        """Up to ``limit`` ConsumerRecords of ``partition`` from ``position`` on, in order."""
        if limit <= 0:
            return []
        if not 0 <= partition < self.partitions:
            raise LogError(
                f"partition {partition} does not exist in topic {self.config.topic!r} "
                f"({self.partitions} partitions)"
            )
        with self._lock, self.boundary(f"reading partition {partition} from {position}"):
            consumer = self.consumer()
            tp = TopicPartition(self.config.topic, partition)
            if self._cursor is None or self._cursor[0] != partition:
                consumer.assign([tp])
                consumer.seek(tp, position)
            elif self._cursor[1] != position:
                consumer.seek(tp, position)
            self._cursor = (partition, position)
            out: list[Any] = []
            timeout = self.config.poll_timeout_ms
            at_highwater = self.config.end_at_highwater
            while len(out) < limit:
                batch = consumer.poll(timeout_ms=timeout, max_records=limit - len(out))
                records = [r for r in batch.get(tp, ()) if r.offset >= position]
                if not records:
                    break
                out.extend(records)
                position = records[-1].offset + 1
                self._cursor = (partition, position)
                if at_highwater and position >= (consumer.highwater(tp) or position + 1):
                    break  # the end as of the last fetch (see KafkaLogConfig.end_at_highwater)
            return out

    def close(self) -> None:
        with self._lock:
            producer, consumer = self._producer, self._consumer
            self._producer = self._consumer = None
            self._cursor = None
            with self.boundary("closing"):
                if producer is not None:
                    producer.close(timeout=self.config.delivery_timeout_ms / 1000)
                if consumer is not None:
                    consumer.close()
