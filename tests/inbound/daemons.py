"""Real mail daemons for inbound tests: Postfix and Dovecot, each from its own temporary config.

Both run as root on loopback high ports with every file (queue, mail, logs, sockets) under the
test's temporary folder, and are stopped at teardown. When one cannot start (not installed, not
root), :class:`DaemonUnavailable` carries the reason and the test skips saying it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from tests.network import free_port

POSTFIX = Path("/usr/sbin/postfix")
DOVECOT = Path("/usr/sbin/dovecot")
MASTER_CF = Path("/usr/share/postfix/master.cf.dist")


class DaemonUnavailable(Exception):
    """The daemon cannot run here; the message says why (the test skips with it)."""


class Daemon(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


D = TypeVar("D", bound=Daemon)


@contextmanager
def running(prefix: str, make: Callable[[Path], D]) -> Iterator[D]:
    """A daemon made in a new folder and started; the test skips, saying why, when it cannot
    start. The folder is readable by all: the daemon's own unprivileged processes must reach it,
    and pytest's temporary folders are private. Stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    try:
        try:
            daemon = make(folder)
            daemon.start()
        except DaemonUnavailable as exc:
            pytest.skip(str(exc))
        yield daemon
        daemon.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_port(port: int, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise DaemonUnavailable(f"nothing listens on 127.0.0.1:{port} after {seconds} s: {tail}")


def _wait_closed(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)


def _needs_root(name: str, binary: Path, package: str) -> None:
    if not binary.exists():
        raise DaemonUnavailable(f"{name} is not installed (apt-get install {package})")
    if os.geteuid() != 0:
        raise DaemonUnavailable(f"{name} must be started as root to run from a private config")


def _master_cf(smtpd_port: int) -> str:
    """Debian's master.cf, unchrooted (the queue is in a temp dir), smtpd on our port."""
    lines, skipping = [], False
    for line in MASTER_CF.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split()
        if not line[0].isspace():
            skipping = len(fields) > 7 and fields[7] == "pipe"
            if skipping:
                continue
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = f"127.0.0.1:{smtpd_port}"
            if len(fields) > 7:
                fields[4] = "n"
            line = " ".join(fields)
        elif skipping:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


class Postfix:
    """Postfix that accepts mail for ``local_domain`` (where no user exists, so local(8)
    bounces every message) and hands mail for ``our_domain`` to an LMTP port."""

    def __init__(self, folder: Path, *, local_domain: str, our_domain: str, lmtp_port: int):
        _needs_root("Postfix", POSTFIX, "postfix")
        self.folder = folder
        self.conf = folder / "conf"
        self.log = folder / "maillog"
        self.port = free_port()
        for sub in ("conf", "queue", "data", "spool"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        shutil.chown(folder / "data", user="postfix")
        (folder / "spool").chmod(0o1777)
        (self.conf / "transport").write_text(f"{our_domain} lmtp:inet:127.0.0.1:{lmtp_port}\n")
        (self.conf / "master.cf").write_text(_master_cf(self.port))
        (self.conf / "main.cf").write_text(
            "\n".join([
                "compatibility_level = 3.6",
                f"queue_directory = {folder / 'queue'}",
                f"data_directory = {folder / 'data'}",
                "command_directory = /usr/sbin",
                "daemon_directory = /usr/lib/postfix/sbin",
                "shlib_directory = /usr/lib/postfix",
                "meta_directory = /etc/postfix",
                "mail_owner = postfix",
                "setgid_group = postdrop",
                f"myhostname = mx.{local_domain}",
                f"mydomain = {local_domain}",
                f"myorigin = {local_domain}",
                f"mydestination = {local_domain}",
                "inet_interfaces = loopback-only",
                "inet_protocols = ipv4",
                "mynetworks = 127.0.0.0/8",
                "relayhost =",
                # Accept any local recipient at RCPT so that the failure is a DSN, not a 550.
                "local_recipient_maps =",
                "alias_maps =",
                "alias_database =",
                f"mail_spool_directory = {folder / 'spool'}",
                f"transport_maps = texthash:{self.conf / 'transport'}",
                f"maillog_file = {self.log}",
                f"maillog_file_prefixes = {folder}",
                "biff = no",
                "smtputf8_enable = no",
                "queue_run_delay = 1s",
                "minimal_backoff_time = 1s",
                "maximal_backoff_time = 2s",
                "",
            ])
        )

    def _postfix(self, *args: str) -> subprocess.CompletedProcess[str]:
        # postfix-script detaches master(8) from our pipes, so capturing its output is safe.
        return subprocess.run(
            [str(POSTFIX), "-c", str(self.conf), *args], capture_output=True, text=True,
            timeout=60, check=False,
        )

    def start(self) -> None:
        result = self._postfix("start")
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise DaemonUnavailable(f"postfix start failed: {result.stderr.strip()} {log}")
        _wait_for_port(self.port, 20, self.log)

    def stop(self) -> None:
        self._postfix("stop")
        _wait_closed(self.port, 20)


class Dovecot:
    """Dovecot IMAP (no TLS) on a free loopback port, one user from a passwd-file, Maildir."""

    def __init__(self, folder: Path, *, user: str, password: str):
        _needs_root("Dovecot", DOVECOT, "dovecot-imapd")
        self.folder = folder
        self.port = free_port()
        self.user, self.password = user, password
        self.log = folder / "dovecot.log"
        run, mail = folder / "run", folder / "mail"
        for path in (run, mail):
            path.mkdir(parents=True, exist_ok=True)
        mail.chmod(0o777)
        self.config = folder / "dovecot.conf"
        (folder / "passwd").write_text(
            f"{user}:{{PLAIN}}{password}:65534:65534::{mail / user}::\n"
        )
        self.config.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {folder / 'state'}
log_path = {self.log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder / 'passwd'}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder / 'passwd'}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )

    def start(self) -> None:
        # The daemon keeps any inherited pipe open: its output goes to a file, not to us.
        errors = self.folder / "dovecot.stderr"
        with errors.open("wb") as sink:
            result = subprocess.run(
                [str(DOVECOT), "-c", str(self.config)], stdin=subprocess.DEVNULL,
                stdout=sink, stderr=sink, timeout=60, check=False,
            )
        if result.returncode != 0:
            reason = errors.read_text(errors="replace").strip()
            raise DaemonUnavailable(f"dovecot failed to start: {reason}")
        _wait_for_port(self.port, 20, self.log)

    def stop(self) -> None:
        subprocess.run(
            ["/usr/bin/doveadm", "-c", str(self.config), "stop"], capture_output=True,
            timeout=60, check=False,
        )
        _wait_closed(self.port, 20)
