"""How much each paper resembles every topic at once: the part of a likeness that says nothing.

A survey of foundation models or a technical report of a general LLM shares a few words with
almost any topic ("artificial intelligence", "pre-training", "benchmark"), so it sits above the
typical paper for topics it is not about, and a short typed topic ("medical AI", "AI safety")
picks it up. Its likeness to the field's typical topics, the curated catalog's, measures that:
a paper about one thing resembles one or two of them, a paper about everything resembles them
all a little. Subtracting it from a topic's scores before they are standardised (a
cross-domain similarity local scaling, as in Conneau et al. 2018, with topics on one side)
leaves what the paper shares with this topic beyond what it shares with any topic.

The catalog is read here as a sample of the field, not as anyone's topic: a subscriber's ticked
topic is still judged as if typed, and a typed topic far from every catalog entry is scaled the
same way (measured in ``make eval`` with each topic's own catalog twin left out).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from newsletter.matching.catalog import CATALOG
from newsletter.matching.corpus import Corpus
from newsletter.matching.query import query_matrix, query_terms
from newsletter.preferences import TopicSpec


def generic_likeness(corpus: Corpus, matrix: sp.csr_matrix) -> np.ndarray:
    """Each row's mean cosine with the catalog's topics, as people type them (label and
    keywords: the descriptions' many common words would make every paper look generic)."""
    typical = [TopicSpec.build(topic.label, topic.keywords) for topic in CATALOG]
    queries = query_matrix([query_terms(topic, corpus) for topic in typical], corpus)
    return np.asarray((matrix @ queries.T).mean(axis=1), dtype=np.float64).ravel()
