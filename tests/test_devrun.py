"""``make run``'s entry point: a port already taken is said at once, before any work."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from newsletter import devrun


def test_a_taken_port_stops_make_run_before_it_migrates_or_fetches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "newsletter.db"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{database}")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert devrun.port_taken("127.0.0.1", port)
        with pytest.raises(SystemExit) as stopped:
            devrun.main(["--host", "127.0.0.1", "--port", str(port)])
    message = str(stopped.value.code)
    assert f"127.0.0.1:{port} is already in use" in message
    assert f"make run PORT={port + 1}" in message
    assert not database.exists()  # nothing was migrated
    assert not devrun.port_taken("127.0.0.1", port)  # free once the listener is gone
