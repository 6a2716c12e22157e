"""Several sender processes on one machine: ``newsletter worker --processes N``.

One Python process sends on one core (the event loop, composing and signing all hold the GIL),
so a machine with more cores runs more senders. They share the ledger like workers on
different machines do (leases, ``SKIP LOCKED``), so the supervisor only starts them and
passes signals on:

* SIGTERM or SIGINT is forwarded to every child; each finishes its in-flight mail, records
  the outcomes and releases its unsent claims; the supervisor exits 0 once all exited 0.
* A child that dies on its own (a crash, an OOM kill, a lost database) is not restarted
  here: the others are stopped gracefully and the supervisor exits 1 naming it, so the
  service manager (systemd, Docker) restarts the whole group and the operator sees it. The
  dead child's rows come back when their lease expires, as after any crash.
* On Linux each child asks the kernel for SIGTERM if the supervisor itself dies (even by
  SIGKILL), so no sender is left running without its parent.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

from newsletter.delivery.lifeline import die_with_parent


def child_command(arguments: Sequence[str]) -> list[str]:
    """The ``newsletter`` command line in a child, with this very interpreter."""
    return [sys.executable, "-m", "newsletter", *arguments]


def supervise(
    commands: Sequence[list[str]], *, report: Callable[[str], None], poll: float = 0.1
) -> int:
    """Run one child per command until a signal (exit 0 if all stopped cleanly) or until one
    dies unasked (exit 1)."""
    children = [subprocess.Popen(command, preexec_fn=die_with_parent) for command in commands]
    stopping = False

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    unasked = False
    try:
        while any(child.poll() is None for child in children):
            if not stopping and any(child.poll() is not None for child in children):
                unasked = True
                report("a sender stopped on its own; stopping the others")
                forward(signal.SIGTERM, None)
            time.sleep(poll)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    failed = [_describe(n, c) for n, c in enumerate(children) if unasked or c.returncode != 0]
    if failed:
        report("senders: " + "; ".join(failed))
        return 1
    return 0


def _describe(index: int, child: subprocess.Popen[bytes]) -> str:
    code = child.returncode
    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
    return f"{index + 1} (pid {child.pid}) {how}"
