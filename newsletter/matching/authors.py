"""Followed authors: a paper by someone the subscriber follows is relevant whatever its words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from newsletter.matching.text import words


def name_key(name: str) -> tuple[str, ...]:
    return tuple(words(name))


def _short_form(key: tuple[str, ...]) -> tuple[str, str] | None:
    """ "Jane Q. Doe" and "J. Doe" are the same person in author lists often enough."""
    if len(key) < 2:
        return None
    return key[0][0], key[-1]


def followed_author(paper_authors: Sequence[str], followed: Iterable[str]) -> str | None:
    """The followed name (as the subscriber typed it) of the first matching author, if any."""
    wanted = [(name, name_key(name)) for name in followed]
    if not wanted:
        return None
    keys = [name_key(author) for author in paper_authors]
    for typed, key in wanted:
        if not key:
            continue
        short = _short_form(key)
        for author in keys:
            if author == key:
                return typed
            both_full = len(author[0]) > 1 and len(key[0]) > 1
            if short and not both_full and _short_form(author) == short:
                return typed
    return None
