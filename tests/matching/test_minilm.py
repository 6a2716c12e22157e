"""The numpy encoder against vectors sentence-transformers (on torch) gave for the same texts.

``data/minilm_reference.json`` was computed once with sentence-transformers 6.2.0 and torch
2.13.0 (``normalize_embeddings=True``) from the same packaged model; two of its texts are longer
than the model's 256 tokens, so truncation is held to the reference too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

from newsletter.matching import semantic
from newsletter.matching.minilm import _gelu

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"
needs_model = pytest.mark.skipif(
    not semantic.installed(), reason="needs the semantic extra (make venv installs it)"
)


def test_gelu_is_the_erf_form() -> None:
    x = np.linspace(-8, 8, 10_001, dtype=np.float32).reshape(-1, 1)
    exact = 0.5 * x.astype(np.float64) * (1 + erf(x.astype(np.float64) / math.sqrt(2)))
    assert np.abs(_gelu(x) - exact).max() < 1e-6


@needs_model
def test_vectors_match_sentence_transformers() -> None:
    reference = json.loads(REFERENCE.read_text())
    vectors = semantic.embed(reference["texts"])
    expected = np.array(reference["vectors"])
    assert vectors.shape == expected.shape == (5, 384)
    assert np.abs(vectors - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@needs_model
def test_a_text_reads_the_same_alone_and_beside_longer_ones() -> None:
    """Padding in a batch is masked out: a short text's vector does not depend on its batch."""
    reference = json.loads(REFERENCE.read_text())
    alone = semantic.embed(reference["texts"][:1])
    batched = semantic.embed(reference["texts"])[:1]
    assert np.abs(alone - batched).max() < 1e-5
