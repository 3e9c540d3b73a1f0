"""The per-customer folds in a second process: facts in, encoded fold rows out.

Why: a projection's Python work holds the GIL (reading the log, reading facts back, the
folds, encoding rows), so a second thread gains nothing, but a second *process* gets the
second core. The folds are the part that splits off cleanly: pure functions of the facts,
plus a history cache that then lives in the worker (so the projector process shrinks too).

The worker never touches ClickHouse: chdb serves one process per data directory. What a fold
needs from the store (a cold customer's history and stored keys, the highest version written)
it asks the projector for over the pipe, and the projector answers while it waits for the
batch's result. The worker returns rows already encoded as the views' inserts (JSON bytes),
which the projector sends to ClickHouse, *then* commits the batch's position: exactly-once
stays the projector's business, as in process.

Messages, projector → worker: ``("fold", pickled (columns, complete))``, ``("clear",)``,
``("stop",)`` and ``("answer", value)``; worker → projector: ``("need", method, args)``,
``("folded", stats, inserts)`` and ``("error", traceback)``. A worker that dies or stops
answering surfaces as :class:`FoldWorkerError`, never as a hang.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import threading
import traceback
from collections.abc import Hashable, Iterable, Sequence
from contextlib import suppress
from multiprocessing.connection import Connection
from queue import SimpleQueue
from typing import Any, Protocol

from events.resources import Closing, unmap_large_buffers
from projections.facts import Fact
from projections.folding import Changes, FoldRunner, FoldStats, FoldView
from projections.views.fold_table import Insert
from projections.views.journey_view import FactColumns, JourneyView, facts_from_columns

__all__ = ["MAX_IN_FLIGHT", "EncodingView", "FoldProcess", "FoldWorkerError", "Inserts"]

#: Batches the projector may hand over before collecting the first: one folded while the
#: next waits in the worker, so the worker never idles waiting for the projector.
MAX_IN_FLIGHT = 2

#: A batch's fold rows, encoded: (view name, insert), in the order they must be written.
Inserts = list[tuple[str, Insert]]


class EncodingView(FoldView, Protocol):
    """A fold view whose writes split into encoding (in the worker) and sending (in the
    projector), like every :class:`~projections.views.fold_table.FoldTableView`."""

    def encode_upsert(self, rows: Sequence[Any], version: int) -> Insert | None: ...

    def encode_retract(
        self, keys: Iterable[tuple[str, Hashable]], version: int
    ) -> Insert | None: ...

    def send(self, insert: Insert | None) -> None: ...


class FoldWorkerError(RuntimeError):
    """The fold worker failed, died or stopped answering."""


class FoldProcess(Closing):
    """The projector's handle on its fold worker: batches are submitted, and their results
    collected, in order; :data:`MAX_IN_FLIGHT` may be submitted and not yet collected.

    ``views`` are pickled to the worker (their stores arrive detached, see
    :meth:`~projections.clickhouse.ViewStore.__reduce__`). The worker is *spawned*: forking
    is unsafe once chdb runs its native threads (which ``threading.active_count``, the test
    the ingest admission pool uses, does not see), and a fork server would keep one more
    resident process. Spawning costs about a second, once per projector.
    """

    def __init__(
        self,
        journey: JourneyView,
        views: Sequence[EncodingView],
        max_facts: int,
        timeout: float = 600.0,
    ) -> None:
        unmap_large_buffers()  # batches travel as big buffers, here and in the worker
        self._journey = journey
        self._views = {view.name: view for view in views}
        self._timeout = timeout
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, list(views), max_facts), name="fold-worker", daemon=True
        )
        self._process.start()
        child.close()
        self._in_flight = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def in_flight(self) -> int:
        """Batches submitted and not yet collected."""
        return self._in_flight

    def submit(self, columns: FactColumns, complete_history: bool) -> None:
        """Hand one batch's facts to the worker; :meth:`result` collects what it folded."""
        if self._in_flight >= MAX_IN_FLIGHT:
            raise RuntimeError("collect a batch's result before submitting another")
        # Pickled apart, so the batch waits in the worker as one compact buffer (not a million
        # objects) until the worker gets to it.
        self._send(("fold", pickle.dumps((columns, complete_history), pickle.HIGHEST_PROTOCOL)))
        self._in_flight += 1

    def result(self) -> tuple[FoldStats, Inserts]:
        """The oldest submitted batch's stats and encoded rows; answers the worker's
        questions meanwhile (they are about that batch: the worker folds in order)."""
        if not self._in_flight:
            raise RuntimeError("no batch submitted")
        while True:
            message = self._receive()
            if message[0] == "need":
                self._send(("answer", self._answer(message[1], message[2])))
            elif message[0] == "folded":
                self._in_flight -= 1
                return message[1], message[2]
            else:
                raise FoldWorkerError(f"the fold worker failed:\n{message[1]}")

    def write(self, inserts: Inserts) -> None:
        """Send a batch's encoded rows to their views (runs on the projector's writer thread)."""
        for name, insert in inserts:
            self._views[name].send(insert)

    def clear(self) -> None:
        """Make the worker forget its histories (after the views were reset)."""
        self._send(("clear",))

    def close(self) -> None:
        """Stop the worker: politely, then by force if it does not go within a few seconds."""
        if self._process.is_alive():
            with suppress(OSError):  # already gone: nothing to tell it
                self._conn.send(("stop",))
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()

    def _answer(self, method: str, args: tuple[Any, ...]) -> Any:
        """What the worker asked of the store (see :class:`_Remote`)."""
        if method == "facts_of":
            return self._journey.fact_columns_of(*args)
        if method == "keys_of":
            view, customers = args
            return self._views[view].keys_of(customers)
        if method == "max_version":
            return max((view.max_version() for view in self._views.values()), default=0)
        raise FoldWorkerError(f"the fold worker asked for an unknown {method!r}")

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self._conn.send(message)
        except OSError as exc:
            raise FoldWorkerError(f"the fold worker is gone ({self._exit()})") from exc

    def _receive(self) -> tuple[Any, ...]:
        """The worker's next message; checks it is alive every second while waiting."""
        waited = 0.0
        while not self._conn.poll(1.0):
            waited += 1.0
            if not self._process.is_alive():
                raise FoldWorkerError(f"the fold worker died ({self._exit()})")
            if waited >= self._timeout:
                raise FoldWorkerError(f"the fold worker sent nothing for {waited:.0f} s")
        try:
            message: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise FoldWorkerError(f"the fold worker died ({self._exit()})") from exc
        return message

    def _exit(self) -> str:
        self._process.join(1)
        return f"exit code {self._process.exitcode}"


# -- the worker process ---------------------------------------------------------------------


class _Remote:
    """The worker's side of the pipe: its commands, and the store questions it asks.

    A thread receives (so the projector can hand over the next batch while this one is
    folded) and another sends (so a batch's rows travel while the next one is folded): the
    fold never waits for the pipe, and neither process can block the other with a big message.
    It is the :class:`~projections.folding.HistorySource` and the
    :class:`~projections.folding.StoredRows` of the worker's :class:`FoldRunner`.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._commands: SimpleQueue[tuple[Any, ...]] = SimpleQueue()
        self._answers: SimpleQueue[tuple[Any, ...]] = SimpleQueue()
        self._outbox: SimpleQueue[tuple[Any, ...] | None] = SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name="fold-send", daemon=True)
        self._sender.start()
        threading.Thread(target=self._receive_all, name="fold-receive", daemon=True).start()

    def next_command(self) -> tuple[Any, ...]:
        return self._commands.get()

    def send(self, message: tuple[Any, ...]) -> None:
        self._outbox.put(message)

    def flush(self, timeout: float = 10.0) -> None:
        """Send what is queued (an error report) before the process ends."""
        self._outbox.put(None)
        self._sender.join(timeout)

    def facts_of(self, customers: Iterable[str]) -> list[Fact]:
        return facts_from_columns(self._ask("facts_of", sorted(set(customers))))

    def keys_of(self, view: str, customers: Sequence[str]) -> dict[str, set[Hashable]]:
        found: dict[str, set[Hashable]] = self._ask("keys_of", view, list(customers))
        return found

    def max_version(self) -> int:
        return int(self._ask("max_version"))

    def _ask(self, method: str, *args: Any) -> Any:
        """Ask the projector and wait for its answer."""
        self.send(("need", method, args))
        message = self._answers.get()
        if message[0] == "stop":
            raise SystemExit(0)
        return message[1]

    def _receive_all(self) -> None:
        while True:
            try:
                message: tuple[Any, ...] = self._conn.recv()
            except (EOFError, OSError):
                message = ("stop",)  # the projector is gone (killed): nothing left to fold for
            if message[0] == "answer":
                self._answers.put(message)
                continue
            self._commands.put(message)
            if message[0] == "stop":
                self._answers.put(message)  # a question waiting for an answer waits no more
                return

    def _send_all(self) -> None:
        while (message := self._outbox.get()) is not None:
            try:
                self._conn.send(message)
            except OSError:
                return  # the projector is gone


def _serve(conn: Connection, views: list[EncodingView], max_facts: int) -> None:
    """The worker's loop: fold each batch it is sent until told to stop (or orphaned)."""
    # Like the projector: millions of long-lived acyclic objects, so full collections that walk
    # them all are pure cost.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    unmap_large_buffers()
    remote = _Remote(conn)
    runner = FoldRunner(remote, views, max_facts, stored=remote)
    while True:
        command = remote.next_command()
        if command[0] == "stop":
            return
        if command[0] == "clear":
            runner.clear()
            continue
        try:
            columns, complete = pickle.loads(command[1])
            remote.send(_fold(runner, views, columns, complete))
        except Exception:  # reported to the projector, which raises it there
            remote.send(("error", traceback.format_exc()))
            remote.flush()
            return


def _fold(
    runner: FoldRunner, views: list[EncodingView], columns: FactColumns, complete: bool
) -> tuple[str, FoldStats, Inserts]:
    stats, changes = runner.changes(facts_from_columns(columns), complete_history=complete)
    return "folded", stats, [] if changes is None else _encode(views, changes)


def _encode(views: list[EncodingView], changes: Changes) -> Inserts:
    """The inserts of ``changes``: per view, retractions first (see :meth:`FoldRunner.write`)."""
    inserts: Inserts = []
    version = changes.version
    for view in views:
        for insert in (
            view.encode_retract(changes.retracts[view.name], version),
            view.encode_upsert(changes.upserts[view.name], version),
        ):
            if insert is not None:
                inserts.append((view.name, insert))
    return inserts
