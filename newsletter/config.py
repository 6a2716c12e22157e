"""The one settings object.

Everything configurable is read here, once, from ``NEWSLETTER_*`` environment variables and an
optional ``.env`` file. Values are checked at start so that a typo stops the program with the
variable's name instead of failing on the first email hours later.
"""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from newsletter.errors import ConfigurationError

ENV_PREFIX = "NEWSLETTER_"
TlsMode = Literal["auto", "require", "starttls", "implicit", "none"]
SourceName = Literal["hf", "arxiv", "file"]


@dataclass(frozen=True)
class ImapConfig:
    """The mailbox polled for inbound mail, parsed from ``NEWSLETTER_INBOUND_IMAP_URL``."""

    host: str
    port: int
    username: str
    password: str
    mailbox: str
    tls: Literal["implicit", "starttls", "none"]


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the SMTP relay, parsed from ``NEWSLETTER_SMTP_URL``."""

    host: str
    port: int
    username: str | None
    password: str | None
    # auto: STARTTLS whenever the server offers it; require: STARTTLS or refuse to send;
    # implicit: TLS from the first byte (smtps, port 465); none: clear text (local relays).
    tls: Literal["auto", "require", "implicit", "none"]


class Settings(BaseSettings):
    """Typed settings; every field is documented in README.md (a test keeps that true)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", validate_default=True
    )

    # --- service ---------------------------------------------------------------------------
    environment: Literal["development", "production"] = Field(
        "development", description="`development` allows built-in secrets and the dev mailbox page."
    )
    database_url: str = Field(
        "sqlite:///./var/newsletter.db", description="SQLAlchemy URL: SQLite file or PostgreSQL."
    )
    secret_key: SecretStr | None = Field(
        None, description="Signs confirm/unsubscribe links. Required (32+ chars) in production."
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public address used in every link of every email."
    )
    var_dir: Path = Field(Path("./var"), description="Where the SQLite file and mailbox live.")

    # --- sender identity -------------------------------------------------------------------
    sender_name: str = Field("Trending Papers", description="Display name in the From header.")
    sender_address: str = Field(
        "digest@localhost", description="From address; its domain is used for Message-IDs."
    )
    postal_address: str = Field(
        "Trending Papers, self-hosted", description="Contact/postal line in every email footer."
    )
    list_id: str = Field("trending-papers", description="Left part of the List-Id header.")

    # --- schedule ----------------------------------------------------------------------------
    default_send_hour: int = Field(7, ge=0, le=23, description="Send hour for new subscribers.")
    default_timezone: str = Field("UTC", description="IANA timezone for new subscribers.")
    weekly_send_weekday: int = Field(
        0, ge=0, le=6, description="Day weekly digests go out (0 = Monday)."
    )
    digest_size: int = Field(10, ge=1, le=100, description="Default papers per digest.")

    # --- SMTP --------------------------------------------------------------------------------
    smtp_url: SecretStr | None = Field(
        None,
        description="`smtp://user:pass@host:587?tls=require`; unset = dev mailbox "
        "(development only).",
    )
    smtp_tls: TlsMode = Field(
        "auto",
        description="auto (STARTTLS whenever offered; required with a password or on port "
        "587), require (STARTTLS or refuse; `starttls` is the same), implicit or none.",
    )
    smtp_ca_file: Path | None = Field(
        None, description="PEM file of the CAs to trust for the relay (a private CA); "
        "default the system's.",
    )
    smtp_pool_size: int = Field(4, ge=1, le=64, description="Reused SMTP connections.")
    smtp_messages_per_connection: int = Field(
        100, ge=1, description="Recycle a connection after this many messages."
    )
    smtp_rate_limit: float = Field(
        0.0, ge=0, description="Messages per second at most; 0 means unlimited."
    )
    smtp_timeout: float = Field(30.0, gt=0, description="Seconds to wait for any SMTP reply.")
    mailbox_dir: Path | None = Field(
        None, description="Dev mailbox folder (one .eml per message); default var_dir/mailbox."
    )
    dkim_private_key_path: Path | None = Field(None, description="PEM key: DKIM-sign mail.")
    dkim_selector: str = Field("newsletter", description="DKIM selector (with the key).")

    # --- delivery ledger ---------------------------------------------------------------------
    delivery_max_attempts: int = Field(8, ge=1, description="Tries before giving up (4xx).")
    delivery_max_age_hours: float = Field(
        48.0, gt=0, description="Stop retrying deliveries older than this."
    )
    delivery_backoff_seconds: float = Field(
        60.0, gt=0, description="First retry delay; doubles each try, with jitter."
    )
    delivery_hard_bounce_limit: int = Field(
        3, ge=1, description="Hard failures before a subscriber is suppressed (bounced)."
    )
    delivery_lease_seconds: int = Field(
        300, ge=5, description="How long a sender owns claimed deliveries before reclaim."
    )
    delivery_batch_size: int = Field(200, ge=1, description="Deliveries claimed at a time.")
    delivery_poll_seconds: float = Field(
        5.0, gt=0, description="How often an idle `newsletter worker` looks for due deliveries."
    )

    # --- inbound mail ------------------------------------------------------------------------
    inbound_imap_url: SecretStr | None = Field(
        None,
        description="`imaps://user:pass@host:993/INBOX`: the service polls it for bounces, "
        "complaints and unsubscribes; unset = no polling.",
    )
    inbound_imap_interval_seconds: float = Field(
        60.0, ge=1, description="Seconds between two polls of the inbound IMAP mailbox."
    )

    # --- ingest ------------------------------------------------------------------------------
    ingest_sources: Annotated[list[SourceName], NoDecode] = Field(
        default_factory=lambda: ["hf", "arxiv"],  # type: ignore[arg-type]
        description="Sources the scheduler runs."
    )
    arxiv_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["cs.CL", "cs.LG", "cs.AI", "cs.CV"],
        description="arXiv categories followed.",
    )
    ingest_interval_minutes: int = Field(60, ge=1, description="Minutes between ingest runs.")
    hf_api_url: str = Field(
        "https://huggingface.co/api/daily_papers", description="Hugging Face Daily Papers API."
    )
    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query", description="arXiv query API (Atom)."
    )
    arxiv_rss_url: str = Field("https://rss.arxiv.org/rss", description="arXiv announcement RSS.")
    http_timeout: float = Field(20.0, gt=0, description="Seconds for any source request.")
    http_max_bytes: int = Field(
        32_000_000,
        ge=10_000,
        description="Largest answer read from a source; past it the read stops and is reported.",
    )
    ingest_file: Path | None = Field(
        None, description="JSON or JSON Lines papers for the `file` source; unset = bundled sample."
    )

    # --- matching ----------------------------------------------------------------------------
    semantic_matching: Literal["off", "auto", "on"] = Field(
        "off", description="Sentence embeddings: off, auto (when the extra is installed), on."
    )

    # --- web ---------------------------------------------------------------------------------
    confirm_token_max_age_hours: float = Field(
        48.0, gt=0, description="Confirmation links expire after this."
    )
    confirm_email_interval_minutes: float = Field(
        10.0, ge=0, description="At most one confirmation email per address per interval."
    )
    subscribe_rate_limit_per_minute: int = Field(
        10, ge=1, description="Subscribe posts per client address per minute."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxies (IPs or CIDRs) whose X-Forwarded-For is believed; none by default.",
    )
    edition_check_seconds: int = Field(
        300, ge=5, description="Seconds between checks for subscribers whose send hour came."
    )
    edition_chunk_size: int = Field(
        2500, ge=1, description="Subscribers an edition build matches and commits at a time."
    )
    serve_sender: bool = Field(
        True,
        description="Whether `newsletter serve` sends mail itself (false: workers send).",
    )
    edition_processes: int = Field(
        2, ge=1, le=64,
        description="Processes that choose papers in a large edition build (1 = the build's own).",
    )

    @field_validator("ingest_sources", "arxiv_categories", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """Lists come from the environment as ``hf,arxiv``, not as JSON."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("arxiv_categories")
    @classmethod
    def _category_names(cls, value: list[str]) -> list[str]:
        from newsletter.sources.categories import check_category

        return [check_category(name) for name in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        """Each an address or a network; ``*`` (anyone may claim any address) is refused."""
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or CIDR network such as 10.0.0.0/8"
                ) from None
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://papers.example.org")
        return value.rstrip("/")

    @field_validator("sender_address")
    @classmethod
    def _address(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n <>"):
            raise ValueError("must be a bare address such as digest@example.org")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            _parse_smtp_url(value.get_secret_value(), "auto")
        return value

    @field_validator("inbound_imap_url")
    @classmethod
    def _imap_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            _parse_imap_url(value.get_secret_value())
        return value

    @field_validator("smtp_ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                ssl.create_default_context(cafile=str(value))
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"cannot load CA certificates from {value}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        if self.environment != "production":
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < 32:
            raise ValueError(
                f"{ENV_PREFIX}SECRET_KEY must be set to 32 or more random characters in production"
            )
        if not self.base_url.startswith("https://"):
            raise ValueError(f"{ENV_PREFIX}BASE_URL must use https:// in production")
        if self.smtp_url is None or not self.smtp_url.get_secret_value():
            raise ValueError(
                f"{ENV_PREFIX}SMTP_URL must be set in production (without it mail would go to "
                "the development mailbox folder)"
            )
        return self

    # --- derived values ----------------------------------------------------------------------
    @property
    def development(self) -> bool:
        return self.environment == "development"

    def signing_key(self) -> str:
        """The secret for tokens; development derives a fixed one so links survive restarts."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        if not self.development:  # pragma: no cover - the validator refuses this earlier
            raise ConfigurationError(f"{ENV_PREFIX}SECRET_KEY is required in production")
        return hashlib.sha256(
            b"newsletter-development-only:" + self.database_url.encode()
        ).hexdigest()

    def smtp(self) -> SmtpConfig | None:
        """Parsed relay settings, or None when mail goes to the development mailbox."""
        if self.smtp_url is None or not self.smtp_url.get_secret_value():
            return None
        return _parse_smtp_url(self.smtp_url.get_secret_value(), self.smtp_tls)

    def imap(self) -> ImapConfig | None:
        """The inbound mailbox to poll, or None when inbound mail comes only over LMTP."""
        if self.inbound_imap_url is None or not self.inbound_imap_url.get_secret_value():
            return None
        return _parse_imap_url(self.inbound_imap_url.get_secret_value())

    @property
    def mailbox_path(self) -> Path:
        return self.mailbox_dir or self.var_dir / "mailbox"

    @property
    def mail_domain(self) -> str:
        return self.sender_address.rpartition("@")[2]


def _parse_smtp_url(url: str, tls: TlsMode) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must look like smtp://user:pass@host:587 or smtps://host:465")
    query = parse_qs(parts.query)
    mode = query.get("tls", [tls])[0]
    if mode not in ("auto", "require", "starttls", "implicit", "none"):
        raise ValueError(f"tls={mode!r} must be one of auto, require, starttls, implicit, none")
    if mode == "starttls":
        mode = "require"
    if mode == "auto":
        # A password is never sent in clear, and the submission port always speaks STARTTLS.
        mode = (
            "implicit" if parts.scheme == "smtps"
            else "require" if parts.port == 587 or parts.username else "auto"
        )
    port = parts.port or (465 if mode == "implicit" else 587 if mode == "require" else 25)
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=mode,  # type: ignore[arg-type]
    )


def _parse_imap_url(url: str) -> ImapConfig:
    """``imaps://`` is implicit TLS (993); ``imap://`` upgrades with STARTTLS (143) unless
    ``?tls=none`` (a mailbox on the same machine). The path names the folder (default INBOX)."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("must look like imaps://user:pass@imap.example.org:993/INBOX")
    if not parts.username or parts.password is None:
        raise ValueError("needs a user and a password: imaps://user:pass@host/INBOX")
    default = "implicit" if parts.scheme == "imaps" else "starttls"
    mode = parse_qs(parts.query).get("tls", [default])[0]
    if mode not in ("implicit", "starttls", "none"):
        raise ValueError(f"tls={mode!r} must be one of implicit, starttls, none")
    return ImapConfig(
        host=parts.hostname,
        port=parts.port or (993 if mode == "implicit" else 143),
        username=unquote(parts.username),
        password=unquote(parts.password),
        mailbox=unquote(parts.path.strip("/")) or "INBOX",
        tls=mode,  # type: ignore[arg-type]
    )


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad variable, named as the operator typed it."""
    lines = []
    for error in exc.errors():
        location = [str(p) for p in error["loc"]]
        message = error["msg"].removeprefix("Value error, ")
        if not location:
            lines.append(message)
            continue
        item = f" (item {int(location[1]) + 1})" if location[1:2] and location[1].isdigit() else ""
        lines.append(f"{ENV_PREFIX}{location[0].upper()}{item}: {message}")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Build settings; pydantic's error becomes a ConfigurationError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once at the edge."""
    return load_settings()
