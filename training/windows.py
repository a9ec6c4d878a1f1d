"""Long texts read whole: a text past a sentence encoder's token limit is cut into consecutive windows that each
fit, every window is encoded, and the text's vector is the windows' mean weighted by their word pieces (rescaled to
the windows' mean length, so a unit-norm encoder still gives unit vectors). A text that fits is encoded as it is;
the embedding signal and ``encode_sentences`` encode such texts apart from the windows, as plain encoding does, so
their vectors are unchanged to the bit.

Windows end where a word ends (never inside a word's pieces) when one ends in the window's last quarter. At most
``max_windows`` windows are read per text; what lies past them is left out (``WholeTexts.cut`` counts such texts).
Readers: the embedding signal (``labeler.signals.embedding``, at its model's 256 word pieces) and a ``logreg`` run's
frozen body (``training.setfit_backend.FrozenBodyClassifier``, at the run's 128) encode this way; SetFit's
contrastive step trains on ``window_texts``; the transformers backend cuts its own token windows the same way
(``training.transformers_backend.token_windows``, without the word-boundary step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

MAX_WINDOWS = 32  # per text: 32 windows of MiniLM's 254 pieces read about 8,000 word pieces (30,000 characters)
LONG_TEXTS = ("whole", "start")  # how a model reads a text past its limit: every window | the first


@dataclass
class WholeTexts:
    vectors: np.ndarray  # (N, dim) float32
    windows: np.ndarray  # (N,) windows read per text (1: encoded as it is)
    cut: int  # texts with more than max_windows windows: the rest of each left out


def window_spans(offsets: Sequence[tuple[int, int]], size: int, max_windows: int) -> tuple[list[tuple[int, int, int]], bool]:
    """([(first char, end char, word pieces)], cut) of the windows of a text whose word pieces (special tokens aside)
    have character ``offsets``: at most ``size`` pieces each, ending after a piece followed by whitespace (or the
    text's end) when such a piece lies in the window's last quarter; at most ``max_windows``. ``cut``: pieces were
    left over."""
    n, spans, start = len(offsets), [], 0
    while start < n and len(spans) < max_windows:
        end = min(start + size, n)
        if end < n:  # step back to a word boundary (the next piece starts after a gap), within a quarter window
            for e in range(end, max(start + size * 3 // 4, start + 1) - 1, -1):
                if offsets[e][0] > offsets[e - 1][1]:
                    end = e
                    break
        spans.append((offsets[start][0], offsets[end - 1][1], end - start))
        start = end
    return spans, start < n


def text_windows(tokenizer, texts: Sequence[str], limit: int, max_windows: int = MAX_WINDOWS
                 ) -> tuple[list[list[tuple[int, int, int]]], int]:
    """(spans per text, texts cut): each text's windows as ``window_spans`` gives them, for an encoder truncating at
    ``limit`` word pieces with special tokens ([CLS], [SEP]); a text that fits is one span, itself. Each text is
    tokenised no further than its windows reach."""
    size = max(limit - 2, 1)
    enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True, truncation=True,
                    max_length=size * max_windows + 1, verbose=False)
    spans, cut = [], 0
    for text, offsets in zip(texts, enc["offset_mapping"]):
        s, was_cut = ([(0, len(text), max(len(offsets), 1))], False) if len(offsets) <= size else \
            window_spans(offsets, size, max_windows)
        cut += was_cut
        spans.append(s)
    return spans, cut


def encode_whole(encode: Callable[[list[str]], np.ndarray], tokenizer, texts: Sequence[str], limit: int,
                 max_windows: int = MAX_WINDOWS, group: int = 64) -> WholeTexts:
    """Vectors of ``texts`` read whole. ``encode(texts) -> (N, dim)``: the encoder truncating at ``limit`` word
    pieces, special tokens included; ``tokenizer``: its (fast) tokenizer, for the pieces' character offsets. Texts
    are cut ``group`` at a time (memory stays bounded)."""
    texts = [str(t) for t in texts]
    vectors, windows, cut = [], [], 0
    for at in range(0, len(texts), group):
        part = texts[at:at + group]
        spans, n_cut = text_windows(tokenizer, part, limit, max_windows)
        cut += n_cut
        pieces = [text[a:b] for text, s in zip(part, spans) for a, b, _ in s]  # a text that fits: itself
        flat, row = np.asarray(encode(pieces), dtype=np.float32), 0
        for s in spans:
            block = flat[row:row + len(s)]
            row += len(s)
            windows.append(len(s))
            vectors.append(block[0] if len(s) == 1 else _weighted_mean(block, [n for _, _, n in s]))
    dim = len(vectors[0]) if vectors else 0
    return WholeTexts(np.array(vectors, dtype=np.float32).reshape(len(texts), dim), np.array(windows, dtype=np.int64),
                      cut)


def window_texts(tokenizer, texts: Sequence[str], limit: int, max_windows: int = MAX_WINDOWS
                 ) -> tuple[list[str], np.ndarray]:
    """(pieces, owner): every window of every text as a text of its own (a text that fits: itself), and the text
    each came from; what a model trains on to learn from the whole of long texts."""
    spans, _ = text_windows(tokenizer, [str(t) for t in texts], limit, max_windows)
    pieces = [str(text)[a:b] for text, s in zip(texts, spans) for a, b, _ in s]
    return pieces, np.repeat(np.arange(len(texts)), [len(s) for s in spans])


def _weighted_mean(block: np.ndarray, pieces: list[int]) -> np.ndarray:
    """The windows' mean weighted by their word pieces, rescaled to the windows' mean length."""
    w = np.array(pieces, dtype=np.float64)
    v = (w[:, None] * block.astype(np.float64)).sum(axis=0) / w.sum()
    scale = float(np.linalg.norm(block.astype(np.float64), axis=1).mean())
    return (v * scale / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def encode_sentences(model, texts: Sequence[str], max_windows: int = MAX_WINDOWS, **encode) -> np.ndarray:
    """A SentenceTransformer's (N, dim) vectors of ``texts``, each read whole: the texts that fit its
    ``max_seq_length`` encoded as they are (in one call, as plain encoding does: ``model.encode(texts, **encode)``),
    the others by ``encode_whole``."""
    texts = [str(t) for t in texts]

    def plain(xs: list[str]) -> np.ndarray:
        return np.asarray(model.encode(xs, show_progress_bar=False, **encode), dtype=np.float32)

    limit = int(model.max_seq_length)
    counts = [len(ids) for ids in model.tokenizer(texts, add_special_tokens=True, verbose=False)["input_ids"]]
    long = np.array(counts, dtype=np.int64) > limit
    if not long.any():
        return plain(texts)
    read = encode_whole(plain, model.tokenizer, [t for t, w in zip(texts, long) if w], limit, max_windows).vectors
    out = np.empty((len(texts), read.shape[1]), dtype=np.float32)
    out[long] = read
    if not long.all():
        out[~long] = plain([t for t, w in zip(texts, long) if not w])
    return out
