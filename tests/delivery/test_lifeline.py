"""Helpers end with the process they serve: real processes, real signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

CHILD = "import os, signal, sys, time; from newsletter.delivery import lifeline; "


def test_a_child_whose_parent_is_already_gone_ends_at_once() -> None:
    """The parent died before the child asked the kernel to tell it: no signal would come."""
    code = CHILD + "lifeline.die_with_parent(signal.SIGKILL, parent=os.getppid() + 1); print('on')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL
    assert b"on" not in result.stdout


def test_a_child_whose_parent_lives_goes_on() -> None:
    code = CHILD + "lifeline.die_with_parent(signal.SIGKILL, parent=os.getppid()); print('on')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == b"on"


def test_a_watcher_exits_soon_after_the_process_it_serves() -> None:
    served = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    code = CHILD + "lifeline.exit_with(int(sys.argv[1])); time.sleep(60)"
    watcher = subprocess.Popen([sys.executable, "-c", code, str(served.pid)])
    try:
        time.sleep(1.5)
        assert watcher.poll() is None, "the served process is alive: the watcher waits"
        served.send_signal(signal.SIGKILL)
        served.wait()
        assert watcher.wait(timeout=10) == 1
    finally:
        for process in (served, watcher):
            if process.poll() is None:
                process.kill()
                process.wait()
