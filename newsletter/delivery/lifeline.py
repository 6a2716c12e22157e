"""Helper processes end with the process they serve, even when it is SIGKILLed.

A SIGKILLed sender or build runs no clean-up, so its helpers must notice on their own: a
composing child left behind waits on its task queue forever, holding ~100 MB. Two ways, for two
kinds of helper:

* :func:`die_with_parent`: the kernel signals a direct child when its parent dies (Linux
  ``PR_SET_PDEATHSIG``). A spawned child asks for it only once it runs, a second after it was
  started; if the parent died meanwhile no signal will ever come, so the child checks then.
* :func:`exit_with`: a build's workers are forked by a fork server, not by the build, so
  the kernel would tell them about the wrong process; a thread checks the build every second.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
# Seconds between a worker's checks that the process it serves is still alive.
WATCH_SECONDS = 1.0


def die_with_parent(signum: int = signal.SIGTERM, *, parent: int | None = None) -> None:
    """Have the kernel send ``signum`` to this process when its parent dies (Linux).

    ``parent``: the pid the parent had; if this process's parent is already another one (the
    parent died before this call), ``signum`` is sent at once.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)


def exit_with(pid: int) -> None:
    """Exit this process (at once, no clean-up) within a second of process ``pid`` ending."""
    threading.Thread(target=_watch, args=(pid,), name="lifeline", daemon=True).start()


def _watch(pid: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
