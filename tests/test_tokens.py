"""Feedback tokens: signed per subscriber and paper, refused when altered or when the
subscriber's nonce has rotated."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer

from newsletter.config import Settings
from newsletter.store.models import Subscriber
from newsletter.tokens import (
    FeedbackLinks,
    InvalidToken,
    Purpose,
    feedback_check,
    feedback_matches,
    read_token,
    token_writer,
)


def _person(subscriber_id: int = 7, nonce: str = "n0nce") -> Subscriber:
    return Subscriber(id=subscriber_id, email="a@example.org", token_nonce=nonce)


def test_a_token_names_its_subscriber_and_paper(make_settings: Callable[..., Settings]) -> None:
    links = FeedbackLinks(make_settings())
    token = links.token(7, 42, feedback_check("n0nce"))
    claims = links.read(token)
    assert (claims.subscriber_id, claims.paper_id) == (7, 42)
    assert feedback_matches(claims, _person())
    assert links.url("more-like-this", token).endswith(f"/more-like-this/{token}")
    more, less = links.urls(token)
    assert more.endswith(f"/more-like-this/{token}") and less.endswith(f"/not-for-me/{token}")


def test_other_subscriber_or_paper_means_another_token(
    make_settings: Callable[..., Settings],
) -> None:
    links = FeedbackLinks(make_settings())
    check = feedback_check("n0nce")
    tokens = {links.token(7, 42, check), links.token(8, 42, check), links.token(7, 43, check)}
    assert len(tokens) == 3


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t.replace("7.42.", "8.42.", 1),  # another subscriber
        lambda t: t.replace("7.42.", "7.43.", 1),  # another paper
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature
        lambda t: t.rpartition(".")[0],  # signature cut off
        lambda t: "",
        lambda t: "not-a-token",
    ],
)
def test_altered_tokens_are_refused(
    make_settings: Callable[..., Settings], alter: Callable[[str], str]
) -> None:
    links = FeedbackLinks(make_settings())
    token = links.token(7, 42, feedback_check("n0nce"))
    with pytest.raises(InvalidToken):
        links.read(alter(token))


def test_another_key_or_purpose_does_not_verify(make_settings: Callable[..., Settings]) -> None:
    from newsletter.tokens import Purpose, make_token

    ours = FeedbackLinks(make_settings(secret_key="k" * 40))
    theirs = FeedbackLinks(make_settings(secret_key="x" * 40))
    with pytest.raises(InvalidToken):
        ours.read(theirs.token(7, 42, "c"))
    with pytest.raises(InvalidToken):  # a preferences token is no feedback token
        ours.read(make_token(make_settings(secret_key="k" * 40), Purpose.PREFERENCES, _person()))


def test_rotating_the_nonce_voids_feedback_links(make_settings: Callable[..., Settings]) -> None:
    links = FeedbackLinks(make_settings())
    claims = links.read(links.token(7, 42, feedback_check("old")))
    assert feedback_matches(claims, _person(nonce="old"))
    assert not feedback_matches(claims, _person(nonce="new"))
    assert not feedback_matches(claims, None)


@pytest.mark.parametrize("check", ["0123456789abcdef", "0000000000000000", "n0nce", "a" * 40])
def test_written_tokens_are_itsdangerous_tokens(
    check: str, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """TokenWriter writes what itsdangerous writes (compressed payloads included: the long
    repetitive check), for every purpose, and read_token reads it."""
    settings = make_settings()
    at = 1_714_546_800
    monkeypatch.setattr(time, "time", lambda: at)
    expected = [URLSafeTimedSerializer(settings.signing_key(), salt=f"newsletter.{p.value}")
                .dumps([12345, check]) for p in Purpose]
    written = token_writer(settings.signing_key()).tokens(list(Purpose), 12345, check, at)
    assert written == expected
    assert written[-1].startswith(".") == (len(set(check)) == 1)  # repetitive: compressed
    for purpose, token in zip(Purpose, written, strict=True):
        claims = read_token(settings, purpose, token, now=datetime.fromtimestamp(at, UTC))
        assert (claims.subscriber_id, claims.check) == (12345, check)
