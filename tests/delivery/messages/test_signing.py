"""DKIM signatures, checked by two independent verifiers on the bytes a real server received.

The verifiers are dkimpy's (Python) and Perl's Mail::DKIM (the one SpamAssassin uses; Debian
package ``libmail-dkim-perl``, installed by ``.ci/run``). Both get the key record from the test
instead of DNS.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dkim
import dkim.canonicalization
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.messages.canonical import body_end, canonical_body, canonical_header
from newsletter.delivery.messages.message import MessageTemplate
from newsletter.delivery.messages.signing import Signer
from newsletter.errors import ConfigurationError
from newsletter.render import RenderedEmail
from newsletter.render.personal import placeholders, token
from newsletter.store.database import Database
from newsletter.store.models import Frequency
from tests.delivery.conftest import RunSender
from tests.delivery.helpers import NOW, add_papers, add_subscriber
from tests.smtp_server import SmtpServer

DOMAIN = "papers.example.org"
SELECTOR = "mail2024"
PERL_VERIFIER = Path(__file__).with_name("dkim_verify.pl")


def _mail_dkim_missing() -> bool:
    perl = shutil.which("perl")
    return perl is None or subprocess.run([perl, "-MMail::DKIM::Verifier", "-MNet::DNS", "-e1"],
                                          capture_output=True).returncode != 0


needs_mail_dkim = pytest.mark.skipif(
    _mail_dkim_missing(), reason="Perl Mail::DKIM is missing (Debian: libmail-dkim-perl)"
)


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An RSA-2048 key file (traditional PEM, as ``openssl genrsa`` writes) and its public
    key, base64 DER, as it goes in the DNS record."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, base64.b64encode(public).decode()


def dkimpy_verifies(message: bytes, public: str) -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
        return f"v=DKIM1; k=rsa; p={public}".encode()

    return bool(dkim.verify(message, dnsfunc=dns))


def mail_dkim(message: bytes, public: str) -> tuple[bool, str]:
    result = subprocess.run(["perl", str(PERL_VERIFIER), SELECTOR, DOMAIN, public],
                            input=message, capture_output=True, timeout=30)
    return result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def signed_header(message: bytes) -> dict[str, str]:
    field = message.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n", "").split("\n")[0]
    assert field.startswith("DKIM-Signature:")
    tags = (tag.strip().partition("=") for tag in field.partition(":")[2].split(";"))
    return {name: "".join(value.split()) for name, _, value in tags if name}


@needs_mail_dkim
async def test_sent_digests_verify_with_dkimpy_and_mail_dkim(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender, key_pair: tuple[Path, str],
) -> None:
    key_path, public = key_pair
    settings = smtp_settings(sender_address=f"digest@{DOMAIN}", dkim_private_key_path=key_path,
                             dkim_selector=SELECTOR)
    add_papers(db)
    for name in ("ada", "alan", "grace"):
        add_subscriber(db, f"{name}@example.org")
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=date(2024, 5, 1), now=NOW)
    summary, sender = await run_sender(settings)
    assert summary.sent == 3 and sender.renders == 1  # one digest, three recipients
    received = smtp_server.received
    links = set()
    for item in received:
        raw = item.raw
        assert raw.count(b"DKIM-Signature:") == 1  # signed once, where it was composed
        tags = signed_header(raw)
        assert (tags["a"], tags["c"], tags["d"], tags["s"]) == (
            "rsa-sha256", "relaxed/relaxed", DOMAIN, SELECTOR)
        covered = tags["h"].split(":")
        for name in ("from", "to", "subject", "date", "message-id", "mime-version",
                     "content-type", "list-id", "list-unsubscribe", "list-unsubscribe-post"):
            assert name in covered, name
        assert dkimpy_verifies(raw, public)
        passed, report = mail_dkim(raw, public)
        assert passed and report.startswith("pass"), report
        links.add(item.message["List-Unsubscribe"])

        link = item.message["List-Unsubscribe"].split(",")[0].strip(" <>").encode()
        tampered = raw.replace(link, link[:-3] + b"AAA")  # someone else's unsubscribe link
        assert tampered != raw
        assert not dkimpy_verifies(tampered, public)
        assert not mail_dkim(tampered, public)[0]
    assert len(links) == 3  # per-recipient links, each under its own signature


@needs_mail_dkim
def test_awkward_layout_verifies_with_both(key_pair: tuple[Path, str]) -> None:
    """Folded headers, tabs, runs of blanks, trailing blank lines and a header signed twice."""
    key_path, public = key_pair
    message = (
        b"From: Trending Papers <digest@papers.example.org>\r\n"
        b"To:  reader@example.org \r\n"
        b"Subject: a\tfolded\r\n\t  subject   line\r\n"
        b"Date: Wed, 01 May 2024 07:00:00 +0000\r\n"
        b"Message-ID: <1.x@papers.example.org>\r\n"
        b"List-Unsubscribe: <https://papers.example.org/u/t>,\r\n <mailto:u@papers.example.org>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        b"X-Not-Signed: anything\r\n"
        b"\r\n"
        b"body \t with  blanks  \r\n\r\n\tindented\r\n\r\n\r\n"
    )
    signed = Signer(key_path, selector=SELECTOR, domain=DOMAIN, clock=lambda: 1714546800).sign(
        message)
    assert signed_header(signed)["t"] == "1714546800"
    assert signed_header(signed)["h"].split(":").count("from") == 2  # oversigned
    assert "x-not-signed" not in signed_header(signed)["h"]
    assert dkimpy_verifies(signed, public)
    assert mail_dkim(signed, public)[0]
    # an added second From below the signature breaks it (oversigning)
    forged = signed.replace(b"\r\n\r\nbody", b"\r\nFrom: ceo@papers.example.org\r\n\r\nbody")
    assert not dkimpy_verifies(forged, public)
    # relaxed canonicalization: re-folding and re-spacing in transit does not
    relayed = signed.replace(b"To:  reader@example.org \r\n", b"To: reader@example.org\r\n")
    assert dkimpy_verifies(relayed, public) and mail_dkim(relayed, public)[0]


LINE = st.text(alphabet="ab. \t", max_size=12)


@given(st.lists(LINE, max_size=8))
def test_body_canonicalization_matches_dkimpy(lines: list[str]) -> None:
    body = "".join(line + "\r\n" for line in lines).encode()
    assert canonical_body(body) == dkim.canonicalization.Relaxed.canonicalize_body(body)


SPACED = st.text(alphabet="ab.< >\t\n", max_size=40)


@examples(suppress_health_check=[HealthCheck.function_scoped_fixture])  # settings are read-only
@given(texts=st.lists(SPACED, min_size=1, max_size=5), value=st.text(alphabet="a \t", max_size=6))
def test_canonical_lines_from_a_template_match_the_whole_body(
    texts: list[str], value: str, make_settings: Callable[..., Settings]
) -> None:
    """A digest's canonical body is put together from its template's pieces, canonicalized
    once; it must be exactly what canonicalizing the message's whole body gives."""
    holes = {**placeholders(), "feedback_7": token("feedback_7")}
    fields = list(holes)
    text = "".join(piece + holes[fields[n % len(fields)]] for n, piece in enumerate(texts))
    template = MessageTemplate(make_settings(), RenderedEmail("Hi", text, f"<p>{text}</p>"),
                               holes)
    lines: list[bytes] = []
    data = template.fill(to="a@example.org", now=NOW, message_id="<1.x@localhost>",
                         values=dict.fromkeys(fields, value + "x"), body_lines=lines)
    body = data.partition(b"\r\n\r\n")[2]
    assert body_end(b"".join(lines)) == dkim.canonicalization.Relaxed.canonicalize_body(body)


@given(st.text(alphabet="ab \t", max_size=10), st.lists(st.text(alphabet="ab \t", max_size=10),
                                                          max_size=3))
def test_header_canonicalization_matches_dkimpy(first: str, folds: list[str]) -> None:
    value = (first + "".join("\r\n " + fold for fold in folds)).encode()
    [(name, expected)] = dkim.canonicalization.Relaxed.canonicalize_headers([(b"Sub-Ject", value)])
    assert canonical_header(b"Sub-Ject:" + value) == name + b":" + expected


def test_unusable_keys_fail_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"missing\.pem"):
        Signer(tmp_path / "missing.pem", selector=SELECTOR, domain=DOMAIN)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ConfigurationError, match="not a PEM private key"):
        Signer(garbage, selector=SELECTOR, domain=DOMAIN)
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(ConfigurationError, match="RSA key"):
        Signer(ec_key, selector=SELECTOR, domain=DOMAIN)
