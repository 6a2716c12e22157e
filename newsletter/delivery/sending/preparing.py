"""Composing and DKIM-signing digests in a process of their own, ahead of the SMTP sends.

Why a process: filling a digest with the recipient's signed links and signing the result hold
the GIL. In the sending process they took about half of the event loop's time (py-spy on a
20,000-digest send), and the RSA signature alone (0.4 ms through OpenSSL) costs as much as
sending the message. In a child they run on another core while the parent only speaks SMTP
and writes the ledger. The child keeps its own cache of rendered digests and reads the papers
it needs itself, so only claims go in and message bytes come out, a chunk at a time.

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
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from typing import Any, Protocol

from newsletter.config import Settings
from newsletter.delivery.ledger.claims import Claimed, Ledger
from newsletter.delivery.messages.compose import Composer, NothingToSend
from newsletter.delivery.messages.signing import Signer
from newsletter.delivery.sending.supervisor import die_with_parent
from newsletter.errors import InvalidInput
from newsletter.store.database import Database

log = logging.getLogger(__name__)

CHUNK = 50  # claims per trip to the child: ~1 MB of messages back, a few ms of work
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
    die_with_parent(signal.SIGKILL)  # it ignores SIGTERM; it holds nothing worth finishing
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
    signing (the RSA step is per message and spreads over cores, while a digest rendered in
    two children is rendered twice, so unsigned mail does better with one)."""
    if (os.cpu_count() or 1) < 2:
        return 0
    return 2 if settings.dkim_private_key_path is not None else 1


class Preparer:
    """Messages for chunks of claims, from ``children`` processes, or in-process when 0 (one
    core, no extra process). ``width`` chunks may be asked for at once: one more than there
    are children, so a child finds its next chunk waiting when it hands one back.

    Until the children have started (a spawned interpreter importing the renderer takes a
    second or more, most of a 4,000-digest send's head start) chunks are composed here, on
    the event loop, which has nothing to send yet anyway."""

    def __init__(self, settings: Settings, database_url: str, *, children: int) -> None:
        self.renders = 0
        self.width = max(children, 1) + (1 if children > 0 else 0)
        self._settings, self._database_url = settings, database_url
        self._local: Workshop | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._starting: list[Future[bool]] = []
        if children <= 0:
            self._local = Workshop(settings, database_url)
            return
        # Spawned, so each child is the sender's own and can die with it (a forkserver's
        # children outlived a SIGKILLed sender, and so did the forkserver).
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            children, mp_context=context, initializer=_start_child,
            initargs=(settings, database_url),
        )
        # start them now, while the first claim is being made
        self._starting = [self._pool.submit(_ready) for _ in range(children)]

    def _children_ready(self) -> bool:
        if self._starting and all(f.done() for f in self._starting):
            self._starting = []
        return not self._starting

    async def prepare(self, claims: Sequence[Claimed], now: datetime) -> Prepared:
        if self._pool is None or not self._children_ready():
            if self._local is None:
                self._local = Workshop(self._settings, self._database_url)
            results, renders = self._local.prepare(claims, now)
        else:
            loop = asyncio.get_running_loop()
            results, renders = await loop.run_in_executor(
                self._pool, _prepare_in_child, list(claims), now
            )
        self.renders += renders
        return Prepared(results)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._local is not None:
            self._local.db.dispose()
