"""Choosing papers in worker processes, so a large build's Python runs on every core.

Choosing is pure Python under one interpreter lock: with every profile distinct (readers who
typed their own topics) the build's process was busy on one core for the whole build while
the other waited. A build of at least two chunks per process hands each chunk to one of
``edition_processes`` workers and keeps reading and writing in its own threads.

Each worker builds the same :class:`Chooser` the build would have: the same candidate papers
(read from the database when the worker starts), the same clock and the same settings, so a
chunk's choices do not depend on the process that made them. Readers go to a worker pickled (a
chunk's shared topic tuples stay shared) and the choices come back already encoded as JSON; the
build's own threads write them. A worker holds nothing but the chunk in hand, so the crash
guarantees are the build's: a killed build has committed whole chunks only. Workers come from
a fork server (forking a process that runs threads is unsafe) and stop when the build does,
also when it is killed: each watches the build's process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, datetime
from typing import Protocol

from newsletter.delivery.editions.choosing import Chooser, candidate_papers
from newsletter.delivery.editions.collector import for_this_process
from newsletter.delivery.editions.readers import Reader
from newsletter.delivery.editions.rows import Planned
from newsletter.delivery.lifeline import exit_with
from newsletter.store.database import Database
from newsletter.store.models import Frequency

# Chunks per process below which workers are not worth their start (a few seconds each).
CHUNKS_PER_PROCESS = 2

Given = dict[int, set[int]]


class Choosing(Protocol):
    """Chooses papers for one chunk of readers; ``submit`` may return before the work is done."""

    def submit(self, readers: Sequence[Reader], given: Given) -> Future[list[Planned]]: ...

    def close(self) -> None: ...


def choose_chunk(chooser: Chooser, readers: Sequence[Reader], given: Given) -> list[Planned]:
    """One chunk: its distinct topics scored in one batch, then each reader's choice."""
    chooser.prepare(readers)
    return [(r.id, chooser.choose(r, given.get(r.id, ()))) for r in readers]


class InProcess:
    """Choosing in the build's own process (small builds, SQLite-size installs, one core)."""

    def __init__(self, chooser: Chooser) -> None:
        self.chooser = chooser

    def submit(self, readers: Sequence[Reader], given: Given) -> Future[list[Planned]]:
        done: Future[list[Planned]] = Future()
        done.set_result(choose_chunk(self.chooser, readers, given))
        return done

    def close(self) -> None:
        pass


class InWorkers:
    """Choosing in ``processes`` worker processes, one chunk per task."""

    def __init__(
        self, database_url: str, frequency: Frequency, issue_date: date, now: datetime,
        semantic: str, processes: int,
    ) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(
            [__name__, "newsletter.matching.selection", "newsletter.delivery.editions.forkserver"]
        )
        self.pool = ProcessPoolExecutor(
            max_workers=processes, mp_context=context, initializer=_start,
            initargs=(database_url, frequency, issue_date, now, semantic, os.getpid()),
        )

    def submit(self, readers: Sequence[Reader], given: Given) -> Future[list[Planned]]:
        return self.pool.submit(_choose, readers, given)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def workers_for(due: int, chunk_size: int, processes: int, semantic: str) -> int:
    """How many worker processes a build of ``due`` readers gets (0: choose in-process).

    The semantic extra loads a sentence model into each process: it stays in one.
    """
    if processes < 2 or semantic != "off":
        return 0
    return processes if due >= processes * CHUNKS_PER_PROCESS * chunk_size else 0


# --- in the worker process ----------------------------------------------------------------------
_chooser: Chooser | None = None


def _start(
    database_url: str, frequency: Frequency, issue_date: date, now: datetime, semantic: str,
    build_pid: int,
) -> None:
    global _chooser
    exit_with(build_pid)  # a SIGKILLed build leaves no one to stop the pool
    db = Database(database_url)
    try:
        with db.session() as session:
            papers = candidate_papers(session, frequency, issue_date, now)
        _chooser = Chooser(papers, now=now, semantic=semantic)
    finally:
        db.dispose()
    for_this_process()


def _choose(readers: Sequence[Reader], given: Given) -> list[Planned]:
    assert _chooser is not None, "the worker's initializer builds the chooser"
    planned = choose_chunk(_chooser, readers, given)
    for _, choice in planned:
        choice.encoded  # noqa: B018 -- encoded here, in parallel, and sent with the choice
    _chooser.forget_choices()
    return planned
