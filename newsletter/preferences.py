"""What a subscriber asks for, as plain values shared by the CLI, the web form and matching."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsletter.errors import InvalidInput

MAX_LABEL = 200
MAX_TERMS = 50
MAX_TERM = 100


def _terms(values: list[str] | tuple[str, ...] | str, what: str) -> tuple[str, ...]:
    """Clean a list of words: split on commas/semicolons, strip, drop empties and repeats."""
    raw = [values] if isinstance(values, str) else list(values)
    seen: dict[str, str] = {}
    for value in raw:
        for part in value.replace(";", ",").split(","):
            term = " ".join(part.split())
            if not term:
                continue
            if len(term) > MAX_TERM:
                raise InvalidInput(f"each of the {what} must be at most {MAX_TERM} characters")
            seen.setdefault(term.casefold(), term)
    if len(seen) > MAX_TERMS:
        raise InvalidInput(f"at most {MAX_TERMS} {what} per topic")
    return tuple(seen.values())


@dataclass(frozen=True)
class Example:
    """A paper the reader has judged for a topic ("more like this" or "not for me").

    Plain values only, so a topic with its verdicts stays hashable and a run can share the work
    between every subscriber holding the same profile. ``weight`` is 1 for a fresh verdict and
    fades towards 0 as it ages; the caller computes it from the verdict's date.
    """

    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass(frozen=True)
class TopicSpec:
    """One topic: a label as a person types it plus optional keywords, authors and exclusions."""

    label: str
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    description: str = field(default="", compare=False)
    # The reader's verdicts on papers for this topic: liked pull look-alikes in, disliked push out.
    liked: tuple[Example, ...] = ()
    disliked: tuple[Example, ...] = ()

    @classmethod
    def build(
        cls,
        label: str,
        keywords: list[str] | tuple[str, ...] | str = (),
        authors: list[str] | tuple[str, ...] | str = (),
        excluded: list[str] | tuple[str, ...] | str = (),
        description: str = "",
    ) -> TopicSpec:
        clean = " ".join(label.split())
        kws = _terms(keywords, "keywords")
        if not clean and kws:
            clean = ", ".join(kws[:3])
        if not clean:
            raise InvalidInput("a topic needs a label or some keywords")
        if len(clean) > MAX_LABEL:
            raise InvalidInput(f"a topic label must be at most {MAX_LABEL} characters")
        return cls(
            label=clean,
            keywords=kws,
            authors=_terms(authors, "authors"),
            excluded=_terms(excluded, "excluded words"),
            description=description,
        )

    @classmethod
    def parse(cls, text: str) -> TopicSpec:
        """``"model compression: quantization, distillation"`` -> label plus keywords."""
        label, _, keywords = text.partition(":")
        return cls.build(label, keywords)
