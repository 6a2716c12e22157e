"""Settings refuse unsafe values at start and are all documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.config import Settings, load_settings
from newsletter.errors import ConfigurationError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_work_in_development(tmp_path: Path) -> None:
    settings = load_settings(var_dir=tmp_path)
    assert settings.development
    assert settings.database_url.startswith("sqlite:///")
    assert settings.smtp() is None  # the development mailbox
    assert len(settings.signing_key()) >= 32


def test_production_refuses_missing_secret() -> None:
    with pytest.raises(ConfigurationError, match="NEWSLETTER_SECRET_KEY"):
        load_settings(environment="production", base_url="https://papers.example.org")


def test_production_refuses_short_secret() -> None:
    with pytest.raises(ConfigurationError, match="32 or more"):
        load_settings(
            environment="production", secret_key="short", base_url="https://papers.example.org"
        )


def test_production_requires_https_links() -> None:
    with pytest.raises(ConfigurationError, match="NEWSLETTER_BASE_URL"):
        load_settings(environment="production", secret_key="x" * 40, base_url="http://a.example")


def test_production_refuses_to_mail_into_a_folder() -> None:
    with pytest.raises(ConfigurationError, match="NEWSLETTER_SMTP_URL must be set"):
        load_settings(
            environment="production", secret_key="x" * 40, base_url="https://papers.example.org"
        )


def test_production_start_up_names_the_missing_relay(tmp_path: Path) -> None:
    """The real command line, as an operator starts it: a one-line error, non-zero exit."""
    env = {**os.environ, "NEWSLETTER_ENVIRONMENT": "production",
           "NEWSLETTER_SECRET_KEY": "x" * 40, "NEWSLETTER_BASE_URL": "https://papers.example.org",
           "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"}
    env.pop("NEWSLETTER_SMTP_URL", None)
    done = subprocess.run([sys.executable, "-m", "newsletter", "status"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "NEWSLETTER_SMTP_URL" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_private_ca_file_must_load(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="NEWSLETTER_SMTP_CA_FILE"):
        load_settings(smtp_ca_file=bad)


def test_production_accepts_safe_values() -> None:
    settings = load_settings(
        environment="production", secret_key="x" * 40, base_url="https://papers.example.org/",
        smtp_url="smtp://relay.example.org:587",
    )
    assert settings.base_url == "https://papers.example.org"
    assert settings.signing_key() == "x" * 40


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "unknown IANA timezone"),
        ("DEFAULT_SEND_HOUR", "25", "less than or equal to 23"),
        ("DATABASE_URL", "mysql://x", "sqlite"),
        ("SMTP_URL", "http://mail", "smtp://"),
        ("SMTP_URL", "smtp://mail:25?tls=maybe", "tls="),
        ("BASE_URL", "papers.example.org", "absolute http"),
        ("SENDER_ADDRESS", "a@b.c\r\nBcc: x@y.z", "bare address"),
        ("INGEST_SOURCES", "hf,rss", "item 2"),
        ("SMTP_POOL_SIZE", "0", "greater than or equal to 1"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(f"NEWSLETTER_{variable}", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert f"NEWSLETTER_{variable}" in str(caught.value)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://u:p%40ss@mail.example.org:587",
            ("mail.example.org", 587, "u", "p@ss", "require"),
        ),
        # auto upgrades whenever STARTTLS is offered; with a password it insists on it
        ("smtp://relay.example.org", ("relay.example.org", 25, None, None, "auto")),
        ("smtp://u:p@relay.example.org:25", ("relay.example.org", 25, "u", "p", "require")),
        ("smtp://relay:2525?tls=require", ("relay", 2525, None, None, "require")),
        ("smtps://mail.example.org", ("mail.example.org", 465, None, None, "implicit")),
        ("smtp://127.0.0.1:2525?tls=none", ("127.0.0.1", 2525, None, None, "none")),
        ("smtp://relay:2525?tls=starttls", ("relay", 2525, None, None, "require")),
    ],
)
def test_smtp_url_is_parsed(url: str, expected: tuple[object, ...]) -> None:
    smtp = load_settings(smtp_url=url).smtp()
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.username, smtp.password, smtp.tls) == expected


def test_lists_come_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_ARXIV_CATEGORIES", "cs.CL, cs.IR")
    assert load_settings().arxiv_categories == ["cs.CL", "cs.IR"]


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"^\| `NEWSLETTER_([A-Z0-9_]+)`", README.read_text(), re.M))
    expected = {name.upper() for name in Settings.model_fields}
    assert expected - documented == set(), "settings missing from README's table"
    assert documented - expected == set(), "README documents settings that do not exist"


def test_the_cli_stops_at_start_on_a_bad_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess
    import sys

    env = {"NEWSLETTER_DEFAULT_TIMEZONE": "Nowhere/Town", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert "NEWSLETTER_DEFAULT_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("imaps://u:p%40ss@imap.example.org/INBOX", ("imap.example.org", 993, "u", "p@ss",
                                                      "INBOX", "implicit")),
        ("imap://u:p@127.0.0.1:1143/Bounces?tls=none", ("127.0.0.1", 1143, "u", "p", "Bounces",
                                                         "none")),
        ("imap://u:p@imap.example.org", ("imap.example.org", 143, "u", "p", "INBOX", "starttls")),
    ],
)
def test_inbound_imap_url_is_parsed(url: str, expected: tuple[object, ...]) -> None:
    mailbox = load_settings(inbound_imap_url=url).imap()
    assert mailbox is not None
    assert (mailbox.host, mailbox.port, mailbox.username, mailbox.password, mailbox.mailbox,
            mailbox.tls) == expected
    assert load_settings().imap() is None


@pytest.mark.parametrize("url", ["https://u:p@host/", "imaps://host/INBOX",
                                 "imap://u:p@host/?tls=maybe"])
def test_a_bad_inbound_imap_url_names_the_variable(url: str) -> None:
    with pytest.raises(ConfigurationError, match="NEWSLETTER_INBOUND_IMAP_URL"):
        load_settings(inbound_imap_url=url)
