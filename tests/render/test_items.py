"""What one digest item shows: links, authors, the one-line summary, words cut whole."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from newsletter.render.items import shown_authors
from newsletter.render.links import page_url, paper_links, safe_url, title_search_url
from newsletter.render.summary import contribution_sentence, one_line_summary, sentences

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter" / "sources" / "sample" / "papers.json"


def linked(**values: object) -> SimpleNamespace:
    base: dict[str, object] = {"title": "A  Paper: on Things", "arxiv_id": None, "url": None,
                               "pdf_url": None, "github_url": None, "sources": []}
    base.update(values)
    return SimpleNamespace(**base)


def test_links_prefer_the_hugging_face_page_then_the_abstract_then_a_search() -> None:
    from_hf = linked(arxiv_id="2406.06525", url="https://arxiv.org/abs/2406.06525",
                     sources=["arxiv", "hf"], github_url="https://github.com/a/b")
    links = paper_links(from_hf)  # type: ignore[arg-type]
    assert links.page == "https://huggingface.co/papers/2406.06525"
    assert links.pdf == "https://arxiv.org/pdf/2406.06525"
    assert links.code == "https://github.com/a/b"
    assert page_url(linked(arxiv_id="2406.06525", sources=["arxiv"])) == (  # type: ignore[arg-type]
        "https://arxiv.org/abs/2406.06525")
    bare = paper_links(linked(github_url="javascript:alert(1)"))  # type: ignore[arg-type]
    assert bare.page == title_search_url("A Paper: on Things")
    assert bare.page == "https://arxiv.org/search/?query=A+Paper%3A+on+Things&searchtype=title"
    assert bare.pdf is None and bare.code is None


def test_only_plain_web_links_are_kept() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://ok.example/x") == "https://ok.example/x"
    assert safe_url("https://ok.example/a b") is None
    assert safe_url("//no-scheme.example") is None


def test_three_authors_then_et_al_and_followed_authors_always_shown() -> None:
    names = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Jane Q. Doe"]
    authors, et_al = shown_authors(names)
    assert [a.name for a in authors] == names[:3] and et_al
    authors, et_al = shown_authors(names, followed=["J. Doe", "Alan Turing"])
    assert [(a.name, a.followed) for a in authors] == [
        ("Ada Lovelace", False), ("Alan Turing", True), ("Grace Hopper", False),
        ("Jane Q. Doe", True),
    ]
    assert et_al  # Dijkstra is left out
    authors, et_al = shown_authors(["Ada  Lovelace", " ", "Alan Turing"])
    assert [a.name for a in authors] == ["Ada Lovelace", "Alan Turing"] and not et_al


def test_summary_is_hugging_faces_when_given_else_the_contribution_sentence() -> None:
    abstract = (
        "Large language models are everywhere. However, they hallucinate (Smith et al. 2023). "
        "To address this, we propose FactCheck, a decoder that cites its sources. "
        "Code is available at https://github.com/x/y."
    )
    assert one_line_summary("  An AI summary.\n", abstract) == "An AI summary."
    assert one_line_summary(None, abstract) == (
        "We propose FactCheck, a decoder that cites its sources.")
    assert contribution_sentence("Only background here, said at some length.") == (
        "Only background here, said at some length.")
    assert contribution_sentence("") == ""
    assert "github" not in contribution_sentence("See https://github.com/x. We study cats.")


def test_summary_avoids_a_sentence_that_points_back_and_drops_list_numbers() -> None:
    """From two sample abstracts (Physics of Language Models 3.1, IndicSUPERB), shortened."""
    knowledge = (
        "Large language models store vast knowledge. But can they extract it when asked? "
        "We investigate this issue using a controlled biography dataset. "
        "We find a strong correlation between the model's ability to extract knowledge and "
        "various diversity measures of the training data."
    )
    assert contribution_sentence(knowledge).startswith("We find a strong correlation")
    indic = (
        "Speech language understanding has followed the trajectory of GLUE. "
        "In this work, we extend this to Indic languages by releasing IndicSUPERB. "
        "(i) We collect Kathbath containing 1,684 hours of labelled speech data across 12 "
        "Indian languages."
    )
    assert contribution_sentence(indic).startswith("We collect Kathbath containing 1,684 hours")
    # The paper's own results are not a pointer back.
    assert contribution_sentence(
        "Models are big. We train small ones on in-domain data for a week. These results "
        "demonstrate that in-domain pre-training is an affordable alternative."
    ).startswith("These results demonstrate")


def test_summary_reads_numbered_lists_and_the_passive_contribution() -> None:
    """From sample abstracts (Scalable Parameter and Memory Efficient Pretraining, Attention Is
    Not All You Need Anymore, GPTQ, GeoPlant, POINTS, KaLM-Embedding-V2), shortened."""
    # sentencex alone returned "(2) We perform ... . We observe ... ." as one long sentence.
    listed = (
        "Models have grown fast. Numerous approaches have been explored, such as LoRA. "
        "(1) We begin by conducting a survey of efficient pre-training. "
        "(2) We perform a benchmark evaluation of representative approaches across model "
        "sizes. We observe that full-rank training delivers the best performance, as expected "
        "by most of the people who have tried it on models of any size and on any data. "
        "(3) Finally, we propose two practical techniques, namely weight refactorization and "
        "momentum reset. We observe that these techniques help."
    )
    assert sentences(listed)[3] == (
        "(2) We perform a benchmark evaluation of representative approaches across model sizes.")
    # An enumeration inside a sentence stays in it (sentencex cut "... capable of" off), and
    # a bracket is not a list ("Table I) The").
    inline = (
        "Gaps remain. This gap may be addressed by systems that are capable of 1) Continuous "
        "Learning, 2) Transfer, and 3) Scalability. Results are in the appendix (see Table I) "
        "The rest is below."
    )
    assert sentences(inline) == [
        "Gaps remain.",
        "This gap may be addressed by systems that are capable of 1) Continuous Learning, "
        "2) Transfer, and 3) Scalability.",
        "Results are in the appendix (see Table I) The rest is below.",
    ]
    assert contribution_sentence(listed) == (
        "We propose two practical techniques, namely weight refactorization and momentum reset.")
    passive = (
        "In recent years, the Transformer has achieved great success. Many existing works were "
        "proposed to reduce its cost. In this paper, a family of drop-in replacements for "
        "self-attention, called the Extractors, is proposed."
    )
    assert contribution_sentence(passive).endswith("called the Extractors, is proposed.")
    assert contribution_sentence(  # the passive of someone else's work is background
        "Settings where a new loss is proposed every year are common. We find that few of "
        "these losses help on small models."
    ).startswith("We find that few")
    assert contribution_sentence(
        "Large models need many GPUs. In this paper, we address this challenge, and propose "
        "GPTQ, a one-shot quantization method. We also show that it works at 2 bits."
    ).startswith("We address this challenge, and propose GPTQ")
    assert contribution_sentence(
        "Monitoring biodiversity is hard. In light of that, we have designed and developed a new "
        "European-scale dataset for species distribution models."
    ).startswith("We have designed and developed a new European-scale dataset")
    # A line that announces a list says nothing alone; the items' introduction beats an item.
    announced = (
        "Vision-language models have made strides in many tasks. To address these issues, we "
        "propose the following contributions: 1) We trained a robust baseline model."
    )
    assert not contribution_sentence(announced).endswith(":")
    assert contribution_sentence(
        "We propose KaLM, a compact embedding model that performs well on many tasks. Our key "
        "innovations include: (1) We collect many categories of data for pre-training."
    ).startswith("We propose KaLM")


def test_summary_finds_the_papers_own_work_whatever_its_verb() -> None:
    """From sample abstracts (Visual Continual Learning, the medical BERT, Intrinsic
    Dimensionality, Model soups), shortened: "In this paper, we revisit ..." and "Our proposed
    method ..." beat background, but not a finding, and an opinion is not work done."""
    revisit = (
        "Continual learning aims to empower models to learn new tasks without forgetting. "
        "Existing methods commonly utilize one-hot labels. In this paper, we revisit the role of "
        "the classifier head and replace it with semantic knowledge from language models."
    )
    assert contribution_sentence(revisit).startswith("We revisit the role of the classifier")
    assert contribution_sentence(
        "Pre-training on raw texts has made a significant contribution to transfer learning. "
        "Our proposed method consists of a single intervention: simultaneous pre-training "
        "after up-sampling."
    ).startswith("Our proposed method consists of")
    assert contribution_sentence(
        "Fine-tuning is well understood. In this paper, we argue that the intrinsic dimension "
        "explains fine-tuning. We empirically show that common pre-trained models have a very "
        "low intrinsic dimension."
    ).startswith("We empirically show")
    assert contribution_sentence(
        "Models are often fine-tuned. In this work, we revisit the second step of this "
        "procedure. We show that averaging the weights of fine-tuned models improves accuracy."
    ).startswith("We show that averaging")
    # From ELECTRA and the Urdu summarization paper: the lead-in goes.
    assert contribution_sentence(
        "Masked language modeling is costly. As an alternative, we propose a more "
        "sample-efficient pre-training task called replaced token detection."
    ) == "We propose a more sample-efficient pre-training task called replaced token detection."
    assert contribution_sentence(
        "Considering the limited resources for low-resource languages, we propose a method "
        "for low-resource summarization."
    ) == "We propose a method for low-resource summarization."
    assert contribution_sentence(
        "Review comments are hard to generate. In this work, first we fine-tune open-source "
        "models on consumer-grade hardware."
    ) == "First we fine-tune open-source models on consumer-grade hardware."
    assert contribution_sentence(
        "Web pages are hard to read for models. Therefore, this research investigates how "
        "retrieval helps extraction from HTML."
    ) == "This research investigates how retrieval helps extraction from HTML."


def test_summary_reads_tex_as_a_reader_would() -> None:
    """arXiv abstracts are TeX source and are stored as published; the line is not."""
    abstract = (
        r"Documents come in many layouts. We introduce \'Eclair, a text-extraction tool that "
        r"cuts the error rate by 33.9\% on scanned pages."
    )
    assert one_line_summary(None, abstract) == (
        "We introduce Éclair, a text-extraction tool that cuts the error rate by 33.9% on "
        "scanned pages."
    )
    plain = "We show that 50% of $n<k$ cases fail."
    assert one_line_summary(None, plain) == plain  # no TeX: exactly as published


def test_every_sample_summary_is_a_whole_sentence_of_its_abstract() -> None:
    for paper in json.loads(SAMPLE.read_text(encoding="utf-8")):
        summary = contribution_sentence(paper["abstract"])
        whole = sentences(paper["abstract"])
        assert summary, paper["title"]
        assert any(s.endswith(summary[1:]) for s in whole), paper["title"]
        assert not summary.lower().startswith("we release our code"), summary
