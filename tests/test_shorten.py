"""One line of text, shortened at a word (subjects, previews, why-lines)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newsletter.shorten import ELLIPSIS, cut_at_word


@given(st.text(alphabet=st.sampled_from("ab c-\n"), max_size=120), st.integers(5, 90))
def test_cut_never_ends_inside_a_word(text: str, limit: int) -> None:
    clean = " ".join(text.split())
    cut = cut_at_word(text, limit)
    if cut == clean:
        return
    kept = cut.removesuffix(ELLIPSIS)
    assert cut.endswith(ELLIPSIS) and clean.startswith(kept) and len(kept) < len(clean)
    rest = clean[len(kept):]
    # what was dropped starts at a space, or with the cut word's trailing punctuation
    assert rest[0] == " " or rest.split(" ")[0].strip(" ,;:.-–—(/") == ""
    assert len(cut) <= limit or " " not in kept


def test_cut_examples() -> None:
    title = "When Long-Sequence Models Require Efficient Attention: A Study"
    assert cut_at_word(title, 40) == "When Long-Sequence Models Require…"
    assert cut_at_word("Supercalifragilistic words", 8) == "Supercalifragilistic…"
    assert cut_at_word("short  title", 40) == "short title"


def test_a_cut_line_does_not_end_on_a_dangling_word() -> None:
    assert cut_at_word("Instruction tuning and alignment", 24) == "Instruction tuning…"
    assert cut_at_word("Reasoning in language models", 13) == "Reasoning…"
    title = "Augmenting Wav2Vec 2.0 for Superior ASR in Low-Resource Languages"
    assert cut_at_word(title, 28) == "Augmenting Wav2Vec 2.0…"
    # A cut that falls just after a whole word keeps that word.
    assert cut_at_word("LLM agents and tool use", 11) == "LLM agents…"


def test_strict_cuts_even_a_first_word() -> None:
    assert cut_at_word("Supercalifragilistic words", 8, strict=True) == "Superca…"
    assert cut_at_word("short title", 40, strict=True) == "short title"
