"""The packaged sentence-embedding model run with numpy, so the semantic extra needs no torch.

all-MiniLM-L6-v2 is a six-layer BERT encoder followed by mean pooling and L2 normalisation
(the model folder's ``config.json``, ``1_Pooling`` and ``modules.json`` say so). Its weights
ship as safetensors and its tokenizer as ``tokenizer.json``, which ``safetensors`` and
``tokenizers`` read without torch. Written here rather than run through sentence-transformers
because torch and transformers are ~900 MB against ~15 MB for these two; the forward pass below
is the standard BERT one, and ``tests/matching/test_minilm.py`` holds it to vectors that
sentence-transformers computed for the same texts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from newsletter.errors import ConfigurationError

Array = np.ndarray[Any, np.dtype[np.float32]]
# Texts are cut at this many tokens when the model folder does not say (sentence-transformers'
# value for this model; its tokenizer.json says 128, which sentence-transformers overrides).
MAX_TOKENS = 256
BATCH = 32


@dataclass(frozen=True)
class Layer:
    """One encoder layer's weights, linear maps stored (in, out) and Q, K, V side by side."""

    qkv: Array
    qkv_bias: Array
    attention_out: Array
    attention_out_bias: Array
    norm1: tuple[Array, Array]
    up: Array
    up_bias: Array
    down: Array
    down_bias: Array
    norm2: tuple[Array, Array]


def _layer_norm(x: Array, norm: tuple[Array, Array], eps: float) -> Array:
    centred = x - x.mean(-1, keepdims=True)
    variance = (centred * centred).mean(-1, keepdims=True)
    out: Array = centred / np.sqrt(variance + np.float32(eps)) * norm[0] + norm[1]
    return out


# Abramowitz & Stegun 7.1.26: erf within 1.5e-7 for x >= 0, in a handful of float32 array
# operations; scipy.special.erf is exact but took 40% of the encoder's time.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736,
                                        0.254829592))


def _gelu(x: Array, rows: int = 128) -> Array:
    """BERT's "gelu", the erf form: x / 2 * (1 + erf(x / sqrt 2)), a block of rows at a time
    (a block's dozen temporaries stay in the CPU cache; whole, they were 40% of the time)."""
    out = np.empty_like(x)
    for start in range(0, len(x), rows):
        out[start : start + rows] = _gelu_block(x[start : start + rows])
    return out


def _gelu_block(x: Array) -> Array:
    a = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = np.float32(1.0) / (np.float32(1.0) + _ERF_P * a)
    poly = np.full_like(t, _ERF_A[0])
    for coefficient in _ERF_A[1:]:
        poly *= t
        poly += coefficient
    poly *= t
    tail = poly * np.exp(-(a * a))  # 1 - erf(|x| / sqrt 2)
    out: Array = np.float32(0.5) * x * np.where(x >= 0, np.float32(2.0) - tail, tail)
    return out


class MiniLM:
    """Loaded once from a sentence-transformers model folder; ``encode`` gives unit rows."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        if config.get("hidden_act") != "gelu" or config.get(
            "position_embedding_type", "absolute"
        ) != "absolute":
            raise ConfigurationError(f"{folder}: not a BERT encoder this module can run")
        sentence = folder / "sentence_bert_config.json"
        settings = json.loads(sentence.read_text()) if sentence.exists() else {}
        limit = settings.get("max_seq_length")
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        raw = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items()}
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(w, f"encoder.layer.{i}.")
                       for i in range(int(config["num_hidden_layers"]))]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=int(limit or MAX_TOKENS))

    @staticmethod
    def _layer(w: dict[str, Array], p: str) -> Layer:
        def t(name: str) -> Array:
            return np.ascontiguousarray(w[p + name].T)  # PyTorch keeps (out, in)

        parts = ("query", "key", "value")
        return Layer(
            np.concatenate([t(f"attention.self.{n}.weight") for n in parts], axis=1),
            np.concatenate([w[p + f"attention.self.{n}.bias"] for n in parts]),
            t("attention.output.dense.weight"),
            w[p + "attention.output.dense.bias"],
            (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
            t("intermediate.dense.weight"),
            w[p + "intermediate.dense.bias"],
            t("output.dense.weight"),
            w[p + "output.dense.bias"],
            (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        )

    def encode(self, texts: list[str]) -> Array:
        """(texts, 384) unit vectors; texts of like length are batched together (less padding)."""
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        out = np.zeros((len(texts), self.words.shape[1]), np.float32)
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(texts), BATCH):
            rows = order[start : start + BATCH]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), np.int64)
            mask = np.zeros((len(rows), width), np.float32)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = encodings[i].ids
                mask[r, : lengths[i]] = 1.0
            out[rows] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray[Any, np.dtype[np.int64]], mask: Array) -> Array:
        batch, width = ids.shape
        x = self.words[ids] + self.positions[:width][None] + self.token_type[None, None]
        x = _layer_norm(x, self.norm, self.eps)
        size = x.shape[-1]
        head = size // self.heads
        # Padding is never attended to: its scores get the lowest float before the softmax.
        padding = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min)
        padding = padding.astype(np.float32)
        scale = np.float32(1.0 / math.sqrt(head))
        x = x.reshape(batch * width, size)
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, width, 3, self.heads, head)
            q, k, v = np.ascontiguousarray(qkv.transpose(2, 0, 3, 1, 4))  # each (b, h, t, d)
            context = np.empty((batch, width, size), np.float32)
            for b in range(batch):  # one text at a time: its (heads, t, t) scores stay small
                scores = (q[b] * scale) @ k[b].transpose(0, 2, 1) + padding[b]
                scores -= scores.max(-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(-1, keepdims=True)
                context[b] = (scores @ v[b]).transpose(1, 0, 2).reshape(width, size)
            context = context.reshape(batch * width, size)
            attended = context @ layer.attention_out + layer.attention_out_bias + x
            x = _layer_norm(attended, layer.norm1, self.eps)
            hidden = _gelu(x @ layer.up + layer.up_bias) @ layer.down + layer.down_bias
            x = _layer_norm(hidden + x, layer.norm2, self.eps)
        tokens = x.reshape(batch, width, size) * mask[:, :, None]
        pooled = tokens.sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        result: Array = (pooled / norms).astype(np.float32)
        return result
