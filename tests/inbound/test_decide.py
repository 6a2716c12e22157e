"""Reading inbound mail, pure: real-format samples in, one decision out."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletter.config import Settings
from newsletter.inbound.decide import Kind, decide
from newsletter.inbound.verp import bounce_address, delivery_of
from newsletter.store.models import Subscriber
from newsletter.tokens import Purpose, make_token
from tests.inbound.conftest import DOMAIN, NOW, SENDER
from tests.inbound.samples import FOLDER, sample


def _token(config: Settings, subscriber_id: int = 3, email: str = "reader@example.com") -> str:
    return make_token(config, Purpose.UNSUBSCRIBE, Subscriber(id=subscriber_id, email=email))


def test_verp_address_names_its_delivery_and_cannot_be_forged(config: Settings) -> None:
    address = bounce_address(config, 1234)
    assert address.startswith("bounces+1234.") and address.endswith("@newsletter.example.org")
    assert delivery_of(config, address) == 1234
    assert delivery_of(config, address.upper()) == 1234  # an MTA that folds case
    forged = address.replace("bounces+1234.", "bounces+1235.")
    assert delivery_of(config, forged) is None
    assert delivery_of(config, address.replace(DOMAIN, "elsewhere.example.org")) is None
    other_key = config.model_copy(update={"secret_key": None, "database_url": "sqlite:///x"})
    assert delivery_of(other_key, address) is None


def test_postfix_dsn_for_an_unknown_user_is_a_hard_bounce(config: Settings) -> None:
    verp = bounce_address(config, 7)
    decision = decide(sample("postfix_unknown_user.eml", bounce_address=verp), [verp], config, NOW)
    assert (decision.kind, decision.delivery_id, decision.status) == (Kind.HARD_BOUNCE, 7, "5.1.1")
    assert "no-such-reader@readers.test" in decision.reason


def test_dsn_reaching_the_plain_address_is_tied_through_the_returned_message(
    config: Settings,
) -> None:
    """Some MTAs answer the From address: the returned copy still carries our Return-Path."""
    verp = bounce_address(config, 7)
    raw = sample("postfix_unknown_user.eml", bounce_address=verp).replace(
        f"To: {verp}".encode(), b"To: digest@newsletter.example.org")
    decision = decide(raw, [SENDER], config, NOW)
    assert (decision.kind, decision.delivery_id) == (Kind.HARD_BOUNCE, 7)


def test_mailbox_full_is_a_soft_bounce(config: Settings) -> None:
    verp = bounce_address(config, 8)
    decision = decide(sample("mailbox_full.eml", bounce_address=verp), [verp], config, NOW)
    assert (decision.kind, decision.delivery_id, decision.status) == (Kind.SOFT_BOUNCE, 8, "5.2.2")


def test_rfc3464_example_failed_after_retries_is_soft(config: Settings) -> None:
    verp = bounce_address(config, 9)
    decision = decide(sample("rfc3464_timeout.eml", bounce_address=verp), [verp], config, NOW)
    assert (decision.kind, decision.status) == (Kind.SOFT_BOUNCE, "4.0.0")


def test_a_delay_warning_is_not_a_bounce(config: Settings) -> None:
    verp = bounce_address(config, 9)
    decision = decide(sample("rfc3464_delayed.eml", bounce_address=verp), [verp], config, NOW)
    assert decision.kind is Kind.IGNORED and "delayed" in decision.reason


def test_exim_plain_text_bounce_is_read_by_flufl_bounce(config: Settings) -> None:
    verp = bounce_address(config, 10)
    decision = decide(sample("exim_plain.eml", bounce_address=verp), [verp], config, NOW)
    assert (decision.kind, decision.delivery_id, decision.status) == (Kind.HARD_BOUNCE, 10, "5.1.1")
    assert "gone-reader@example.com" in decision.reason


def test_forged_verp_address_ties_nothing(config: Settings) -> None:
    forged = bounce_address(config, 7).replace("+7.", "+8.")
    decision = decide(sample("postfix_unknown_user.eml", bounce_address=forged), [forged],
                      config, NOW)
    assert decision.kind is Kind.IGNORED and decision.delivery_id is None


def test_arf_complaint_about_our_digest(config: Settings) -> None:
    verp = bounce_address(config, 11)
    raw = sample("arf_our_digest.eml", bounce_address=verp, token=_token(config))
    decision = decide(raw, [SENDER], config, NOW)
    assert (decision.kind, decision.delivery_id) == (Kind.COMPLAINT, 11)


def test_arf_complaint_tied_by_the_unsubscribe_token_alone(config: Settings) -> None:
    raw = sample("arf_our_digest.eml", bounce_address="someone@elsewhere.test",
                 token=_token(config, 3))
    decision = decide(raw, [SENDER], config, NOW)
    assert decision.kind is Kind.COMPLAINT and decision.claims is not None
    assert decision.claims.subscriber_id == 3


def test_rfc5965_example_about_someone_elses_spam_is_ignored(config: Settings) -> None:
    decision = decide(sample("arf_rfc5965.eml"), [SENDER], config, NOW)
    assert decision.kind is Kind.IGNORED and "not one of ours" in decision.reason


def test_vacation_reply_to_the_bounce_address_is_ignored(config: Settings) -> None:
    verp = bounce_address(config, 12)
    decision = decide(sample("vacation.eml", bounce_address=verp), [verp], config, NOW)
    assert decision.kind is Kind.IGNORED and decision.reason == "automatic reply"


def test_auto_reply_quoting_a_token_does_not_unsubscribe(config: Settings) -> None:
    raw = sample("exchange_auto_reply.eml", token=_token(config))
    decision = decide(raw, [SENDER], config, NOW)
    assert decision.kind is Kind.IGNORED and decision.reason == "automatic reply"


def _request(subject: str, to: str = "digest@newsletter.example.org") -> bytes:
    return (f"From: reader@example.com\r\nTo: {to}\r\nSubject: {subject}\r\n"
            "Message-ID: <u1@example.com>\r\n\r\n\r\n").encode()


def test_unsubscribe_token_in_the_subject(config: Settings) -> None:
    token = _token(config, 5)
    decision = decide(_request(f"unsubscribe {token}"), [SENDER], config, NOW)
    assert decision.kind is Kind.UNSUBSCRIBE and decision.claims is not None
    assert decision.claims.subscriber_id == 5


def test_unsubscribe_token_in_a_plus_address(config: Settings) -> None:
    token = _token(config, 6)
    to = f"digest+{token}@newsletter.example.org"
    decision = decide(_request("please stop", to=to), [to], config, NOW)
    assert decision.kind is Kind.UNSUBSCRIBE and decision.claims is not None
    assert decision.claims.subscriber_id == 6


def test_a_cut_or_foreign_token_unsubscribes_nobody(config: Settings) -> None:
    token = _token(config, 5)
    other = make_token(config, Purpose.PREFERENCES, Subscriber(id=5, email="r@x.org"))
    for subject in (f"unsubscribe {token[:-3]}", "unsubscribe", "Re: Your papers",
                    f"unsubscribe {other}"):
        decision = decide(_request(subject), [SENDER], config, NOW)
        assert decision.kind is Kind.IGNORED, subject


SAMPLES = sorted(p.name for p in FOLDER.glob("*.eml"))
_edits = st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from(["set", "cut", "insert"]), st.integers(0, 255),
              st.sampled_from([b"\r\n", b"--", b";", b"=?utf-8?q?", b"\x00", b'boundary="',
                               b"message/delivery-status", b"\r\n\r\n", b"From: <<>>\r\n"])),
    max_size=30,
)


@hypothesis_settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(SAMPLES), edits=_edits, junk=st.binary(max_size=300))
def test_broken_mime_is_read_without_errors(
    config: Settings, name: str, edits: list[tuple[float, str, int, bytes]], junk: bytes,
) -> None:
    """Real samples cut, overwritten and spliced at random: every one gets a decision, and none
    needs the last-resort catch-all (whose reason says "unreadable")."""
    verp = bounce_address(config, 13)
    raw = bytearray(sample(name, bounce_address=verp, token=_token(config)))
    for where, how, byte, piece in edits:
        at = int(where * (len(raw) - 1))
        if how == "set":
            raw[at] = byte
        elif how == "cut":
            del raw[at:at + byte % 50 + 1]
        else:
            raw[at:at] = piece
    for message in (bytes(raw), junk):
        decision = decide(message, [verp], config, NOW)
        assert decision.kind in set(Kind)
        assert not decision.reason.startswith("unreadable"), decision.reason


@pytest.mark.parametrize("sender", [b"From: MAILER-DAEMON@mx.example.com\r\n", b"From:\r\n", b""])
def test_qmail_bounce_is_read_even_without_a_from(config: Settings, sender: bytes) -> None:
    """flufl.bounce's Sina and Yale detectors index the From addresses and, with none, stop the
    scan before the qmail detector runs; the processor gives them a placeholder."""
    verp = bounce_address(config, 14)
    raw = sample("qmail_plain.eml", bounce_address=verp).replace(
        b"From: MAILER-DAEMON@mx.example.com\r\n", sender)
    decision = decide(raw, [verp], config, NOW)
    assert (decision.kind, decision.delivery_id, decision.status) == (Kind.HARD_BOUNCE, 14, "5.1.1")
