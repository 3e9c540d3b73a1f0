"""What both Kafka adapters hold: a topic's clients and that topic's dedup index.

Private base of :class:`events.log.kafka.KafkaEventLog` and
:class:`events.deadletter.kafka.KafkaDeadLetterStore`: both open the index lazily and close the
clients and the index together.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from events.log._id_index import IdIndex
from events.log._kafka_topic import KafkaTopic

if TYPE_CHECKING:
    from events.log.kafka import KafkaLogConfig

__all__ = ["IndexedTopic"]


class IndexedTopic:
    """A :class:`KafkaTopic` plus its :class:`IdIndex`, opened on first use, closed together.

    ``_lock`` serialises the subclass's writes (one writer per index file).
    """

    def __init__(self, config: KafkaLogConfig) -> None:
        self.config = config
        self._topic = KafkaTopic(config)
        self._index: IdIndex | None = None
        self._lock = threading.Lock()

    def _ids(self) -> IdIndex:
        if self._index is None:
            self._index = IdIndex(self.config.index_path, self.config.topic)
        return self._index

    def close(self) -> None:
        """Close the clients, then the index even if that failed."""
        try:
            self._topic.close()
        finally:
            if self._index is not None:
                self._index.close()
                self._index = None
