"""One line that says what a paper contributes, never a paragraph cut off mid-thought.

Hugging Face's ``ai_summary`` is written for exactly this and is used when a listing has it.
Otherwise one whole sentence of the abstract is chosen: abstracts open with background ("Large
language models are ..."), and the sentence a reader wants is the one stating the contribution
("we propose ...", "this paper introduces ..."). Sentences are split by ``sentencex``
(Wikimedia's segmenter), which knows "et al.", "e.g." and "Fig. 2" are not sentence ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sentencex import segment

from newsletter.sources.latex import tex_to_unicode

_MAKES = (
    "propose", "introduce", "present", "develop", "design", "build", "release", "contribute",
    "construct", "devise", "formulate", "curate", "offer", "unveil", "establish", "create",
    "describe", "collect",
)
# Verbs whose present passive states the paper's own contribution ("Extractors are proposed");
# "were proposed", "have been proposed" and "data are collected from" tell the background.
_PASSIVE = frozenset({"propose", "introduce", "present"})
_FINDS = (
    "show", "demonstrate", "find", "prove", "study", "investigate", "explore", "analyze",
    "analyse", "evaluate", "report", "reveal", "examine", "identify", "indicate", "suggest",
    "confirm",
)
# What authors call their own work: "this paper", "in this study", "our research".
_WORK = r"(?:paper|work|study|article|report|research)"


def _third_person(verb: str) -> str:
    if verb.endswith("y"):
        return verb[:-1] + "ies"
    return verb + ("es" if verb.endswith(("sh", "ch", "s", "x")) else "s")


def _past(verb: str) -> str:
    irregular = {"find": "found", "build": "built"}
    if verb in irregular:
        return irregular[verb]
    if verb.endswith("y"):
        return verb[:-1] + "ied"
    return verb + ("d" if verb.endswith("e") else "ed")


def _gerund(verb: str) -> str:
    return (verb[:-1] if verb.endswith("e") else verb) + "ing"


def _cue(verbs: tuple[str, ...]) -> re.Pattern[str]:
    """"we (also) propose(d)", "we have designed", "we address X, and propose", "this paper
    (first) proposes", "our results show", "by proposing", and for a few verbs the passive
    beside "here" or "this paper": "in this paper, the Extractors are proposed"."""
    base = "|".join([*verbs, *(_past(v) for v in verbs)])
    third = "|".join(_third_person(v) for v in verbs)
    done = "|".join(_past(v) for v in verbs if v in _PASSIVE) or r"(?!)"
    subject = rf"(?:this|our|the present)\s+(?:{_WORK}|analysis|method)"
    results = r"(?:our|the|these)\s+(?:results|findings|experiments|analyses)"
    adverb = r"(?:\s+\w+ly|\s+also|\s+further|\s+then|\s+first)?"
    # The passive names the paper's own work only beside "here" or "in this paper":
    # "the order in which results are presented" says nothing of it.
    here = rf"(?:here|(?:in\s+)?this\s+{_WORK})"
    return re.compile(
        rf"\b(?:we(?:\s+ha(?:ve|d))?{adverb}\s+(?:{base})|"
        rf"we\s[^.;]{{0,80}}?,\s+and{adverb}\s+(?:{base})|"
        rf"{subject}\s+(?:\w+ly\s+|also\s+)?(?:{third})|{results}\s+(?:\w+ly\s+)?(?:{base})|"
        rf"{here}\b[^.;]*?\b(?:is|are){adverb}\s+(?:{done})\b|"
        rf"\b(?:is|are){adverb}\s+(?:{done})\s+{here}|"
        rf"by\s+(?:{'|'.join(_gerund(v) for v in verbs)}))\b",
        re.IGNORECASE,
    )


_MADE = _cue(_MAKES)
_FOUND = _cue(_FINDS)
# The paper's own work, whatever the verb: "In this paper, we revisit ...", "In this work, first
# we fine-tune ...", "Our proposed approach, named SatMAE++, performs ...". Below a finding: "We
# show that averaging the weights ... improves accuracy" says more than "we revisit the second
# step of this procedure". What the authors think ("In this paper, we argue that ...") is not
# what they did.
_OWN_WORK = re.compile(
    rf"^(?:in\s+)?this\s+{_WORK},\s+(?:\w+\s+)?we\s+"
    r"(?!(?:argue|believe|think|hypothesi[sz]e|conjecture|posit|assume|note|observe)d?\b)|"
    r"^our\s+proposed\s+(?:method|approach|model|framework|system|technique|algorithm)\b",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"https?://|www\.|github|\b(?:code|data|models?|weights|dataset)s?\b[^.]{0,40}"
    r"\b(?:is|are|will be)\s+(?:publicly\s+|freely\s+|openly\s+)?(?:available|released)|"
    r"\bwe\s+(?:will\s+|have\s+)?(?:also\s+)?"
    r"(?:released?|open-sourced?|made\s+public|make\s+public)\s+(?:our|the|all)\b",
    re.IGNORECASE,
)
# "However, we ...", "To address this gap, we ...", "In this paper, we ...", "To overcome this,
# motivated by X, we ...", "As an alternative, we ...", "Considering the scarce data for X,
# we ...": the lead-in says nothing on its own line, and dropping it makes the line shorter.
_LEAD_IN = re.compile(
    r"^(?:however|to|in|towards?|here|therefore|thus|hence|motivated|inspired|building|based|"
    r"finally|lastly|first|second|third|specifically|instead|accordingly|consequently|with|against|"
    r"overall|additionally|moreover|furthermore|then|indeed|now|today|recently|considering|given|"
    r"following|unlike|despite|while|since|because|as)\b"
    r"[^,.;:]{0,80},\s+(?:[^,.;:]{0,80},\s+)?(?=(?:(?:first|then|also)\s+)?(?:we|this|our)\b)",
    re.IGNORECASE,
)
# A list item's label: "(i) We collect ...", "2) We train ...", "(c) We ...".
_LABEL = r"\(?(?:[ivxIVX]{1,4}|[a-hA-H]|\d{1,2})\)"
_NUMBERED = re.compile(rf"^{_LABEL}\s+(?=[A-Z])")  # a sentence that is an item
_LABELS = re.compile(rf"(?<!\S){_LABEL}(?=\s+[A-Z])")  # anywhere: "capable of 1) Continuous"
_LISTED = re.compile(rf":\s+{_LABEL}\s")  # a list announced, its first item in tow
# What a label's brackets become while sentencex reads the text (private-use characters).
_HIDDEN = str.maketrans({"(": "\ue001", ")": "\ue000"})
_SHOWN = str.maketrans({"\ue001": "(", "\ue000": ")"})
# One item of a list is one part of the contribution: the sentence that introduces them all
# ("We propose X, which ...") wins unless it is much longer.
ITEM = 0.5
# "We fill this gap ...", "These results show ...": a sentence that points back at the one before
# says little alone, so another with the same cue wins (after any lead-in: "In this work, we ...").
_POINTS_BACK = re.compile(
    r"^(?:we\s+\w+\s+(?:this|these|it|them)\b|"
    r"(?:it|they|such)\b|(?:these|those)(?!\s+(?:results|findings|experiments|analyses)\b)|"
    rf"this(?!\s+(?:{_WORK}|survey|thesis|technical|position)\b))",
    re.IGNORECASE,
)
POINTS_BACK = 1.0
# A line, not a paragraph: past GOOD_CHARS a sentence loses a little for every character, so a
# shorter sentence with a weaker cue can win; below MIN_CHARS it is a fragment ("We propose X.").
MIN_CHARS = 40
GOOD_CHARS = 180
CHARS_PER_POINT = 60.0
CUE_POINTS = {3: 3.0, 2: 1.5, 1: 1.0, 0: 0.0}
ANNOUNCES = CUE_POINTS[3]


@dataclass(frozen=True)
class _Candidate:
    text: str
    position: int

    @property
    def cue(self) -> int:
        """3: states what the paper makes; 2: what it finds; 1: what it does; 0: background."""
        if _MADE.search(self.text):
            return 3
        if _FOUND.search(self.text):
            return 2
        return 1 if _OWN_WORK.match(self.text) else 0

    @property
    def score(self) -> float:
        shown = _without_lead_in(self.text)
        size = len(shown)
        too_long = max(size - GOOD_CHARS, 0) / CHARS_PER_POINT
        too_short = 2.0 if size < MIN_CHARS else 0.0
        # "We propose the following:" announces what comes next and says nothing itself, nor
        # does it with the list's first item in tow ("We present three findings: (1) ...").
        announces = ANNOUNCES if shown.endswith(":") or _LISTED.search(shown) else 0.0
        back = POINTS_BACK if _POINTS_BACK.search(shown) else 0.0
        item = ITEM if _NUMBERED.match(self.text) else 0.0
        penalties = too_long + too_short + announces + back + item
        return CUE_POINTS[self.cue] - penalties - 0.01 * self.position


def sentences(text: str) -> list[str]:
    """Whole sentences, whitespace collapsed.

    sentencex (1.0) reads a list's labels ("(2) We ...", "capable of 1) Continuous Learning,
    2) ...") as sentence starts: it split before each one, leaving "... systems that are capable
    of" as a sentence, and then not after it ("(2) We ... . We observe ... ." came back as one).
    So it reads the text with the labels' brackets hidden, and they come back after.
    """
    clean = _LABELS.sub(lambda label: label.group().translate(_HIDDEN), " ".join(text.split()))
    parts = (" ".join(part.split()).translate(_SHOWN) for part in segment("en", clean))
    return [part for part in parts if part]


def contribution_sentence(abstract: str) -> str:
    """The sentence that states the contribution; the first sentence when none does."""
    found = [
        _Candidate(text, n)
        for n, text in enumerate(sentences(abstract))
        if not _BOILERPLATE.search(text)
    ]
    if not found:
        return ""
    best = max(found, key=lambda c: c.score)
    return _without_lead_in(best.text)


def _without_lead_in(sentence: str) -> str:
    rest = _LEAD_IN.sub("", _NUMBERED.sub("", sentence, count=1), count=1)
    return rest[:1].upper() + rest[1:] if rest != sentence else sentence


@lru_cache(maxsize=4096)
def one_line_summary(ai_summary: str | None, abstract: str) -> str:
    """The line under a paper's title, worked out once per paper and process: a digest entry is
    shared between recipients only when their why-lines agree, and typed topics' rarely do.

    Abstracts are stored as their feeds publish them, and arXiv's are TeX source: the chosen
    sentence is turned into what a reader expects ("We introduce \\'Eclair" -> "Éclair",
    "33.9\\%" -> "33.9%"), as titles are when stored.
    """
    given = " ".join((ai_summary or "").split())
    line = given or contribution_sentence(abstract)
    # Without TeX only its dashes change ("--" -> "–"), and pylatexenc is not loaded.
    return tex_to_unicode(line)
