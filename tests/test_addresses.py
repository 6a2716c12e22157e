"""One address rule from form to envelope: what the form accepts, the builder sends."""

from __future__ import annotations

import pytest
from email_validator import validate_email
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newsletter.addresses import CANONICAL, canonical_address, is_canonical
from newsletter.delivery.messages.headers import validate_address
from newsletter.errors import InvalidInput
from newsletter.store.subscribers import normalize_email


@pytest.mark.parametrize(
    ("given_address", "stored"),
    [
        ("Ada@Example.org", "ada@example.org"),
        ("  a.b+tag@sub.example.co.uk ", "a.b+tag@sub.example.co.uk"),
        ("jose@exämple.org", "jose@xn--exmple-cua.org"),
        ("a@BÜCHER.example", "a@xn--bcher-kva.example"),
        ("a@xn--bcher-kva.example", "a@xn--bcher-kva.example"),
    ],
)
def test_every_entry_point_stores_what_the_envelope_gets(given_address: str, stored: str) -> None:
    assert canonical_address(given_address) == stored
    assert normalize_email(given_address) == stored  # form, CLI, import
    assert validate_address(given_address) == stored  # message builder


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("josé@exämple.org", r"part before the @ has only plain letters.*'é'"),
        ("名前@example.org", r"part before the @ .*'名前'"),
        ("a@b.org\r\nBcc: c@d.org", "line breaks"),
        ("a b@c.org", "invalid characters before the @-sign: SPACE"),
        ("<a@b.org>", "angle brackets .* are not permitted"),
        ("a@b.org, c@d.org", "after the @-sign contains invalid characters"),
        ("nope", "must have an @-sign"),
        ("a@localhost", "should have a period|special-use"),
        ("a@x.test", "special-use"),
        ("0@00--0.aa", "two letters followed by two dashes"),
    ],
)
def test_the_same_refusal_everywhere(address: str, reason: str) -> None:
    for check in (canonical_address, normalize_email, validate_address):
        with pytest.raises(InvalidInput, match=reason):
            check(address)


@settings(max_examples=150, deadline=None)
@given(st.from_regex(CANONICAL, fullmatch=True))
def test_the_shortcut_agrees_with_the_library(address: str) -> None:
    """Whatever the regular expression lets through unchecked, email-validator accepts as it
    is: the shortcut is only a faster path to the same answer."""
    assume(is_canonical(address))
    result = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    assert result.ascii_email is not None and result.ascii_email.lower() == address
