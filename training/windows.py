"""Long texts read whole: a text past a sentence encoder's token limit is cut into consecutive windows that each
fit, every window is encoded, and the text's vector is the windows' mean weighted by their word pieces (rescaled to
the windows' mean length, so a unit-norm encoder still gives unit vectors). A text that fits is encoded as it is:
its vector is the one plain encoding gives, to the bit.

Windows end where a word ends (never inside a word's pieces) when one ends in the window's last quarter. At most
``max_windows`` windows are read per text; what lies past them is left out (``WholeTexts.cut`` counts such texts).
The embedding signal (``labeler.signals.embedding``) and a ``logreg`` run's frozen body
(``training.setfit_backend.FrozenBodyClassifier``) both encode this way, so their vectors agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

MAX_WINDOWS = 32  # per text: 32 windows of MiniLM's 254 pieces read about 8,000 word pieces (30,000 characters)


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


def encode_whole(encode: Callable[[list[str]], np.ndarray], tokenizer, texts: Sequence[str], limit: int,
                 max_windows: int = MAX_WINDOWS) -> WholeTexts:
    """Vectors of ``texts`` read whole. ``encode(texts) -> (N, dim)``: the encoder truncating at ``limit`` word
    pieces, special tokens included; ``tokenizer``: its (fast) tokenizer, for the pieces' character offsets."""
    texts = [str(t) for t in texts]
    size = max(limit - 2, 1)  # [CLS] and [SEP]
    pieces, spans, cut = [], [], 0
    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    for text, offsets in zip(texts, enc["offset_mapping"]):
        if len(offsets) <= size:
            spans.append([(0, len(text), max(len(offsets), 1))])
            pieces.append(text)
            continue
        s, was_cut = window_spans(offsets, size, max_windows)
        cut += was_cut
        spans.append(s)
        pieces.extend(text[a:b] for a, b, _ in s)
    flat = np.asarray(encode(pieces), dtype=np.float32)
    out, windows, row = np.empty((len(texts), flat.shape[1] if len(flat) else 0), dtype=np.float32), [], 0
    for i, s in enumerate(spans):
        block = flat[row:row + len(s)]
        row += len(s)
        windows.append(len(s))
        if len(s) == 1:
            out[i] = block[0]
            continue
        w = np.array([n for _, _, n in s], dtype=np.float64)
        v = (w[:, None] * block.astype(np.float64)).sum(axis=0) / w.sum()
        scale = float(np.linalg.norm(block.astype(np.float64), axis=1).mean())
        out[i] = (v * scale / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
    return WholeTexts(out, np.array(windows, dtype=np.int64), cut)


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
