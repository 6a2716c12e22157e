"""Composing and DKIM-signing digests in a process of their own, ahead of the SMTP sends.

Why a process: filling a digest with the recipient's signed links and signing the result hold
the GIL. In the sending process they took about half of the event loop's time (py-spy on a
20,000-digest send), and the RSA signature alone (0.4 ms through OpenSSL) costs as much as
sending the message. In a child they run on another core while the parent only speaks SMTP
and writes the ledger. The child keeps its own cache of rendered digests and reads the papers
it needs itself, so only claims go in and message bytes come out, a chunk at a time. With two
children (signing) each digest's claims go to one of them (:func:`route`): when chunks went to
whichever child was free, both rendered most digests, a third of the renders wasted.

Failures keep their meaning: a claim whose papers are gone or whose address is unusable comes
back as that exception, raised again in the parent when :func:`deliver_one` asks for the
message, so it becomes that row's outcome exactly as if it had been composed in place.

The child ignores SIGINT and SIGTERM (a Ctrl-C or a service manager signals the whole process
group): it stops when its parent, finishing gracefully, closes it, or, through the kernel's
parent-death signal, the moment the parent is gone (even SIGKILLed).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from types import ModuleType
from typing import Any, Protocol

from newsletter.config import Settings
from newsletter.delivery.ledger.claims import Claimed, Ledger
from newsletter.delivery.lifeline import die_with_parent
from newsletter.delivery.messages.compose import Composer, ContentKey, NothingToSend, content_key
from newsletter.delivery.messages.signing import Signer
from newsletter.errors import InvalidInput
from newsletter.store.database import Database

log = logging.getLogger(__name__)

CHUNK = 50  # claims per trip to the child: ~1 MB of messages back, a few ms of work
HOMES = 100_000  # digests whose child is remembered; a long-running worker then starts over
Result = tuple[str, Any]  # ("ok", composed) | ("nothing", reason) | ("invalid", (reason, where))


class Composes(Protocol):
    """What :func:`deliver_one` needs: the message for a claim, or the reason there is none."""

    def compose(self, claim: Claimed, now: datetime) -> Any: ...


class Workshop:
    """Composer, papers and signer; lives in the child (or in-process, see :class:`Preparer`)."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.db = Database(database_url)
        self.ledger = Ledger(self.db, owner="composer", lease_seconds=1)
        self.composer = Composer(settings)
        self.signer = (
            Signer(settings.dkim_private_key_path, selector=settings.dkim_selector,
                   domain=settings.mail_domain)
            if settings.dkim_private_key_path is not None else None
        )

    def prepare(self, claims: Sequence[Claimed], now: datetime) -> tuple[dict[int, Result], int]:
        """Each claim's message (signed when keyed), and how many digests this rendered."""
        composer = self.composer
        renders = composer.renders
        composer.add_papers(self.ledger.papers(composer.missing_papers(claims)))
        results: dict[int, Result] = {}
        for claim in claims:
            try:
                if self.signer is None:
                    composed = composer.compose(claim, now)
                else:  # the message bytes come last
                    lines: list[bytes] = []
                    composed = composer.compose(claim, now, lines)
                    signed = self.signer.sign(composed[-1], body_lines=b"".join(lines))
                    composed = (*composed[:-1], signed)
                results[claim.id] = ("ok", composed)
            except NothingToSend as exc:
                results[claim.id] = ("nothing", str(exc))
            except InvalidInput as exc:
                results[claim.id] = ("invalid", (exc.reason, exc.where))
            except Exception as exc:  # a template bug: that row is retried, the rest go on
                log.exception("composing delivery %s failed", claim.id)
                results[claim.id] = ("error", repr(exc))
        return results, composer.renders - renders


_workshop: Workshop | None = None


def _start_child(settings: Settings, database_url: str) -> None:
    global _workshop
    # It ignores SIGTERM; it holds nothing worth finishing.
    parent = multiprocessing.parent_process()
    die_with_parent(signal.SIGKILL, parent=parent.pid if parent is not None else None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _workshop = Workshop(settings, database_url)


def _ready() -> bool:
    return _workshop is not None


def _prepare_in_child(
    claims: Sequence[Claimed], now: datetime
) -> tuple[dict[int, Result], int]:
    assert _workshop is not None, "the composing process was not initialised"
    return _workshop.prepare(claims, now)


@contextmanager
def _main_left_out() -> Iterator[None]:
    """Processes spawned in this block do not import the parent's main script.

    A spawned child first runs the parent's ``__main__`` (so that functions defined there can
    be unpickled); for ``newsletter send`` that is the whole CLI, 0.6 s of a child's 1.2 s
    start, and a child here only runs functions of this module. Children are spawned when
    their pool gets its first task, and what they import is settled then, in this thread.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class Prepared:
    """One chunk's messages, handed out once each to :func:`deliver_one`."""

    def __init__(self, results: dict[int, Result]) -> None:
        self.results = results

    def compose(self, claim: Claimed, now: datetime) -> Any:
        kind, value = self.results.pop(claim.id)
        if kind == "ok":
            return value
        if kind == "nothing":
            raise NothingToSend(value)
        if kind == "invalid":
            raise InvalidInput(value[0], where=value[1])
        raise RuntimeError(f"composing failed: {value}")


def default_composers(settings: Settings) -> int:
    """Child processes composing for one sender: none on one core; one on more, two when
    signing (the RSA step is per message and spreads over cores; :meth:`Preparer.plan` sends
    each digest to one child, so none is rendered twice). Unsigned mail does as well with one:
    on a 20,000-digest send a second child saved a quarter of the renders (one child's cache
    holds fewer digests than the edition has) and spent as much CPU starting up."""
    if (os.cpu_count() or 1) < 2:
        return 0
    return 2 if settings.dkim_private_key_path is not None else 1


def route(claims: Sequence[Claimed], children: int, home: Callable[[ContentKey], int]
          ) -> list[list[Claimed]]:
    """The claims each child composes: every claim of one digest to the digest's ``home``
    child, so each child renders its own digests and no digest is rendered twice, while no
    child gets more than its share. Digests are placed smallest first, so the ones that do
    not fit at home are the few big ones, split between children (rendered by two, but each
    for many readers)."""
    groups: dict[ContentKey, list[Claimed]] = {}
    for claim in claims:
        groups.setdefault(content_key(claim), []).append(claim)
    share = -(-len(claims) // children)
    out: list[list[Claimed]] = [[] for _ in range(children)]
    for key, group in sorted(groups.items(), key=lambda item: len(item[1])):
        at = home(key)
        while group:
            if len(out[at]) >= share:
                at = min(range(children), key=lambda n: len(out[n]))
            room = share - len(out[at])
            out[at] += group[:room]
            group = group[room:]
    return out


class Preparer:
    """Messages for chunks of claims, from ``children`` processes, or in-process when 0 (one
    core, no extra process). :meth:`plan` says which child composes which chunk; ``width``
    chunks may be asked for at once: one more than there are children, so a child finds its
    next chunk waiting when it hands one back.

    Until a child has started (a spawned interpreter importing the renderer takes a second or
    more, most of a 4,000-digest send's head start) its chunks are composed here, on the
    event loop, which has nothing to send yet anyway."""

    def __init__(self, settings: Settings, database_url: str, *, children: int) -> None:
        self.renders = 0
        self.width = max(children, 1) + (1 if children > 0 else 0)
        self._settings, self._database_url = settings, database_url
        self._local: Workshop | None = None
        self._homes: dict[ContentKey, int] = {}
        self._pools: list[ProcessPoolExecutor] = []
        self._starting: list[Future[bool] | None] = []
        if children <= 0:
            self._local = Workshop(settings, database_url)
            return
        # Spawned, so each child is the sender's own and can die with it (a forkserver's
        # children outlived a SIGKILLed sender, and so did the forkserver). One pool each,
        # so a chunk goes to the child that has its digests rendered already.
        context = multiprocessing.get_context("spawn")
        self._pools = [
            ProcessPoolExecutor(1, mp_context=context, initializer=_start_child,
                                initargs=(settings, database_url))
            for _ in range(children)
        ]
        # start them now, while the first claim is being made
        with _main_left_out():
            self._starting = [pool.submit(_ready) for pool in self._pools]

    def plan(self, claims: Sequence[Claimed]) -> list[tuple[int, list[Claimed]]]:
        """(child, chunk) in the order to send them: each child's chunks in turn."""
        children = max(len(self._pools), 1)
        routed = route(claims, children, self._home) if children > 1 else [list(claims)]
        chunks = [[(n, c[at : at + CHUNK]) for at in range(0, len(c), CHUNK)]
                  for n, c in enumerate(routed)]
        turns = max(len(own) for own in chunks)
        return [own[turn] for turn in range(turns) for own in chunks if turn < len(own)]

    def _home(self, key: ContentKey) -> int:
        """The child that renders this digest: the first one it was given to."""
        home = self._homes.get(key)
        if home is None:
            if len(self._homes) > HOMES:
                self._homes.clear()
            home = self._homes[key] = len(self._homes) % len(self._pools)
        return home

    def _ready(self, child: int) -> bool:
        starting = self._starting[child]
        if starting is not None and starting.done():
            self._starting[child] = starting = None
        return starting is None

    async def prepare(self, claims: Sequence[Claimed], now: datetime, child: int = 0
                      ) -> Prepared:
        if not self._pools or not self._ready(child):
            if self._local is None:
                self._local = Workshop(self._settings, self._database_url)
            results, renders = self._local.prepare(claims, now)
        else:
            loop = asyncio.get_running_loop()
            results, renders = await loop.run_in_executor(
                self._pools[child], _prepare_in_child, list(claims), now
            )
        self.renders += renders
        return Prepared(results)

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)
        if self._local is not None:
            self._local.db.dispose()
